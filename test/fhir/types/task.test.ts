// The Task module on its own: who reads which Task (its read condition, run by PostgreSQL), the create,
// update and delete rules with the process authorization of a stored ActivityDefinition, and its data
// (no default profile, draft identifiers unique, failed Tasks neither validated nor reference-checked).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Organization, Task } from '@medplum/fhirtypes';
import { task as taskType } from '../../../src/fhir/types/task.ts';
import { readAccessOf } from '../../../src/fhir/types/registry.ts';
import { activityDefinition, coding, task } from '../auth/process-fixtures.ts';
import { ORG_ID } from '../auth/auth-support.ts';
import { BASE, identities, LOCAL, organizationResource, refusalOf, SITE, typeTestStore, type TypeTestStore } from './type-fixtures.ts';

let s: TypeTestStore;
let who: ReturnType<typeof identities>;
const org = (value: string) => ({ system: ORG_ID, value });
const mail = (value: string) => ({ system: 'http://dsf.dev/sid/practitioner-identifier', value });

before(async () => {
  s = await typeTestStore();
  const local = await s.put(organizationResource(LOCAL));
  const remote = await s.put(organizationResource('remote.test'));
  const other = await s.put(organizationResource('other.test'));
  await s.put({ resourceType: 'Endpoint', status: 'active', address: BASE, identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'local-ep' }], managingOrganization: { reference: `Organization/${local.id}` }, connectionType: { code: 'hl7-fhir-rest' }, payloadType: [], meta: { tag: [] } } as never);
  await s.put(activityDefinition('proc', [coding.organization(false, 'remote.test'), coding.localAll()], [coding.localAll()]) as never);
  who = identities(local as Organization, remote as Organization, other as Organization);
});
after(() => s?.stop());

test('read: the requester, and the local organisation for Tasks addressed to it; drafts for local practitioners; DSF_ADMIN what is addressed locally', async () => {
  const fromRemote = await s.put<Task>(task({ process: 'proc', requester: org('remote.test'), recipient: LOCAL }));
  const fromUser = await s.put<Task>(task({ process: 'proc', requester: mail('user@test.org'), recipient: LOCAL }));
  const draft = await s.put<Task>(task({ process: 'proc', status: 'draft', identifier: 'd-1', requester: org(LOCAL), recipient: LOCAL }));
  const byLiteral = await s.put<Task>({ ...task({ process: 'proc', requester: org('remote.test'), recipient: LOCAL }), requester: { reference: `Organization/${who.remote.organization.id}` } });
  const cases: [string, keyof typeof who, Task, boolean][] = [
    ['requester by identifier', 'remote', fromRemote, true],
    ['requester by literal reference', 'remote', byLiteral, true],
    ['another remote organisation', 'other', fromRemote, false],
    ['remote: no drafts', 'remote', draft, false],
    ['local recipient', 'local', fromRemote, true],
    ['local: a practitioner Task addressed to it', 'local', fromUser, true],
    ['practitioner: its own', 'user', fromUser, true],
    ['practitioner: drafts addressed locally', 'user', draft, true],
    ['practitioner: not others', 'user', fromRemote, false],
    ['DSF_ADMIN: addressed locally', 'admin', fromRemote, true],
  ];
  for (const [name, identity, t, expected] of cases) {
    const condition = taskType.readAccess!({ identity: who[identity], site: SITE, tags: { kind: 'none' }, securityContextTargets: () => ({ kind: 'none' }) });
    assert.equal(await s.readable(condition, t), expected, name);
    assert.equal(await s.readable(readAccessOf('Task', who[identity], SITE), t), expected, `${name} (through the registry)`);
  }
});

test('create: drafts by the local organisation or DSF_ADMIN; requested as the process authorization says', async () => {
  const create = (identity: keyof typeof who, t: object) => refusalOf(() => taskType.authorizeCreate(s.rules(who[identity]), t as Task));
  const draft = task({ process: 'proc', status: 'draft', identifier: 'd-2', requester: org(LOCAL), recipient: LOCAL });
  assert.equal(await create('local', draft), undefined);
  assert.equal(await create('admin', draft), undefined);
  assert.match((await create('remote', draft))!, /^Task create \(draft\): only the local organization or a DSF_ADMIN/);
  assert.match((await create('local', { ...draft, identifier: [] }))!, /^Task create \(draft\): a draft Task needs exactly one identifier/);
  assert.equal(await create('remote', task({ process: 'proc', requester: org('remote.test'), recipient: LOCAL })), undefined, 'REMOTE_ORGANIZATION names it');
  assert.match((await create('other', task({ process: 'proc', requester: org('other.test'), recipient: LOCAL })))!, /^Task create \(requested\): ActivityDefinition .*proc\|1.0 does not authorize other.test as requester/);
  assert.match((await create('remote', task({ process: 'proc', requester: org('other.test'), recipient: LOCAL })))!, /^Task create \(requested\): Task.requester must be the caller/);
  assert.match((await create('remote', task({ process: 'nothing', requester: org('remote.test'), recipient: LOCAL })))!, /no ActivityDefinition .*nothing\|1.0/);
  assert.match((await create('remote', task({ process: 'proc', requester: org('remote.test'), recipient: LOCAL, message: 'other' })))!, /authorizes no message 'other'/);
  assert.match((await create('remote', task({ process: 'proc', status: 'completed', requester: org('remote.test'), recipient: LOCAL })))!, /^Task create: status must be draft or requested, not 'completed'/);
});

test('update: the allowed transitions by the local organisation or DSF_ADMIN, with requester, restriction, canonical and inputs unchanged', async () => {
  const requested = task({ process: 'proc', requester: org('remote.test'), recipient: LOCAL }) as Task;
  const update = (identity: keyof typeof who, next: Partial<Task>, previous: Task = requested) => refusalOf(() => taskType.authorizeUpdate(s.rules(who[identity]), previous, { ...previous, ...next }));
  const businessKey = { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'business-key' }] }, valueString: 'bk' };
  assert.equal(await update('local', { status: 'in-progress', input: [...requested.input!, businessKey] }), undefined, 'a business-key may be added on start');
  assert.match((await update('remote', { status: 'in-progress' }))!, /^Task update \(requested->in-progress\): only the local organization or a DSF_ADMIN/);
  assert.match((await update('local', { status: 'completed' }))!, /^Task update: status transition requested->completed is not allowed/);
  assert.match((await update('local', { status: 'in-progress', requester: { identifier: org('other.test') } }))!, /^Task update \(requested->in-progress\): Task.requester may not change/);
  const noProcess = { ...requested, instantiatesCanonical: 'http://dsf.dev/bpe/Process/gone|1.0' };
  assert.equal(await update('local', { status: 'failed' }, noProcess), undefined, 'failing needs no ActivityDefinition');
  assert.match((await update('local', { status: 'in-progress' }, noProcess))!, /no ActivityDefinition .*gone\|1.0/);
  const draft = task({ process: 'proc', status: 'draft', identifier: 'd-3', requester: org(LOCAL), recipient: LOCAL }) as Task;
  assert.match((await update('local', { identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: 'd-4' }] }, draft))!, /^Task update \(draft->draft\): the task-identifier of a draft Task may not change/);
});

test('delete: drafts only, by the local organisation or DSF_ADMIN', async () => {
  const draft = task({ process: 'proc', status: 'draft', identifier: 'd-5', requester: org(LOCAL), recipient: LOCAL }) as Task;
  assert.equal(await refusalOf(() => taskType.authorizeDelete(s.rules(who.admin), draft)), undefined);
  assert.match((await refusalOf(() => taskType.authorizeDelete(s.rules(who.user), draft)))!, /^Task delete: only the local organization or a DSF_ADMIN/);
  assert.match((await refusalOf(() => taskType.authorizeDelete(s.rules(who.local), { ...draft, status: 'requested' })))!, /^Task delete: only draft Tasks may be deleted/);
});

test('data: no default profile, no security context, unique draft identifiers, failed Tasks neither validated nor reference-checked', () => {
  const draft = task({ process: 'proc', status: 'draft', identifier: 'd-6', requester: org(LOCAL), recipient: LOCAL }) as Task;
  assert.equal(taskType.defaultProfile, undefined);
  assert.equal(taskType.securityContextTarget, false);
  assert.deepEqual(taskType.uniqueKeys(draft), ['identifier:http://dsf.dev/sid/task-identifier|d-6']);
  assert.deepEqual(taskType.uniqueKeys({ ...draft, status: 'requested' }), []);
  assert.equal(taskType.validatesUpdate({ ...draft, status: 'failed' }, draft), false);
  assert.equal(taskType.validatesUpdate({ ...draft, status: 'completed' }, draft), true);
  assert.equal(taskType.uncheckedReferencesOnUpdate!({ ...draft, status: 'failed' }), 'all');
  assert.deepEqual(taskType.uncheckedReferencesOnUpdate!({ ...draft, status: 'completed' }), { externalAt: ['Task.input'] });
  assert.equal(taskType.uncheckedReferencesOnUpdate!({ ...draft, status: 'in-progress' }), undefined);
});
