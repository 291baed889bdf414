// A plugin that passed every check: its processes (BPMN with placeholders resolved) and the FHIR
// resources of each process, ready to deploy.
import type { Resource } from '@medplum/fhirtypes';
import type { ProcessModel } from '../engine/index.ts';
import type { PluginApiVersion } from './api-v1-conversion.ts';
import type { ActivityClass, ProcessPluginDefinition } from '../../plugin-api/index.ts';

export interface PluginProcess {
  processId: string;
  /** The version tag = the plugin's resource version. */
  version: string;
  file: string;
  xml: string;
  model: ProcessModel;
}

export interface PluginResource {
  file: string;
  resource: Resource;
}

export interface LoadedPlugin {
  folder: string;
  definition: ProcessPluginDefinition;
  name: string;
  /** a.b.c.d without a draft suffix. */
  version: string;
  resourceVersion: string;
  releaseDate: string;
  resourceReleaseDate: string;
  draft: boolean;
  /** The reference API the plugin's files were written for (its FHIR resources are stored converted). */
  apiVersion: PluginApiVersion;
  processes: PluginProcess[];
  /** FHIR resources by process id. */
  resources: Map<string, PluginResource[]>;
  activities: ReadonlyMap<string, ActivityClass>;
}

/** name-version, how problems and logs name a plugin. */
export function pluginLabel(p: { name: string; version: string }): string {
  return `${p.name}-${p.version}`;
}

export const processKey = (processId: string, version: string) => `${processId}|${version}`;
