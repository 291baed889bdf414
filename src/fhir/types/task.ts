// Task: the messages between sites (the reference's TaskAuthorizationRule and TaskIdentityFilter).
// Read: by the organisation that requested it and, when addressed to it, by the local organisation.
// Create: draft (local organisation or DSF_ADMIN) or requested (any caller the ActivityDefinition's
// process-authorization allows). Update: the allowed status transitions with requester, restriction,
// instantiatesCanonical and inputs unchanged. Delete: drafts only. No tags, no default profile (a Task
// names its process's profile); a draft's task-identifier is unique; a failed Task is not validated or
// reference-checked again (a removed plugin must not keep its Tasks from failing).
import type { Identifier, Task, TaskInput } from '@medplum/fhirtypes';
import { allOf, anyOf, contains, equals, NONE, type AccessCondition } from '../store/access-condition.ts';
import type { Db } from '../../db/pool.ts';
import { isLocalOrganizationOrAdmin, isDsfAdmin, type Identity } from './identity.ts';
import { BPMN_MESSAGE, ORGANIZATION_IDENTIFIER, PRACTITIONER_IDENTIFIER, TASK_IDENTIFIER } from '../model/dsf-urls.ts';
import { anyCodingAuthorizes, findActivityDefinition, INSTANTIATES_CANONICAL, membershipSource, processAuthorizationsFor } from './process-authorization.ts';
import { localOrganizationIdentity } from './local-organization.ts';
import { canonicalJson } from './canonical-json.ts';
import type { ReadAccessContext, ResourceTypeBehaviour, WriteRuleContext } from './behaviour.ts';
import type { Site } from './site.ts';
import { refusal } from './refusal.ts';
import { identifierKeys } from './identifier-keys.ts';

const hasCode = (input: TaskInput, code: string) => (input.type?.coding ?? []).some((c) => c.system === BPMN_MESSAGE && c.code === code);

function messageNames(task: Task): string[] {
  return (task.input ?? [])
    .filter((i) => hasCode(i, 'message-name'))
    .map((i) => i.valueString as unknown)
    .filter((v): v is string => typeof v === 'string' && v.trim() !== '');
}

const isBusinessKey = (i: TaskInput) => hasCode(i, 'business-key');

function identifierIs(identifier: Identifier | undefined, system: string, value: string | undefined): boolean {
  return value !== undefined && identifier?.system === system && identifier?.value === value;
}

function recipientIsLocal(task: Task, site: Site): string | undefined {
  const recipients = task.restriction?.recipient ?? [];
  if (recipients.length !== 1) return 'Task.restriction.recipient must name exactly one organization';
  if (!identifierIs(recipients[0]!.identifier, ORGANIZATION_IDENTIFIER, site.localOrganizationIdentifier)) return 'Task.restriction.recipient must be the local organization';
  return undefined;
}

/** The checks common to draft and requested Tasks (canonical, one message-name, no output, recipient local). */
function commonProblems(task: Task, site: Site): string[] {
  const problems: string[] = [];
  const recipient = recipientIsLocal(task, site);
  if (recipient) problems.push(recipient);
  if (typeof task.instantiatesCanonical !== 'string' || !INSTANTIATES_CANONICAL.test(task.instantiatesCanonical)) {
    problems.push('Task.instantiatesCanonical must match http(s)://<domain>/bpe/Process/<name>|<major.minor>');
  }
  if (messageNames(task).length !== 1) problems.push('Task.input needs exactly one non-empty bpmn-message#message-name');
  if ((task.output ?? []).length) problems.push('Task.output must be empty');
  return problems;
}

const taskIdentifiers = (task: Task) => (task.identifier ?? []).filter((i) => i.system === TASK_IDENTIFIER);

function draftProblems(task: Task, site: Site): string[] {
  const problems: string[] = [];
  const ids = taskIdentifiers(task);
  if (ids.length !== 1 || typeof ids[0]!.value !== 'string' || !ids[0]!.value) problems.push(`a draft Task needs exactly one identifier with system ${TASK_IDENTIFIER}`);
  if (!identifierIs(task.requester?.identifier, ORGANIZATION_IDENTIFIER, site.localOrganizationIdentifier)) problems.push('Task.requester of a draft Task must be the local organization');
  return [...problems, ...commonProblems(task, site)];
}

function requesterIsCaller(task: Task, identity: Identity): boolean {
  const id = task.requester?.identifier;
  return identity.kind === 'organization'
    ? identifierIs(id, ORGANIZATION_IDENTIFIER, identity.organizationIdentifier)
    : identifierIs(id, PRACTITIONER_IDENTIFIER, identity.email);
}

function requestedProblems(task: Task, identity: Identity, site: Site): string[] {
  const problems: string[] = [];
  if (taskIdentifiers(task).length) problems.push(`a requested Task may not have an identifier with system ${TASK_IDENTIFIER}`);
  if (!requesterIsCaller(task, identity)) problems.push("Task.requester must be the caller's organization-identifier (or, for a user, practitioner-identifier)");
  return [...problems, ...commonProblems(task, site)];
}

/** The process-authorization check against the matching ActivityDefinition. */
async function processProblem(db: Db, site: Site, task: Task, requester: Identity | undefined): Promise<string | undefined> {
  const m = INSTANTIATES_CANONICAL.exec(task.instantiatesCanonical ?? '');
  if (!m) return 'Task.instantiatesCanonical does not name a process';
  const [, url, version] = m;
  const ad = await findActivityDefinition(db, url!, version!);
  if (!ad) return `no ActivityDefinition ${url}|${version} with status draft or active`;
  const profiles = (task.meta?.profile ?? []).filter((p) => typeof p === 'string');
  const message = messageNames(task)[0] ?? '';
  const auths = processAuthorizationsFor(ad, message, profiles);
  if (!auths.length) return `ActivityDefinition ${url}|${version} authorizes no message '${message}' with one of the Task's profiles`;
  const local = await localOrganizationIdentity(db, site);
  if (!local || !(await anyCodingAuthorizes(auths.flatMap((a) => a.recipients), local, membershipSource(db, local), true))) {
    return `ActivityDefinition ${url}|${version} does not authorize the local organization as recipient`;
  }
  if (requester && !(await anyCodingAuthorizes(auths.flatMap((a) => a.requesters), requester, membershipSource(db, requester), false))) {
    return `ActivityDefinition ${url}|${version} does not authorize ${requester.displayName} as requester`;
  }
  return undefined;
}

async function authorizeCreate({ identity, site, db }: WriteRuleContext, task: Task): Promise<void> {
  if (task.status === 'draft') {
    const rule = 'Task create (draft)';
    if (!isLocalOrganizationOrAdmin(identity)) throw refusal(rule, 'only the local organization or a DSF_ADMIN practitioner may create draft Tasks');
    const problems = draftProblems(task, site);
    if (problems.length) throw refusal(rule, problems.join('; '));
    return;
  }
  if (task.status === 'requested') {
    const rule = 'Task create (requested)';
    const problems = requestedProblems(task, identity, site);
    if (problems.length) throw refusal(rule, problems.join('; '));
    const process = await processProblem(db, site, task, identity);
    if (process) throw refusal(rule, process);
    return;
  }
  throw refusal('Task create', `status must be draft or requested, not '${task.status ?? ''}'`);
}

/** Which of requester, restriction, instantiatesCanonical and inputs changed. */
function changedFields(oldTask: Task, newTask: Task): string[] {
  const fixed: [string, (t: Task) => unknown][] = [
    ['requester', (t) => t.requester],
    ['restriction', (t) => t.restriction],
    ['instantiatesCanonical', (t) => t.instantiatesCanonical],
  ];
  const changed = fixed.filter(([, get]) => canonicalJson(get(oldTask)) !== canonicalJson(get(newTask))).map(([name]) => `Task.${name}`);
  let newInputs = newTask.input ?? [];
  const oldInputs = oldTask.input ?? [];
  // A business-key may be added when a requested Task starts (in-progress) or fails.
  if (oldTask.status === 'requested' && (newTask.status === 'in-progress' || newTask.status === 'failed') && !oldInputs.some(isBusinessKey)) {
    newInputs = newInputs.filter((i) => !isBusinessKey(i));
  }
  if (canonicalJson(oldInputs) !== canonicalJson(newInputs)) changed.push('Task.input');
  return changed;
}

/** Allowed transitions; `process`: the recipient must still be authorized by the ActivityDefinition. */
const TRANSITIONS: Record<string, { process: boolean; noOutput?: boolean }> = {
  'requested->in-progress': { process: true, noOutput: true },
  'in-progress->in-progress': { process: true },
  'in-progress->completed': { process: true },
  // Not checked against the ActivityDefinition: a removed plugin must not block failing its Tasks.
  'requested->failed': { process: false },
  'in-progress->failed': { process: false },
};

async function authorizeUpdate({ identity, site, db }: WriteRuleContext, oldTask: Task, newTask: Task): Promise<void> {
  const transition = `${oldTask.status}->${newTask.status}`;
  const rule = `Task update (${transition})`;
  if (!isLocalOrganizationOrAdmin(identity)) throw refusal(rule, 'only the local organization or a DSF_ADMIN practitioner may update Tasks');
  if (transition === 'draft->draft') {
    const problems = draftProblems(newTask, site);
    if (taskIdentifiers(oldTask)[0]?.value !== taskIdentifiers(newTask)[0]?.value) problems.push('the task-identifier of a draft Task may not change');
    if (problems.length) throw refusal(rule, problems.join('; '));
    return;
  }
  const allowed = TRANSITIONS[transition];
  if (!allowed) throw refusal('Task update', `status transition ${transition} is not allowed`);
  const changed = changedFields(oldTask, newTask);
  if (changed.length) throw refusal(rule, `${changed.join(', ')} may not change`);
  if (allowed.noOutput && (newTask.output ?? []).length) throw refusal(rule, 'Task.output must be empty');
  if (allowed.process) {
    const problem = await processProblem(db, site, newTask, undefined);
    if (problem) throw refusal(rule, problem);
  }
}

async function authorizeDelete({ identity }: WriteRuleContext, task: Task): Promise<void> {
  if (!isLocalOrganizationOrAdmin(identity)) throw refusal('Task delete', 'only the local organization or a DSF_ADMIN practitioner may delete Tasks');
  if (task.status !== 'draft') throw refusal('Task delete', `only draft Tasks may be deleted, this one is '${task.status}'`);
}

/**
 * The local organisation reads Tasks addressed to it, every organisation the Tasks it requested, a
 * DSF_ADMIN practitioner Tasks addressed to the local organisation, a practitioner the Tasks it
 * requested and draft Tasks addressed to the local organisation. An organisation is named by its
 * identifier or by a literal reference to its Organization resource (the reference's filter matches the
 * literal reference its resolver stores).
 */
function readAccess({ identity, site }: ReadAccessContext): AccessCondition {
  const organizationId = identity.organization.id;
  const recipients = ['restriction', 'recipient'];
  const recipientLocal = anyOf(
    contains(recipients, [{ identifier: { system: ORGANIZATION_IDENTIFIER, value: site.localOrganizationIdentifier } }]),
    ...(organizationId ? [contains(recipients, [{ reference: `Organization/${organizationId}` }])] : []),
  );
  if (identity.kind === 'organization') {
    const requested = anyOf(
      contains(['requester', 'identifier'], { system: ORGANIZATION_IDENTIFIER, value: identity.organizationIdentifier }),
      ...(organizationId ? [equals(['requester', 'reference'], `Organization/${organizationId}`)] : []),
    );
    return identity.local ? anyOf(recipientLocal, requested) : requested;
  }
  const requested = identity.email ? contains(['requester', 'identifier'], { system: PRACTITIONER_IDENTIFIER, value: identity.email }) : NONE;
  if (isDsfAdmin(identity)) return anyOf(recipientLocal, requested);
  return anyOf(requested, allOf(equals(['status'], 'draft'), recipientLocal));
}

export const task: ResourceTypeBehaviour<Task> = {
  type: 'Task',
  readAccess,
  securityContextTarget: false,
  authorizeCreate,
  authorizeUpdate,
  authorizeDelete,
  defaultProfile: undefined,
  // The reference lets a Task be set to failed even when it no longer validates (a removed plugin).
  validatesUpdate: (next) => next.status !== 'failed',
  uniqueKeys: (t) => (t.status === 'draft' ? identifierKeys('identifier:', taskIdentifiers(t)) : []),
  identityCriteria: () => undefined,
  affectsIdentities: false,
  // As the reference's update rules: a failed Task is not checked at all, a completed Task's inputs pointing at other servers not again.
  uncheckedReferencesOnUpdate: (t) => (t.status === 'failed' ? 'all' : t.status === 'completed' ? { externalAt: ['Task.input'] } : undefined),
};
