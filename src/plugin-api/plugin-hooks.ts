// Hooks a plugin definition may declare (the reference's ProcessPluginDeploymentListener and
// FhirResourceModifier beans).
import type {
  ActivityDefinition,
  CodeSystem,
  Library,
  Measure,
  NamingSystem,
  Questionnaire,
  Resource,
  StructureDefinition,
  Task,
  ValueSet,
} from '@medplum/fhirtypes';

/**
 * Told after every deployment which of the plugin's processes (process ids) are active (ACTIVE or
 * DRAFT, not retired or excluded), e.g. to test a connection the active processes need. Errors are
 * logged, not fatal.
 */
export interface ProcessPluginDeploymentListener {
  onProcessesDeployed(processIds: string[]): void | Promise<void>;
}

/**
 * Changes a plugin's FHIR resources while the plugin loads, after placeholders are resolved and
 * before the checks and the upload to the FHIR server. Several modifiers are chained in the order
 * declared; each method gets the file name (as in fhirResources) and returns the resource to use.
 * Changes that depend on the environment need a clean redeployment to take effect everywhere: use
 * with care, few changes keep a plugin compatible across sites.
 */
export interface FhirResourceModifier {
  modifyActivityDefinition?(filename: string, resource: ActivityDefinition): ActivityDefinition;
  modifyCodeSystem?(filename: string, resource: CodeSystem): CodeSystem;
  modifyLibrary?(filename: string, resource: Library): Library;
  modifyMeasure?(filename: string, resource: Measure): Measure;
  modifyNamingSystem?(filename: string, resource: NamingSystem): NamingSystem;
  modifyQuestionnaire?(filename: string, resource: Questionnaire): Questionnaire;
  modifyStructureDefinition?(filename: string, resource: StructureDefinition): StructureDefinition;
  modifyTask?(filename: string, resource: Task): Task;
  modifyValueSet?(filename: string, resource: ValueSet): ValueSet;
}

/** A modifier that changes nothing: extend it and override what you need. */
export abstract class AbstractFhirResourceModifier implements FhirResourceModifier {
  modifyActivityDefinition(_filename: string, resource: ActivityDefinition): ActivityDefinition {
    return resource;
  }
  modifyCodeSystem(_filename: string, resource: CodeSystem): CodeSystem {
    return resource;
  }
  modifyLibrary(_filename: string, resource: Library): Library {
    return resource;
  }
  modifyMeasure(_filename: string, resource: Measure): Measure {
    return resource;
  }
  modifyNamingSystem(_filename: string, resource: NamingSystem): NamingSystem {
    return resource;
  }
  modifyQuestionnaire(_filename: string, resource: Questionnaire): Questionnaire {
    return resource;
  }
  modifyStructureDefinition(_filename: string, resource: StructureDefinition): StructureDefinition {
    return resource;
  }
  modifyTask(_filename: string, resource: Task): Task {
    return resource;
  }
  modifyValueSet(_filename: string, resource: ValueSet): ValueSet {
    return resource;
  }
}

/** Runs the modifiers in order on one resource (by its type); other types pass unchanged. */
export function applyFhirResourceModifiers(modifiers: readonly FhirResourceModifier[], filename: string, resource: Resource): Resource {
  const method = `modify${resource.resourceType}` as keyof FhirResourceModifier;
  let current = resource;
  for (const m of modifiers) {
    const fn = m[method] as ((f: string, r: Resource) => Resource) | undefined;
    if (typeof fn !== 'function') continue;
    const next = fn.call(m, filename, current);
    if (!next || typeof next !== 'object' || next.resourceType !== resource.resourceType) throw new TypeError(`${method} of a FhirResourceModifier returned no ${resource.resourceType}`);
    current = next;
  }
  return current;
}

/** A setting of the plugin read from the environment (the reference's @Value properties, documented by @ProcessDocumentation). */
export interface PluginProperty {
  description?: string;
  /** The plugin is refused when a required property has no value. */
  required?: boolean;
  default?: string;
  example?: string;
  recommendation?: string;
}

/** The values of the plugin's declared properties: `some.property` from SOME_PROPERTY (or its default). */
export interface PluginProperties {
  get(name: string): string | undefined;
}
