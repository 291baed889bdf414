// Finds plugin folders, imports each plugin's definition (TypeScript through our loader, bin/ts-loader.mjs, or plain .js/.mjs),
// reads its BPMN and FHIR files with placeholders resolved, and runs the reference's checks. A plugin
// with any problem is refused as a whole, every problem naming the plugin, the file and the rule;
// the others load.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { parseBpmn, type ProcessModel } from '../engine/index.ts';
import { checkJsonShape, parseFhirJson } from '../../fhir/model/json-parse.ts';
import { parseFhirXml } from '../../fhir/model/xml-parse.ts';
import {
  applyFhirResourceModifiers,
  PLUGIN_VERSION_PATTERN,
  splitDraftSuffix,
  type ActivityClass,
  type FhirResourceModifier,
  type ProcessPluginDefinition,
} from '../../plugin-api/index.ts';
import { convertApiV1Resource, type PluginApiVersion } from './api-v1-conversion.ts';
import { builtInActivities } from './built-in-activities.ts';
import { checkPluginProperties } from './plugin-properties.ts';
import { checkProcessModel } from './bpmn-checks.ts';
import { pluginLabel, processKey, type LoadedPlugin, type PluginProcess, type PluginResource } from './loaded-plugin.ts';
import { resolvePlaceholders, type PlaceholderValues } from './placeholders.ts';
import { checkDraftTaskOfProcess, checkResource, processIdOfActivityDefinition } from './resource-checks.ts';

export interface PluginRefusal {
  folder: string;
  /** name-version when the definition could be read. */
  plugin: string | undefined;
  problems: string[];
}

export interface PluginLoadResult {
  plugins: LoadedPlugin[];
  refused: PluginRefusal[];
}

export interface LoadContext {
  organizationIdentifier: string | undefined;
  env: Record<string, string | undefined>;
}

const ENTRY_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function describeRefusal(r: PluginRefusal): string {
  return `Process plugin ${r.plugin ?? '?'} from ${r.folder} refused:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`;
}

/** Plugin folders: every sub-folder of each directory that has an entry module (sorted by name). */
export function pluginFolders(directories: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of directories) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const folder = resolve(dir, name);
      if (statSync(folder).isDirectory() && entryOf(folder)) out.push(folder);
    }
  }
  return out;
}

function entryOf(folder: string): string | undefined {
  const pkgFile = join(folder, 'package.json');
  if (existsSync(pkgFile)) {
    try {
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: string; exports?: unknown };
      const main = typeof pkg.exports === 'string' ? pkg.exports : pkg.main;
      if (main && existsSync(join(folder, main))) return join(folder, main);
    } catch {
      // an unreadable package.json: fall back to the index files
    }
  }
  return ENTRY_FILES.map((f) => join(folder, f)).find((f) => existsSync(f));
}

export async function loadPlugins(directories: readonly string[], ctx: LoadContext): Promise<PluginLoadResult> {
  const result: PluginLoadResult = { plugins: [], refused: [] };
  const seen = new Map<string, string>(); // processId|version -> plugin label
  for (const folder of pluginFolders(directories)) {
    const outcome = await loadPlugin(folder, ctx);
    if ('problems' in outcome) {
      result.refused.push(outcome);
      continue;
    }
    const clashes = outcome.processes.map((p) => processKey(p.processId, p.version)).filter((k) => seen.has(k));
    if (clashes.length) {
      result.refused.push({
        folder,
        plugin: pluginLabel(outcome),
        problems: clashes.map((k) => `process ${k} is already deployed by plugin ${seen.get(k)}`),
      });
      continue;
    }
    for (const p of outcome.processes) seen.set(processKey(p.processId, p.version), pluginLabel(outcome));
    result.plugins.push(outcome);
  }
  return result;
}

export async function loadPlugin(folder: string, ctx: LoadContext): Promise<LoadedPlugin | PluginRefusal> {
  const entry = entryOf(folder);
  if (!entry) return { folder, plugin: undefined, problems: [`no entry module (package.json main, or ${ENTRY_FILES.join(', ')})`] };
  let definition: ProcessPluginDefinition;
  try {
    const mod = (await import(pathToFileURL(entry).href)) as { default?: ProcessPluginDefinition };
    if (!mod.default || typeof mod.default !== 'object') return { folder, plugin: undefined, problems: [`${entry}: no default export with the plugin definition`] };
    definition = mod.default;
  } catch (e) {
    return { folder, plugin: undefined, problems: [`${entry}: cannot be imported: ${(e as Error).message}`] };
  }
  return checkPlugin(folder, definition, ctx);
}

/** Every check of one plugin; the plugin loads only without a single problem. */
export async function checkPlugin(folder: string, definition: ProcessPluginDefinition, ctx: LoadContext): Promise<LoadedPlugin | PluginRefusal> {
  const problems: string[] = [];
  const { version, draft: draftSuffix } = splitDraftSuffix(String(definition.version ?? ''));
  const label = `${definition.name ?? '?'}-${definition.version ?? '?'}`;
  const refuse = (): PluginRefusal => ({ folder, plugin: label, problems });

  if (typeof definition.name !== 'string' || !definition.name.trim()) problems.push('definition: name is missing or blank');
  const versionMatch = PLUGIN_VERSION_PATTERN.exec(version);
  if (!versionMatch) problems.push(`definition: version '${definition.version ?? ''}' does not match a.b.c.d (optionally -SNAPSHOT, -M<n>, -RC<n>)`);
  const resourceVersion = definition.resourceVersion ?? versionMatch?.groups?.resourceVersion ?? '';
  if (!/^\d+\.\d+$/.test(resourceVersion)) problems.push(`definition: resource version '${resourceVersion}' does not match a.b`);
  if (!isDate(definition.releaseDate)) problems.push(`definition: release date '${definition.releaseDate ?? ''}' is not a date yyyy-mm-dd`);
  const resourceReleaseDate = definition.resourceReleaseDate ?? definition.releaseDate;
  if (definition.resourceReleaseDate !== undefined && !isDate(definition.resourceReleaseDate)) problems.push(`definition: resource release date '${definition.resourceReleaseDate}' is not a date yyyy-mm-dd`);
  if (!Array.isArray(definition.processModels) || definition.processModels.length === 0) problems.push('definition: processModels is empty');
  if (!definition.fhirResources || typeof definition.fhirResources !== 'object' || Object.keys(definition.fhirResources).length === 0) problems.push('definition: fhirResources is empty');
  if (!definition.activities || typeof definition.activities !== 'object') problems.push('definition: activities is missing');
  const apiVersion: PluginApiVersion = definition.apiVersion ?? 2;
  if (apiVersion !== 1 && apiVersion !== 2) problems.push(`definition: apiVersion ${JSON.stringify(definition.apiVersion)} is not 1 or 2`);
  if (problems.length) return refuse();

  // The reference's classes BPMN files name directly (e.g. its DefaultUserTaskListener) map to ours unless the plugin maps them itself.
  const activities = new Map<string, ActivityClass>([...Object.entries(builtInActivities(apiVersion)), ...Object.entries(definition.activities)]);
  for (const [name, cls] of activities) {
    if (typeof cls !== 'function' || typeof (cls as { activityKind?: unknown }).activityKind !== 'string') problems.push(`definition: activity '${name}' is not a class extending one of the plugin API's activities`);
  }
  problems.push(...checkPluginProperties(definition.properties, ctx.env));
  const modifiers: FhirResourceModifier[] = [...(definition.fhirResourceModifiers ?? [])];
  if (modifiers.some((m) => !m || typeof m !== 'object')) problems.push('definition: fhirResourceModifiers must be objects implementing FhirResourceModifier');
  if ((definition.deploymentListeners ?? []).some((l) => typeof l?.onProcessesDeployed !== 'function')) problems.push('definition: deploymentListeners must have onProcessesDeployed(processIds)');
  const values: PlaceholderValues = { resourceVersion, resourceReleaseDate, organizationIdentifier: ctx.organizationIdentifier, env: ctx.env };
  const readFile = (file: string): string | undefined => {
    const path = resolve(folder, file);
    if (!path.startsWith(resolve(folder))) {
      problems.push(`${file}: outside the plugin folder`);
      return undefined;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      problems.push(`${file}: not readable: ${(e as Error).message}`);
      return undefined;
    }
    const resolved = resolvePlaceholders(text, values);
    for (const m of resolved.missing) problems.push(`${file}: placeholder ${m} cannot be resolved`);
    return resolved.missing.length ? undefined : resolved.text;
  };

  // BPMN
  const processes: PluginProcess[] = [];
  for (const file of definition.processModels) {
    if (!file.endsWith('.bpmn')) {
      problems.push(`${file}: a process model file must end in .bpmn`);
      continue;
    }
    const xml = readFile(file);
    if (xml === undefined) continue;
    let models: ProcessModel[];
    try {
      models = await parseBpmn(xml);
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    if (models.length !== 1) {
      problems.push(`${file}: contains ${models.length} processes, expected 1`);
      continue;
    }
    const model = models[0]!;
    for (const p of checkProcessModel(model, resourceVersion, activities, apiVersion)) problems.push(`${file}: ${p}`);
    if (processes.some((p) => p.processId === model.id)) problems.push(`${file}: process ${model.id} is defined twice in the plugin`);
    processes.push({ processId: model.id, version: model.versionTag ?? '', file, xml, model });
  }

  // FHIR resources (their process ids are checked only when every BPMN file could be read)
  const bpmnComplete = processes.length === definition.processModels.length;
  const resources = new Map<string, PluginResource[]>();
  const parsed = new Map<string, Resource | undefined>();
  for (const [processId, files] of Object.entries(definition.fhirResources)) {
    if (bpmnComplete && !processes.some((p) => p.processId === processId)) problems.push(`fhirResources: '${processId}' is not a process of this plugin`);
    const list: PluginResource[] = [];
    for (const file of files) {
      if (!parsed.has(file)) parsed.set(file, readResource(file, readFile, problems, resourceVersion, ctx.organizationIdentifier, modifiers, apiVersion));
      const resource = parsed.get(file);
      if (!resource) continue;
      if (resource.resourceType === 'Task') for (const p of checkDraftTaskOfProcess(resource, processId, resourceVersion)) problems.push(`${file}: ${p}`);
      list.push({ file, resource });
    }
    resources.set(processId, list);
  }
  for (const p of processes) {
    const list = resources.get(p.processId) ?? [];
    const ads = list.filter((r) => r.resource.resourceType === 'ActivityDefinition');
    if (ads.length !== 1) {
      problems.push(`${p.file}: process ${p.processId} needs exactly one ActivityDefinition among its FHIR resources, found ${ads.length}`);
      continue;
    }
    const adProcess = processIdOfActivityDefinition(ads[0]!.resource);
    if (adProcess && adProcess !== p.processId) problems.push(`${ads[0]!.file}: ActivityDefinition.url '${(ads[0]!.resource as { url?: string }).url}' does not match process id '${p.processId}'`);
  }
  if (problems.length) return refuse();
  return {
    folder,
    definition,
    name: definition.name,
    version,
    resourceVersion,
    releaseDate: definition.releaseDate,
    resourceReleaseDate,
    draft: draftSuffix || definition.draft === true,
    apiVersion,
    processes,
    resources,
    activities,
  };
}

function isDate(v: unknown): v is string {
  return typeof v === 'string' && DATE.test(v) && !Number.isNaN(Date.parse(v));
}

function readResource(
  file: string,
  readFile: (file: string) => string | undefined,
  problems: string[],
  resourceVersion: string,
  organizationIdentifier: string | undefined,
  modifiers: readonly FhirResourceModifier[],
  apiVersion: PluginApiVersion,
): Resource | undefined {
  const isJson = file.endsWith('.json');
  if (!isJson && !file.endsWith('.xml')) {
    problems.push(`${file}: a FHIR resource file must end in .json or .xml`);
    return undefined;
  }
  const text = readFile(file);
  if (text === undefined) return undefined;
  let resource: Resource;
  try {
    resource = isJson ? parseFhirJson(text) : parseFhirXml(text);
    if (isJson) {
      const issues = checkJsonShape(resource);
      if (issues.length) {
        problems.push(`${file}: not a valid FHIR resource: ${issues.map((i) => `${i.expression?.[0] ?? ''} ${i.diagnostics ?? ''}`.trim()).join('; ')}`);
        return undefined;
      }
    }
  } catch (e) {
    problems.push(`${file}: not parseable: ${(e as Error).message}`);
    return undefined;
  }
  try {
    // As the reference: the plugin's modifiers see the resource before the checks.
    resource = applyFhirResourceModifiers(modifiers, file, resource);
  } catch (e) {
    problems.push(`${file}: FhirResourceModifier failed: ${(e as Error).message}`);
    return undefined;
  }
  // As the reference's BPE 2.x: an API v1 plugin's resources are converted after its modifiers, before the checks.
  if (apiVersion === 1) resource = convertApiV1Resource(resource);
  const own = checkResource(resource, resourceVersion, organizationIdentifier);
  for (const p of own) problems.push(`${file}: ${p}`);
  return own.length ? undefined : resource;
}
