// Task authorization: create (draft / requested) against the ActivityDefinition's process
// authorization (LOCAL/REMOTE ALL, ORGANIZATION, ROLE and practitioner variants), status
// transitions, delete of drafts only, and who reads which Task (read, search totals, history).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { localOrganizationRoles, type DsfRole, type Identity, type RoleGrant } from '../../../src/fhir/types/identity.ts';
import { as, assertRefused, createRemoteOrganizations, matchIds, ORG_ID, organizationByIdentifier, organizationIdentity, PARENT_PROFILE, PRACTITIONER_ROLE, practitionerIdentity, tagAll } from './auth-support.ts';
import { activityDefinition, coding, task, taskProfile } from './process-fixtures.ts';

let site: TestSite;
let local: Identity, remoteA: Identity, remoteB: Identity, user: Identity, userWithoutRole: Identity, admin: Identity;
let localId: string;
let remoteAffiliation: string;
const PRACTITIONER_ID = 'http://dsf.dev/sid/practitioner-identifier';

const taskUserRoles = (): Map<DsfRole, RoleGrant> =>
  new Map<DsfRole, RoleGrant>([
    ['CREATE', new Set(['Task'])],
    ['READ', 'all'],
    ['SEARCH', 'all'],
    ['HISTORY', 'all'],
  ]);

const org = (identity: Identity) => ({ system: ORG_ID, value: identity.organizationIdentifier });
const mail = (email: string) => ({ system: PRACTITIONER_ID, value: email });

before(async () => {
  site = await startTestSite();
  localId = site.server.config.organizationIdentifier;
  await createRemoteOrganizations(site, ['remote-a.test', 'remote-b.test']);
  const localOrg = await organizationByIdentifier(site, localId);
  const a = await organizationByIdentifier(site, 'remote-a.test');
  local = organizationIdentity(localOrg, true);
  remoteA = organizationIdentity(a, false);
  remoteB = organizationIdentity(await organizationByIdentifier(site, 'remote-b.test'), false);
  user = practitionerIdentity(localOrg.organization, localId, 'user@test.org', [{ system: PRACTITIONER_ROLE, code: 'DIC_USER' }], taskUserRoles());
  userWithoutRole = practitionerIdentity(localOrg.organization, localId, 'other@test.org', [], taskUserRoles());
  admin = practitionerIdentity(localOrg.organization, localId, 'admin@test.org', [{ system: PRACTITIONER_ROLE, code: 'DSF_ADMIN' }], localOrganizationRoles());

  const L = as(site, local);
  const ok = async (p: Promise<{ status: number; message?: string; resource?: any }>) => {
    const r = await p;
    assert.equal(r.status, 201, r.message);
    return r.resource;
  };
  const parent = await ok(L.create({ resourceType: 'Organization', meta: { ...tagAll(), profile: [PARENT_PROFILE] }, identifier: [{ system: ORG_ID, value: 'consortium.test' }], active: true }));
  const affiliation = (member: { organization: any; endpoint?: any }) => ({
    resourceType: 'OrganizationAffiliation',
    meta: tagAll(),
    active: true,
    organization: { reference: `Organization/${parent.id}` },
    participatingOrganization: { reference: `Organization/${member.organization.id}` },
    endpoint: [{ reference: `Endpoint/${member.endpoint.id}` }],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  });
  remoteAffiliation = (await ok(L.create(affiliation(a)))).id;
  await ok(L.create(affiliation(localOrg)));
  await ok(L.create(taskProfile()));
  await ok(L.create(activityDefinition('orgproc', [coding.organization(false, 'remote-a.test'), coding.localAll(), coding.localAllPractitioner('DIC_USER')], [coding.localAll()])));
  await ok(L.create(activityDefinition('roleproc', [coding.role(false, 'consortium.test', 'DIC'), coding.rolePractitioner('consortium.test', 'DIC', 'DIC_USER')], [coding.role(true, 'consortium.test', 'DIC')])));
  await ok(L.create(activityDefinition('allproc', [coding.remoteAll(), coding.organizationPractitioner(localId, 'DIC_USER')], [coding.organization(true, localId)])));
  await ok(L.create(activityDefinition('remoterecipient', [coding.remoteAll()], [coding.organization(true, 'remote-b.test')])));
});
after(() => site?.stop());

async function taskCount(): Promise<number> {
  return (await as(site, local).search('Task', '_summary=count')).resource.total;
}

test('create requested: the process authorization decides, refusals are 403 and store nothing', async () => {
  // A refusal names its rule (Task create) and the reason, so that a refusal for another reason cannot pass.
  const cases: [string, Identity, Parameters<typeof task>[0], number, RegExp?][] = [
    ['remote organization named by REMOTE_ORGANIZATION', remoteA, { process: 'orgproc', requester: org(remoteA), recipient: localId }, 201],
    ['remote organization not named', remoteB, { process: 'orgproc', requester: org(remoteB), recipient: localId }, 403, /as requester/],
    ['local organization by LOCAL_ALL', local, { process: 'orgproc', requester: org(local), recipient: localId }, 201],
    ['practitioner with the role by LOCAL_ALL_PRACTITIONER', user, { process: 'orgproc', requester: mail('user@test.org'), recipient: localId }, 201],
    ['practitioner without the role', userWithoutRole, { process: 'orgproc', requester: mail('other@test.org'), recipient: localId }, 403, /as requester/],
    ['DSF_ADMIN satisfies any coding', admin, { process: 'orgproc', requester: mail('admin@test.org'), recipient: localId }, 201],
    ['REMOTE_ROLE member', remoteA, { process: 'roleproc', requester: org(remoteA), recipient: localId }, 201],
    ['REMOTE_ROLE non-member', remoteB, { process: 'roleproc', requester: org(remoteB), recipient: localId }, 403, /as requester/],
    ['LOCAL_ROLE_PRACTITIONER: local member with practitioner role', user, { process: 'roleproc', requester: mail('user@test.org'), recipient: localId }, 201],
    ['local organization is not REMOTE_ROLE', local, { process: 'roleproc', requester: org(local), recipient: localId }, 403, /as requester/],
    ['REMOTE_ALL', remoteB, { process: 'allproc', requester: org(remoteB), recipient: localId }, 201],
    ['REMOTE_ALL is not for local organizations', local, { process: 'allproc', requester: org(local), recipient: localId }, 403, /as requester/],
    ['LOCAL_ORGANIZATION_PRACTITIONER', user, { process: 'allproc', requester: mail('user@test.org'), recipient: localId }, 201],
    ['recipient not authorized by the ActivityDefinition', remoteA, { process: 'remoterecipient', requester: org(remoteA), recipient: localId }, 403, /does not authorize the local organization as recipient/],
    ['requester is not the caller', remoteA, { process: 'orgproc', requester: org(remoteB), recipient: localId }, 403, /Task.requester must be the caller/],
    ['practitioner naming another e-mail', user, { process: 'orgproc', requester: mail('admin@test.org'), recipient: localId }, 403, /Task.requester must be the caller/],
    ['recipient is not the local organization', remoteA, { process: 'orgproc', requester: org(remoteA), recipient: 'remote-b.test' }, 403, /Task.restriction.recipient must be the local organization/],
    ['no ActivityDefinition for the process', remoteA, { process: 'unknown', requester: org(remoteA), recipient: localId }, 403, /no ActivityDefinition .*unknown\|1.0/],
    ['message name not authorized', remoteA, { process: 'orgproc', requester: org(remoteA), recipient: localId, message: 'other' }, 403, /authorizes no message 'other'/],
    ['profile not authorized', remoteA, { process: 'orgproc', requester: org(remoteA), recipient: localId, profile: 'http://dsf.dev/fhir/StructureDefinition/task|2.1.0' }, 403, /authorizes no message '[^']*' with one of the Task's profiles/],
    ['requested with a task-identifier', remoteA, { process: 'orgproc', requester: org(remoteA), recipient: localId, identifier: 'x' }, 403, /a requested Task may not have an identifier/],
    ['status in-progress on create', remoteA, { process: 'orgproc', status: 'in-progress', businessKey: 'bk', requester: org(remoteA), recipient: localId }, 403, /status must be draft or requested, not 'in-progress'/],
  ];
  for (const [name, identity, options, expected, reason] of cases) {
    const before = await taskCount();
    const r = await as(site, identity).create(task(options));
    assert.equal(r.status, expected, `${name}: ${r.status} ${r.message ?? ''}`);
    assert.equal(await taskCount(), before + (expected === 201 ? 1 : 0), `${name}: stored count`);
    if (expected === 403) {
      assert.match(r.message!, /^Task create( \(requested\))?: /, `${name}: the OperationOutcome names the rule`);
      assert.ok(reason, `${name}: a refusal case names its reason`);
      assert.match(r.message!, reason, `${name}: refused for this reason`);
    }
  }
});

test('REMOTE_ROLE stops working when the affiliation is removed', async () => {
  const options = { process: 'roleproc', requester: org(remoteA), recipient: localId };
  assert.equal((await as(site, remoteA).create(task(options))).status, 201);
  const inactive = (await as(site, local).read('OrganizationAffiliation', remoteAffiliation)).resource;
  assert.equal((await as(site, local).update({ ...inactive, active: false })).status, 200);
  const r = await as(site, remoteA).create(task(options));
  assert.equal(r.status, 403);
  assert.match(r.message!, /does not authorize remote-a.test as requester/);
  const deactivated = (await as(site, local).read('OrganizationAffiliation', remoteAffiliation)).resource;
  assert.equal((await as(site, local).update({ ...deactivated, active: true })).status, 200);
  assert.equal((await as(site, remoteA).create(task(options))).status, 201);
});

test('draft Tasks: local organization or DSF_ADMIN, task-identifier unique', async () => {
  const draft = (identifier: string) => task({ process: 'orgproc', status: 'draft', identifier, requester: org(local), recipient: localId });
  assert.equal((await as(site, local).create(draft('d-1'))).status, 201);
  const dup = await as(site, local).create(draft('d-1'));
  assertRefused(dup, /^A Task with the same identifier .*task-identifier\|d-1.* already exists/, 'duplicate draft identifier');
  assert.equal((await as(site, admin).create(draft('d-2'))).status, 201);
  const before = await taskCount();
  assertRefused(await as(site, remoteA).create({ ...draft('d-3'), requester: { type: 'Organization', identifier: org(remoteA) } }), /^Task create \(draft\): only the local organization or a DSF_ADMIN/, 'remote draft');
  assertRefused(await as(site, user).create(draft('d-4')), /^Task create \(draft\): only the local organization or a DSF_ADMIN/, 'practitioner draft');
  const noIdentifier = await as(site, local).create({ ...draft('d-5'), identifier: [{ system: 'http://example.org/other', value: 'x' }] });
  assert.ok([403, 422].includes(noIdentifier.status), noIdentifier.message);
  const foreignRequester = await as(site, local).create({ ...draft('d-6'), requester: { type: 'Organization', identifier: org(remoteA) } });
  assertRefused(foreignRequester, /^Task create \(draft\): Task.requester of a draft Task must be the local organization/, 'foreign requester');
  assert.equal(await taskCount(), before);
});

async function requestedTask(): Promise<any> {
  const r = await as(site, remoteA).create(task({ process: 'orgproc', requester: org(remoteA), recipient: localId }));
  assert.equal(r.status, 201, r.message);
  return r.resource;
}

const withBusinessKey = (t: any) => ({ ...t, input: [...t.input, { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'business-key' }] }, valueString: 'bk-1' }] });
const withOutput = (t: any) => ({ ...t, output: [{ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'error' }] }, valueString: 'oops' }] });

test('status transitions: allowed ones with unchanged requester, restriction, canonical and inputs', async () => {
  const L = as(site, local);
  const t = await requestedTask();
  const started = await L.update({ ...withBusinessKey(t), status: 'in-progress' });
  assert.equal(started.status, 200, started.message);
  const progressed = await L.update({ ...withOutput(started.resource), status: 'in-progress' });
  assert.equal(progressed.status, 200, progressed.message);
  const completed = await L.update({ ...progressed.resource, status: 'completed' });
  assert.equal(completed.status, 200, completed.message);
  const back = await L.update({ ...completed.resource, status: 'in-progress' });
  assert.equal(back.status, 403);
  assert.match(back.message!, /completed->in-progress is not allowed/);

  const t2 = await requestedTask();
  assertRefused(await L.update({ ...withBusinessKey(t2), status: 'completed' }), /^Task update: status transition requested->completed is not allowed/, 'requested -> completed');
  assert.equal((await L.update({ ...withBusinessKey(t2), status: 'failed' })).status, 200, 'requested -> failed');

  const t3 = await requestedTask();
  const s3 = await L.update({ ...withBusinessKey(t3), status: 'in-progress' });
  assert.equal((await L.update({ ...s3.resource, status: 'failed' })).status, 200, 'in-progress -> failed');

  const t4 = await requestedTask();
  const refusals: [string, any, RegExp][] = [
    ['output on requested -> in-progress', withOutput({ ...withBusinessKey(t4), status: 'in-progress' }), /Task.output must be empty/],
    ['changed input', { ...withBusinessKey(t4), status: 'in-progress', input: [...withBusinessKey(t4).input, { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'correlation-key' }] }, valueString: 'c' }] }, /Task.input/],
    ['changed requester', { ...withBusinessKey(t4), status: 'in-progress', requester: { type: 'Organization', identifier: org(remoteB) } }, /Task.requester/],
    ['changed restriction', { ...withBusinessKey(t4), status: 'in-progress', restriction: { recipient: [{ type: 'Organization', identifier: org(remoteB) }] } }, /Task.restriction/],
    ['changed instantiatesCanonical', { ...withBusinessKey(t4), status: 'in-progress', instantiatesCanonical: 'http://dsf.dev/bpe/Process/allproc|1.0' }, /Task.instantiatesCanonical/],
    ['requested -> draft', { ...t4, status: 'draft', identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: 'x' }] }, /requested->draft is not allowed/],
  ];
  for (const [name, changed, message] of refusals) {
    const r = await L.update(changed);
    assert.equal(r.status, 403, `${name}: ${r.status} ${r.message}`);
    assert.match(r.message!, message, name);
  }
  assert.equal((await L.read('Task', t4.id)).resource.meta.versionId, '1', 'nothing stored');

  // who may update
  assertRefused(await as(site, remoteA).update({ ...withBusinessKey(t4), status: 'in-progress' }), /lacks the role UPDATE for Task/, 'remote update');
  const userUpdate: Identity = { ...user, roles: new Map([...user.roles, ['UPDATE', 'all']]) };
  const byUser = await as(site, userUpdate).update({ ...withBusinessKey(t4), status: 'in-progress' });
  assert.equal(byUser.status, 403);
  assert.match(byUser.message!, /only the local organization or a DSF_ADMIN/);
  assert.equal((await as(site, admin).update({ ...withBusinessKey(t4), status: 'in-progress' })).status, 200);
});

test('draft -> draft keeps the task-identifier; requested -> failed works without the ActivityDefinition', async () => {
  const L = as(site, local);
  const d = (await L.create(task({ process: 'orgproc', status: 'draft', identifier: 'dd-1', requester: org(local), recipient: localId }))).resource;
  assert.equal((await L.update({ ...d, authoredOn: '2024-06-01T10:00:00Z' })).status, 200);
  const renamed = await L.update({ ...d, identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: 'dd-2' }] });
  assertRefused(renamed, /^Task update \(draft->draft\): the task-identifier of a draft Task may not change/, 'renamed draft');
  const { identifier: _identifier, ...withoutIdentifier } = (await L.read('Task', d.id)).resource;
  const promoted = await L.update({ ...withoutIdentifier, status: 'requested' });
  assertRefused(promoted, /^Task update: status transition draft->requested is not allowed/, 'draft -> requested');

  assert.equal((await L.create(activityDefinition('shortlived', [coding.remoteAll()], [coding.localAll()]))).status, 201);
  const t = (await as(site, remoteB).create(task({ process: 'shortlived', requester: org(remoteB), recipient: localId }))).resource;
  const ad = (await L.search('ActivityDefinition', 'url=http://dsf.dev/bpe/Process/shortlived')).resource.entry[0].resource;
  assert.equal((await L.delete('ActivityDefinition', ad.id)).status, 200);
  assertRefused(await L.update({ ...withBusinessKey(t), status: 'in-progress' }), /^Task update \(requested->in-progress\): no ActivityDefinition .*shortlived\|1.0/, 'in-progress needs the ActivityDefinition');
  assert.equal((await L.update({ ...withBusinessKey(t), status: 'failed' })).status, 200, 'failed does not (#421)');
});

test('delete: drafts only, by the local organization or DSF_ADMIN', async () => {
  const L = as(site, local);
  const d = (await L.create(task({ process: 'orgproc', status: 'draft', identifier: 'del-1', requester: org(local), recipient: localId }))).resource;
  const t = await requestedTask();
  const refused = await L.delete('Task', t.id);
  assert.equal(refused.status, 403);
  assert.match(refused.message!, /only draft Tasks/);
  assert.equal((await L.read('Task', t.id)).status, 200, 'still there');
  assertRefused(await as(site, remoteA).delete('Task', d.id), /lacks the role DELETE for Task/, 'remote delete');
  assert.equal((await L.delete('Task', d.id)).status, 200);
  assert.equal((await L.read('Task', d.id)).status, 410);
  // the identifier of a deleted draft is free again
  assert.equal((await L.create(task({ process: 'orgproc', status: 'draft', identifier: 'del-1', requester: org(local), recipient: localId }))).status, 201);
});

test('who reads which Task: requester, recipient, practitioner drafts; search totals and history agree', async () => {
  const fromA = await requestedTask();
  const fromB = (await as(site, remoteB).create(task({ process: 'allproc', requester: org(remoteB), recipient: localId }))).resource;
  const fromUser = (await as(site, user).create(task({ process: 'orgproc', requester: mail('user@test.org'), recipient: localId }))).resource;
  const draft = (await as(site, local).create(task({ process: 'orgproc', status: 'draft', identifier: 'read-1', requester: org(local), recipient: localId }))).resource;

  const reads: [string, Identity, any, number][] = [
    ['requester reads its Task', remoteA, fromA, 200],
    ['other remote does not', remoteB, fromA, 403],
    ['remote reads its own', remoteB, fromB, 200],
    ['remote does not read drafts', remoteA, draft, 403],
    ['local recipient reads', local, fromA, 200],
    ['local reads a practitioner Task addressed to it', local, fromUser, 200],
    ['practitioner reads its own', user, fromUser, 200],
    ['practitioner reads drafts addressed to the local organization', userWithoutRole, draft, 200],
    ['practitioner does not read others', userWithoutRole, fromA, 403],
    ['DSF_ADMIN reads Tasks addressed to the local organization', admin, fromA, 200],
  ];
  for (const [name, identity, t, expected] of reads) {
    const r = await as(site, identity).read('Task', t.id);
    if (expected === 403) assertRefused(r, /^Not allowed to read Task\//, name);
    else assert.equal(r.status, expected, name);
  }

  for (const identity of [remoteA, remoteB, userWithoutRole]) {
    const who = as(site, identity);
    const search = await who.search('Task', '_count=500');
    const ids = matchIds(search.resource);
    assert.equal(search.resource.total, ids.length, `${identity.displayName}: total equals what is shown`);
    for (const id of ids) assert.equal((await who.read('Task', id)).status, 200, `${identity.displayName}: every match readable`);
    const history = await who.history('Task', undefined, '_count=1000');
    assert.equal(history.resource.total, history.resource.entry.length);
    const historyIds = new Set(history.resource.entry.map((e: any) => e.resource?.id).filter(Boolean));
    for (const id of historyIds) assert.ok(ids.includes(id as string) || (await who.read('Task', id as string)).status === 410, `${identity.displayName}: history shows only readable Tasks`);
  }
  const a = matchIds((await as(site, remoteA).search('Task', '_count=500')).resource);
  assert.ok(a.includes(fromA.id) && !a.includes(fromB.id) && !a.includes(draft.id) && !a.includes(fromUser.id));
  const p = matchIds((await as(site, userWithoutRole).search('Task', '_count=500')).resource);
  assert.ok(p.includes(draft.id) && !p.includes(fromA.id) && !p.includes(fromUser.id));
  const all = (await as(site, local).search('Task', '_summary=count')).resource.total;
  assert.ok(all > a.length);

  // A conditional create matches only what the caller may read: no hint of another's Task.
  const conditional = await as(site, remoteB).create(task({ process: 'allproc', requester: org(remoteB), recipient: localId }), `_id=${fromA.id}`);
  assert.equal(conditional.status, 201, conditional.message);
  assert.notEqual(conditional.resource.id, fromA.id);
  const own = await as(site, remoteB).create(task({ process: 'allproc', requester: org(remoteB), recipient: localId }), `_id=${fromB.id}`);
  assert.equal(own.status, 200);
  assert.equal(own.resource.id, fromB.id);
});
