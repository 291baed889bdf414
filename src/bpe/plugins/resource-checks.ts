// The reference's checks of a plugin's FHIR resources: allowed types, the DSF profile of each type,
// url + version (= resource version) on metadata resources, ActivityDefinition url form, NamingSystem
// name, Questionnaire items with `required`, StructureDefinitions not based on task-base and without
// version-pinned bindings to the DSF core terminology, and draft Tasks (identifier, status, local requester and
// recipient, instantiatesCanonical of their own process, one message-name input, no output).
import type { Resource } from '@medplum/fhirtypes';
import {
  ACTIVITY_DEFINITION_URL_PATTERN,
  BpmnMessage,
  INSTANTIATES_CANONICAL_PATTERN,
  ORGANIZATION_IDENTIFIER_SID,
  processIdOf,
  TASK_IDENTIFIER_SID,
} from '../../plugin-api/index.ts';

export const ALLOWED_RESOURCE_TYPES = ['ActivityDefinition', 'CodeSystem', 'Library', 'Measure', 'NamingSystem', 'Questionnaire', 'StructureDefinition', 'Task', 'ValueSet'] as const;

/** The DSF profile each allowed metadata type must declare. */
export const DSF_PROFILES: Readonly<Record<string, string>> = {
  ActivityDefinition: 'http://dsf.dev/fhir/StructureDefinition/activity-definition',
  CodeSystem: 'http://dsf.dev/fhir/StructureDefinition/code-system',
  Library: 'http://dsf.dev/fhir/StructureDefinition/library',
  Measure: 'http://dsf.dev/fhir/StructureDefinition/measure',
  NamingSystem: 'http://dsf.dev/fhir/StructureDefinition/naming-system',
  Questionnaire: 'http://dsf.dev/fhir/StructureDefinition/questionnaire',
  StructureDefinition: 'http://dsf.dev/fhir/StructureDefinition/structure-definition',
  ValueSet: 'http://dsf.dev/fhir/StructureDefinition/value-set',
};
/** DSF 1.x's Task base profile, which DSF 2 replaced by task. */
export const TASK_BASE_DEFINITIONS: readonly string[] = ['http://dsf.dev/fhir/StructureDefinition/task-base', 'http://dsf.dev/fhir/StructureDefinition/task-base|1.0.0'];

/**
 * Bindings the reference refuses: the DSF core terminology of DSF 1.x/2.0 pinned to a version (a plugin's
 * own ValueSets may be bound with their version, e.g. http://dsf.dev/fhir/ValueSet/ping|1.0).
 */
export const VERSIONED_CORE_BINDINGS: ReadonlySet<string> = new Set(
  ['bpmn-message', 'organization-role', 'practitioner-role', 'process-authorization', 'read-access-tag'].flatMap((name) =>
    ['1.0.0', '2.0.0'].map((version) => `http://dsf.dev/fhir/CodeSystem/${name}|${version}`),
  ),
);

type Json = Record<string, any>;

/** Problems of one resource on its own (process-independent rules). */
export function checkResource(resource: Resource, resourceVersion: string, localOrganization: string | undefined): string[] {
  const r = resource as Json;
  const type = r.resourceType as string;
  if (!(ALLOWED_RESOURCE_TYPES as readonly string[]).includes(type)) {
    return [`${type} is not allowed; a plugin may contain ${ALLOWED_RESOURCE_TYPES.join(', ')}`];
  }
  if (type === 'Task') return checkDraftTask(r, localOrganization);
  const problems: string[] = [];
  const profiles: string[] = r.meta?.profile ?? [];
  if (!profiles.includes(DSF_PROFILES[type]!)) problems.push(`${DSF_PROFILES[type]} not declared as profile`);
  if (type === 'NamingSystem') {
    if (!r.name) problems.push('NamingSystem.name empty');
    return problems;
  }
  if (!r.url) problems.push(`${type}.url empty`);
  if (!r.version) problems.push(`${type}.version empty`);
  else if (r.version !== resourceVersion) problems.push(`${type}.version not equal to ${resourceVersion} but ${r.version}`);
  if (type === 'ActivityDefinition' && r.url && !ACTIVITY_DEFINITION_URL_PATTERN.test(r.url)) {
    problems.push(`ActivityDefinition.url '${r.url}' does not match http(s)://domain/bpe/Process/name`);
  }
  if (type === 'Questionnaire' && !itemsHaveRequired(r.item)) problems.push('Questionnaire has items without the required property');
  if (type === 'StructureDefinition') {
    if (TASK_BASE_DEFINITIONS.includes(r.baseDefinition)) problems.push(`StructureDefinition.baseDefinition ${r.baseDefinition} not allowed`);
    if (!r.differential?.element?.length) problems.push('StructureDefinition has no differential');
    const versioned = (r.differential?.element ?? [])
      .map((e: Json) => e.binding?.valueSet as string | undefined)
      .filter((v: unknown): v is string => typeof v === 'string' && VERSIONED_CORE_BINDINGS.has(v));
    if (versioned.length) problems.push(`StructureDefinition has DSF ValueSet bindings with version: ${[...new Set(versioned)].join(', ')}`);
  }
  return problems;
}

/** Every answerable item states `required`; business-key and user-task-id are required. */
function itemsHaveRequired(items: Json[] | undefined): boolean {
  return (items ?? [])
    .filter((i) => i.linkId && i.type && i.type !== 'display')
    .every((i) => (i.linkId === 'business-key' || i.linkId === 'user-task-id' ? i.required === true : typeof i.required === 'boolean') && itemsHaveRequired(i.item));
}

function checkLocalReference(ref: Json | undefined, where: string, local: string | undefined): string[] {
  if (!ref) return [`Task.${where} not defined`];
  if (local === undefined) return [`Task.${where}: the local organization identifier is unknown`];
  const problems: string[] = [];
  if (ref.type !== 'Organization') problems.push(`Task.${where}.type not 'Organization'`);
  if (ref.identifier?.system !== ORGANIZATION_IDENTIFIER_SID) problems.push(`Task.${where}.identifier.system not '${ORGANIZATION_IDENTIFIER_SID}'`);
  if (ref.identifier?.value !== local) problems.push(`Task.${where}.identifier.value not '${local}'`);
  return problems;
}

function checkDraftTask(t: Json, local: string | undefined): string[] {
  const problems: string[] = [];
  if (!(t.meta?.profile ?? []).length) problems.push('Task: no profile specified');
  const identifier = (t.identifier ?? []).find((i: Json) => i.system === TASK_IDENTIFIER_SID);
  if (!identifier) problems.push(`Task: no identifier with system '${TASK_IDENTIFIER_SID}'`);
  else if (!identifier.value || String(identifier.value).includes('|')) problems.push(`Task: identifier with system '${TASK_IDENTIFIER_SID}' has no value, or its value contains |`);
  if (t.status !== 'draft') problems.push("Task.status not 'draft'");
  problems.push(...checkLocalReference(t.requester, 'requester', local));
  const recipients: Json[] = t.restriction?.recipient ?? [];
  problems.push(...checkLocalReference(recipients[0], 'restriction.recipient', local));
  if (!INSTANTIATES_CANONICAL_PATTERN.test(t.instantiatesCanonical ?? '')) problems.push('Task.instantiatesCanonical does not match http(s)://domain/bpe/Process/name|a.b');
  const messageNames = (t.input ?? []).filter((i: Json) => (i.type?.coding ?? []).some((c: Json) => c.system === BpmnMessage.system && c.code === BpmnMessage.messageName));
  if (messageNames.length !== 1) problems.push(`Task: one input parameter with ${BpmnMessage.system}|${BpmnMessage.messageName} expected`);
  if ((t.output ?? []).length) problems.push('Task.output not empty');
  return problems;
}

/** A draft Task must instantiate the process it is listed under, in this version, and have an identifier under its URL. */
export function checkDraftTaskOfProcess(task: Resource, processId: string, resourceVersion: string): string[] {
  const t = task as Json;
  const m = INSTANTIATES_CANONICAL_PATTERN.exec(t.instantiatesCanonical ?? '');
  if (!m?.groups) return []; // reported by checkResource
  const problems: string[] = [];
  const { domain, processName, processVersion, processUrl } = m.groups as Record<string, string>;
  if (processIdOf(domain!, processName!) !== processId) problems.push(`Task.instantiatesCanonical '${t.instantiatesCanonical}' does not match process id '${processId}'`);
  if (processVersion !== resourceVersion) problems.push(`Task.instantiatesCanonical '${t.instantiatesCanonical}' does not match resource version '${resourceVersion}'`);
  const value: string = (t.identifier ?? []).find((i: Json) => i.system === TASK_IDENTIFIER_SID)?.value ?? '';
  const prefix = `${processUrl}/${processVersion}/`;
  if (!value.startsWith(prefix)) problems.push(`Task.identifier.value '${value}' does not start with '${prefix}'`);
  return problems;
}

/** The process id an ActivityDefinition describes, from its url. */
export function processIdOfActivityDefinition(resource: Resource): string | undefined {
  const m = ACTIVITY_DEFINITION_URL_PATTERN.exec((resource as Json).url ?? '');
  return m?.groups ? processIdOf(m.groups.domain!, m.groups.processName!) : undefined;
}
