// A process plugin is a folder with an ESM module whose default export is a ProcessPluginDefinition.
// Files (BPMN, FHIR resources) are named relative to that folder.
import type { ActivityClass } from './activities.ts';
import type { License } from './license.ts';
import type { FhirResourceModifier, PluginProperty, ProcessPluginDeploymentListener } from './plugin-hooks.ts';

export type { License };

export interface ProcessPluginDefinition {
  name: string;
  /** a.b.c.d; a suffix -SNAPSHOT, -M<n> or -RC<n> makes the plugin a draft. */
  version: string;
  /** a.b (the first two parts of version unless given); BPMN version tags and resource versions must equal it. */
  resourceVersion?: string;
  /** yyyy-mm-dd */
  releaseDate: string;
  /** yyyy-mm-dd, replaces #{date}; the release date unless given. */
  resourceReleaseDate?: string;
  title?: string;
  publisher?: string;
  publisherEmail?: string;
  license?: License;
  /**
   * The reference's process plugin API the plugin's BPMN and FHIR files were written for (default 2).
   * 1 (DSF 1.x files, e.g. Task profiles based on task-base, no DSF profiles declared): the BPE
   * converts the FHIR resources as the reference's BPE 2.x does before checking and deploying them,
   * and applies the v1 checks (any service/message activity at any service/send/throw/end element).
   * The activities are this API's classes either way; the BPMN is used unchanged.
   */
  apiVersion?: 1 | 2;
  /** Draft plugins deploy their FHIR resources with status draft and are redeployed on every start. */
  draft?: boolean;
  /** BPMN files, one process each. */
  processModels: readonly string[];
  /**
   * FHIR resources per process id (domainNoDots_name): ActivityDefinition, CodeSystem, Library, Measure,
   * NamingSystem, Questionnaire, StructureDefinition, draft Task, ValueSet; .json or .xml files.
   */
  fhirResources: Readonly<Record<string, readonly string[]>>;
  /** camunda:class name used in the BPMN -> the activity class implementing it. */
  activities: Readonly<Record<string, ActivityClass>>;
  /** Told after each deployment which of the plugin's processes are active. */
  deploymentListeners?: readonly ProcessPluginDeploymentListener[];
  /** Change the plugin's FHIR resources before they are checked and stored (chained in this order). */
  fhirResourceModifiers?: readonly FhirResourceModifier[];
  /**
   * Settings of the plugin, read from the environment: `some.property` from SOME_PROPERTY (activities
   * read them through api.properties). A required property without value refuses the plugin.
   */
  properties?: Readonly<Record<string, PluginProperty>>;
}

/** Identity function that gives a plugin's default export its type. */
export function definePlugin(definition: ProcessPluginDefinition): ProcessPluginDefinition {
  return definition;
}

export const PLUGIN_VERSION_PATTERN = /^(?<resourceVersion>\d+\.\d+)\.\d+\.\d+$/;
const DRAFT_SUFFIX = /-(SNAPSHOT|M\d+|RC\d+)$/;

/** The version without a draft suffix, and whether it had one. */
export function splitDraftSuffix(version: string): { version: string; draft: boolean } {
  const m = DRAFT_SUFFIX.exec(version);
  return m ? { version: version.slice(0, m.index), draft: true } : { version, draft: false };
}
