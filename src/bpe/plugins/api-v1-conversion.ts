// The changes the reference's BPE 2.x makes to the FHIR resources of a process plugin written for its
// process plugin API v1 (DSF 1.x), before checking and deploying them, so those files load unchanged:
// - ActivityDefinition, CodeSystem, ValueSet: the DSF profile is declared (first), a DSF 1.x
//   versioned one (`…|1.0.0`) becomes the unversioned one.
// - Library, Measure, NamingSystem: the DSF profile is declared (first).
// - StructureDefinition: the DSF profile is declared (first); a Task profile based on task-base
//   (`task-base`, `task-base|1.0.0`) is based on `task`; differential bindings to the DSF core
//   terminology pinned to 1.0.0/2.0.0 lose the version.
// - Questionnaire: a versioned DSF profile (|1.0.0, |1.5.0) becomes the unversioned one (none is added);
//   items without `required` get it: true for business-key and user-task-id, false otherwise.
// - Task (draft Tasks): unchanged.
// Profiles without a value are dropped, and duplicates after the change (as the reference does).
import type { Questionnaire, QuestionnaireItem, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { DSF_PROFILES, TASK_BASE_DEFINITIONS, VERSIONED_CORE_BINDINGS } from './resource-checks.ts';

export type PluginApiVersion = 1 | 2;

const TASK = 'http://dsf.dev/fhir/StructureDefinition/task';

/** Per type: the profile declared first (if any) and the DSF 1.x profiles replaced by the unversioned one. */
const PROFILE_RULES: Readonly<Record<string, { declare: boolean; replaced: readonly string[] }>> = {
  ActivityDefinition: { declare: true, replaced: ['1.0.0'] },
  CodeSystem: { declare: true, replaced: ['1.0.0'] },
  Library: { declare: true, replaced: [] },
  Measure: { declare: true, replaced: [] },
  NamingSystem: { declare: true, replaced: [] },
  Questionnaire: { declare: false, replaced: ['1.0.0', '1.5.0'] },
  StructureDefinition: { declare: true, replaced: [] },
  ValueSet: { declare: true, replaced: ['1.0.0'] },
};

/** A copy of an API v1 plugin's resource as the reference's BPE converts it; other types come back as they are. */
export function convertApiV1Resource<T extends Resource>(resource: T): T {
  const rule = PROFILE_RULES[resource.resourceType];
  if (!rule) return resource;
  const copy = structuredClone(resource) as T & { meta?: Record<string, unknown> };
  const profile = DSF_PROFILES[resource.resourceType]!;
  const old = ((copy.meta?.profile as unknown[] | undefined) ?? []).filter((p): p is string => typeof p === 'string' && p !== '');
  const renamed = old.map((p) => (rule.replaced.some((v) => p === `${profile}|${v}`) ? profile : p));
  const profiles = [...new Set(rule.declare ? [profile, ...renamed] : renamed)];
  const meta: Record<string, unknown> = { ...(copy.meta ?? {}) };
  delete meta._profile; // extensions of dropped or renamed profile values do not survive (the reference keeps values only)
  if (profiles.length) meta.profile = profiles;
  else delete meta.profile;
  if (Object.keys(meta).length) copy.meta = meta;
  else delete copy.meta;

  if (copy.resourceType === 'StructureDefinition') convertStructureDefinition(copy as StructureDefinition);
  if (copy.resourceType === 'Questionnaire') setRequired((copy as Questionnaire).item);
  return copy;
}

function convertStructureDefinition(sd: StructureDefinition): void {
  if (sd.baseDefinition && TASK_BASE_DEFINITIONS.includes(sd.baseDefinition)) sd.baseDefinition = TASK;
  for (const element of sd.differential?.element ?? []) {
    const valueSet = element.binding?.valueSet;
    if (valueSet && VERSIONED_CORE_BINDINGS.has(valueSet)) element.binding!.valueSet = valueSet.slice(0, valueSet.indexOf('|'));
  }
}

/**
 * Items with linkId and type, other than display, and without `required`: business-key and
 * user-task-id become required, others not. As in the reference, the walk goes down only into the
 * children of items it changed.
 */
function setRequired(items: QuestionnaireItem[] | undefined): void {
  for (const item of items ?? []) {
    if (!item.linkId || !item.type || item.type === 'display' || typeof item.required === 'boolean') continue;
    item.required = item.linkId === 'business-key' || item.linkId === 'user-task-id';
    setRequired(item.item);
  }
}
