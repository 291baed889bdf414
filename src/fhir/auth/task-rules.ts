// Who may create, update, delete and read which Task (the reference's TaskAuthorizationRule and
// TaskIdentityFilter). Create: draft (local organisation or DSF_ADMIN) or requested (any caller the
// ActivityDefinition's process-authorization allows). Update: the allowed status transitions with
// requester, restriction, instantiatesCanonical and inputs unchanged. Delete: drafts only.
import type { Task } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { allOf, anyOf, contains, equals, NONE, type AccessCondition } from '../store/access-condition.ts';
import type { Db } from '../../db/pool.ts';
import { isDsfAdmin, type Identity } from '../types/identity.ts';
import { BPMN_MESSAGE, ORGANIZATION_IDENTIFIER, PRACTITIONER_IDENTIFIER, TASK_IDENTIFIER } from '../model/dsf-urls.ts';
import { anyCodingAuthorizes, findActivityDefinition, INSTANTIATES_CANONICAL, membershipSource, processAuthorizationsFor } from './process-authorization.ts';
import { localOrganizationIdentity, type AuthorizationSite } from './local-organization.ts';
import { canonicalJson } from './canonical-json.ts';

type Obj = Record<string, any>;

const deny = (rule: string) => new FhirError(403, rule, 'forbidden');

function messageNames(task: Obj): string[] {
  return ((task.input ?? []) as Obj[])
    .filter((i) => ((i.type?.coding ?? []) as Obj[]).some((c) => c.system === BPMN_MESSAGE && c.code === 'message-name'))
    .map((i) => i.valueString)
    .filter((v): v is string => typeof v === 'string' && v.trim() !== '');
}

const isBusinessKey = (i: Obj) => ((i.type?.coding ?? []) as Obj[]).some((c) => c.system === BPMN_MESSAGE && c.code === 'business-key');

function identifierIs(identifier: unknown, system: string, value: string | undefined): boolean {
  const i = identifier as Obj | undefined;
  return value !== undefined && i?.system === system && i?.value === value;
}

function recipientIsLocal(task: Obj, site: AuthorizationSite): string | undefined {
  const recipients = (task.restriction?.recipient ?? []) as Obj[];
  if (recipients.length !== 1) return 'Task.restriction.recipient must name exactly one organization';
  if (!identifierIs(recipients[0]!.identifier, ORGANIZATION_IDENTIFIER, site.localOrganizationIdentifier)) return 'Task.restriction.recipient must be the local organization';
  return undefined;
}

/** The checks common to draft and requested Tasks (canonical, one message-name, no output, recipient local). */
function commonProblems(task: Obj, site: AuthorizationSite): string[] {
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

function draftProblems(task: Obj, site: AuthorizationSite): string[] {
  const problems: string[] = [];
  const ids = ((task.identifier ?? []) as Obj[]).filter((i) => i.system === TASK_IDENTIFIER);
  if (ids.length !== 1 || typeof ids[0]!.value !== 'string' || !ids[0]!.value) problems.push(`a draft Task needs exactly one identifier with system ${TASK_IDENTIFIER}`);
  if (!identifierIs(task.requester?.identifier, ORGANIZATION_IDENTIFIER, site.localOrganizationIdentifier)) problems.push('Task.requester of a draft Task must be the local organization');
  return [...problems, ...commonProblems(task, site)];
}

function requesterIsCaller(task: Obj, identity: Identity): boolean {
  const id = task.requester?.identifier;
  return identity.kind === 'organization'
    ? identifierIs(id, ORGANIZATION_IDENTIFIER, identity.organizationIdentifier)
    : identifierIs(id, PRACTITIONER_IDENTIFIER, identity.email);
}

function requestedProblems(task: Obj, identity: Identity, site: AuthorizationSite): string[] {
  const problems: string[] = [];
  if (((task.identifier ?? []) as Obj[]).some((i) => i.system === TASK_IDENTIFIER)) problems.push(`a requested Task may not have an identifier with system ${TASK_IDENTIFIER}`);
  if (!requesterIsCaller(task, identity)) problems.push("Task.requester must be the caller's organization-identifier (or, for a user, practitioner-identifier)");
  return [...problems, ...commonProblems(task, site)];
}

/** The process-authorization check against the matching ActivityDefinition. */
async function processProblem(db: Db, site: AuthorizationSite, task: Obj, requester: Identity | undefined): Promise<string | undefined> {
  const m = INSTANTIATES_CANONICAL.exec(task.instantiatesCanonical ?? '');
  if (!m) return 'Task.instantiatesCanonical does not name a process';
  const [, url, version] = m;
  const ad = await findActivityDefinition(db, url!, version!);
  if (!ad) return `no ActivityDefinition ${url}|${version} with status draft or active`;
  const profiles = ((task.meta?.profile ?? []) as string[]).filter((p) => typeof p === 'string');
  const auths = processAuthorizationsFor(ad, messageNames(task)[0] ?? '', profiles);
  if (!auths.length) return `ActivityDefinition ${url}|${version} authorizes no message '${messageNames(task)[0] ?? ''}' with one of the Task's profiles`;
  const local = await localOrganizationIdentity(db, site);
  if (!local || !(await anyCodingAuthorizes(auths.flatMap((a) => a.recipients), local, membershipSource(db, local), true))) {
    return `ActivityDefinition ${url}|${version} does not authorize the local organization as recipient`;
  }
  if (requester && !(await anyCodingAuthorizes(auths.flatMap((a) => a.requesters), requester, membershipSource(db, requester), false))) {
    return `ActivityDefinition ${url}|${version} does not authorize ${requester.displayName} as requester`;
  }
  return undefined;
}

const localOrganizationOrAdmin = (identity: Identity) => (identity.local && identity.kind === 'organization') || isDsfAdmin(identity);

export async function checkTaskCreate(db: Db, site: AuthorizationSite, identity: Identity, task: Task): Promise<void> {
  const t = task as Obj;
  if (t.status === 'draft') {
    if (!localOrganizationOrAdmin(identity)) throw deny('Task create (draft): only the local organization or a DSF_ADMIN practitioner may create draft Tasks');
    const problems = draftProblems(t, site);
    if (problems.length) throw deny(`Task create (draft): ${problems.join('; ')}`);
    return;
  }
  if (t.status === 'requested') {
    const problems = requestedProblems(t, identity, site);
    if (problems.length) throw deny(`Task create (requested): ${problems.join('; ')}`);
    const process = await processProblem(db, site, t, identity);
    if (process) throw deny(`Task create (requested): ${process}`);
    return;
  }
  throw deny(`Task create: status must be draft or requested, not '${t.status ?? ''}'`);
}

/** Which of requester, restriction, instantiatesCanonical and inputs changed. */
function changedFields(oldTask: Obj, newTask: Obj): string[] {
  const changed: string[] = [];
  for (const f of ['requester', 'restriction', 'instantiatesCanonical']) if (canonicalJson(oldTask[f]) !== canonicalJson(newTask[f])) changed.push(`Task.${f}`);
  let newInputs = (newTask.input ?? []) as Obj[];
  const oldInputs = (oldTask.input ?? []) as Obj[];
  // A business-key may be added when a requested Task starts (in-progress) or fails.
  if (oldTask.status === 'requested' && ['in-progress', 'failed'].includes(newTask.status) && !oldInputs.some(isBusinessKey)) {
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

export async function checkTaskUpdate(db: Db, site: AuthorizationSite, identity: Identity, oldTask: Task, newTask: Task): Promise<void> {
  const o = oldTask as Obj;
  const n = newTask as Obj;
  const transition = `${o.status}->${n.status}`;
  if (!localOrganizationOrAdmin(identity)) throw deny(`Task update (${transition}): only the local organization or a DSF_ADMIN practitioner may update Tasks`);
  if (transition === 'draft->draft') {
    const problems = draftProblems(n, site);
    const oldId = ((o.identifier ?? []) as Obj[]).find((i) => i.system === TASK_IDENTIFIER)?.value;
    const newId = ((n.identifier ?? []) as Obj[]).find((i) => i.system === TASK_IDENTIFIER)?.value;
    if (oldId !== newId) problems.push('the task-identifier of a draft Task may not change');
    if (problems.length) throw deny(`Task update (draft->draft): ${problems.join('; ')}`);
    return;
  }
  const rule = TRANSITIONS[transition];
  if (!rule) throw deny(`Task update: status transition ${transition} is not allowed`);
  const changed = changedFields(o, n);
  if (changed.length) throw deny(`Task update (${transition}): ${changed.join(', ')} may not change`);
  if (rule.noOutput && (n.output ?? []).length) throw deny(`Task update (${transition}): Task.output must be empty`);
  if (rule.process) {
    const problem = await processProblem(db, site, n, undefined);
    if (problem) throw deny(`Task update (${transition}): ${problem}`);
  }
}

export function checkTaskDelete(identity: Identity, task: Task): void {
  if (!localOrganizationOrAdmin(identity)) throw deny('Task delete: only the local organization or a DSF_ADMIN practitioner may delete Tasks');
  if (task.status !== 'draft') throw deny(`Task delete: only draft Tasks may be deleted, this one is '${task.status}'`);
}

/**
 * May the identity read the Task? The local organisation reads Tasks addressed to it, every
 * organisation the Tasks it requested, a DSF_ADMIN practitioner Tasks addressed to the local
 * organisation, a practitioner the Tasks it requested and draft Tasks addressed to the local organisation.
 * An organisation is named by its identifier or by a literal reference to its Organization resource
 * (the reference's filter matches the literal reference its resolver stores).
 */
export function taskReadCondition(identity: Identity, localOrganizationIdentifier: string): AccessCondition {
  const organizationId = identity.organization.id;
  const recipients = ['restriction', 'recipient'];
  const recipientLocal = anyOf(
    contains(recipients, [{ identifier: { system: ORGANIZATION_IDENTIFIER, value: localOrganizationIdentifier } }]),
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
