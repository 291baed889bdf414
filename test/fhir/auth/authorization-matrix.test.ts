// Authorization over real HTTPS with client certificates: the identities come from the certificates
// (local organisation, two remote organisations, a local user and a DSF_ADMIN from the role
// configuration), every refusal is a 403 OperationOutcome, and nothing unreadable leaks into
// search results, totals, history or batch responses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, testCertificates, testOrganizationIdentifier, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { matchIds, ORG_ID, organizationTag, roleTag, tagAll, tagLocal } from './auth-support.ts';
import { activityDefinition, coding, task, taskProfile } from './process-fixtures.ts';

let site: TestSite;
let local: FhirTestClient, external: FhirTestClient, third: FhirTestClient, user: FhirTestClient, admin: FhirTestClient;
const EXTERNAL = testOrganizationIdentifier('External_Test_Organization');
const THIRD = testOrganizationIdentifier('Third_Test_Organization');
const LOCAL = testOrganizationIdentifier('Test_Organization');
const PID = 'http://example.org/matrix';
const ids: Record<string, string> = {};

before(async () => {
  const certs = await testCertificates();
  site = await startTestSite({
    remoteOrganizations: true,
    roleConfig: `
- users:
    thumbprint: ${certs.users['practitioner']!.thumbprint}
    dsf-role: [READ, SEARCH, HISTORY, { CREATE: [Task] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
- admins:
    email: admin@test.org
    dsf-role: [CREATE, READ, UPDATE, DELETE, SEARCH, HISTORY]
    practitioner-role: http://dsf.dev/fhir/CodeSystem/practitioner-role|DSF_ADMIN
`,
  });
  local = site.client;
  external = site.clientFor('External_Test_Organization');
  third = site.clientFor('Third_Test_Organization');
  user = site.clientFor('practitioner');
  admin = site.clientFor('admin');
  const patient = (name: string, meta: object) => ({ resourceType: 'Patient', meta, identifier: [{ system: PID, value: name }], active: true });
  ids.all = (await local.create(patient('all', tagAll()))).id;
  ids.local = (await local.create(patient('local', tagLocal()))).id;
  ids.external = (await local.create(patient('external', { tag: [...tagLocal().tag, organizationTag(EXTERNAL)] }))).id;
  await local.create(taskProfile());
  await local.create(activityDefinition('matrix', [coding.organization(false, EXTERNAL), coding.localAllPractitioner('DIC_USER')], [coding.localAll()]));
});
after(() => site?.stop());

/** A 403 OperationOutcome naming the rule that refused (a refusal for another reason must not pass). */
function assertForbidden(r: { status: number; json: any }, rule: RegExp): void {
  assert.equal(r.status, 403, JSON.stringify(r.json));
  assert.equal(r.json?.resourceType, 'OperationOutcome');
  assert.equal(r.json.issue[0].code, 'forbidden');
  assert.match(r.json.issue[0].diagnostics, rule);
}

test('read access by tag, per certificate', async () => {
  const expected: [string, FhirTestClient, string[]][] = [
    ['local organization', local, ['all', 'local', 'external']],
    ['local user', user, ['all', 'local', 'external']],
    ['remote named by ORGANIZATION', external, ['all', 'external']],
    ['other remote', third, ['all']],
  ];
  for (const [name, client, names] of expected) {
    const s = await client.get(`/Patient?identifier=${PID}|`);
    assert.equal(s.status, 200, `${name}: ${s.body}`);
    assert.deepEqual(matchIds(s.json), names.map((n) => ids[n]).sort(), `${name}: matches`);
    assert.equal(s.json.total, names.length, `${name}: total`);
    for (const [n, id] of Object.entries(ids)) {
      const r = await client.get(`/Patient/${id}`);
      if (names.includes(n)) assert.equal(r.status, 200, `${name} reads ${n}`);
      else assertForbidden(r, /Not allowed to read/);
    }
    const h = await client.get('/Patient/_history');
    assert.equal(h.status, 200);
    assert.equal(h.json.total, names.length, `${name}: history total`);
  }
});

test('remote organizations write nothing but Tasks; refusals name the rule', async () => {
  assertForbidden(await external.post('/Patient', { resourceType: 'Patient', meta: tagAll(), active: true }), /lacks the role CREATE for Patient/);
  const current = (await local.get(`/Patient/${ids.all}`)).json;
  assertForbidden(await external.put(`/Patient/${ids.all}`, { ...current, active: false }), /lacks the role UPDATE/);
  assertForbidden(await external.delete(`/Patient/${ids.all}`), /lacks the role DELETE/);
  assertForbidden(await user.post('/Patient', { resourceType: 'Patient', meta: tagAll(), active: true }), /lacks the role CREATE for Patient/);
  assert.equal((await local.get(`/Patient/${ids.all}`)).json.meta.versionId, '1');
});

test('Tasks: the ActivityDefinition decides who may send; requester and recipient read them', async () => {
  const fromExternal = await external.post('/Task', task({ process: 'matrix', requester: { system: ORG_ID, value: EXTERNAL }, recipient: LOCAL }));
  assert.equal(fromExternal.status, 201, fromExternal.body);
  assertForbidden(await third.post('/Task', task({ process: 'matrix', requester: { system: ORG_ID, value: THIRD }, recipient: LOCAL })), /does not authorize third-test-organization.test as requester/);
  const fromUser = await user.post('/Task', task({ process: 'matrix', requester: { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'practitioner@test.org' }, recipient: LOCAL }));
  assert.equal(fromUser.status, 201, fromUser.body);

  const id = fromExternal.json.id;
  assert.equal((await external.get(`/Task/${id}`)).status, 200);
  assert.equal((await local.get(`/Task/${id}`)).status, 200);
  assert.equal((await admin.get(`/Task/${id}`)).status, 200);
  assertForbidden(await third.get(`/Task/${id}`), /^Not allowed to read Task\//);
  assertForbidden(await user.get(`/Task/${id}`), /^Not allowed to read Task\//);
  const thirdSearch = await third.get('/Task');
  assert.equal(thirdSearch.json.total, 0);
  assert.equal((await third.get('/Task/_history')).json.total, 0);
  assert.deepEqual(matchIds((await user.get('/Task')).json), [fromUser.json.id]);

  const started = await local.put(`/Task/${id}`, { ...fromExternal.json, status: 'in-progress', input: [...fromExternal.json.input, { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'business-key' }] }, valueString: 'bk' }] });
  assert.equal(started.status, 200, started.body);
  assertForbidden(await external.put(`/Task/${id}`, { ...started.json, status: 'completed' }), /lacks the role UPDATE/);
  assertForbidden(await local.delete(`/Task/${id}`), /only draft Tasks/);
});

test('batch entries answer 403 one by one and searches inside a batch stay filtered', async () => {
  const r = await third.post('', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { request: { method: 'GET', url: `Patient/${ids.local}` } },
      { request: { method: 'GET', url: `Patient?identifier=${PID}|` } },
      { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', meta: tagAll(), active: true } },
    ],
  });
  assert.equal(r.status, 200, r.body);
  const [read, search, create] = r.json.entry;
  assert.equal(read.response.status, '403 Forbidden');
  assert.match(read.response.outcome.issue[0].diagnostics, /Not allowed to read Patient\//);
  // One readable match: as the reference, the entry holds that resource rather than a searchset.
  assert.equal(search.resource.resourceType, 'Patient');
  assert.equal(search.resource.id, ids.all);
  assert.equal(create.response.status, '403 Forbidden');
  assert.match(create.response.outcome.issue[0].diagnostics, /lacks the role CREATE for Patient/);
  assert.equal((await local.get(`/Patient?identifier=${PID}|&_summary=count`)).json.total, 3, 'nothing created');
});

test('raw Binary download follows the security context', async () => {
  const up = await local.request('POST', '/Binary', 'matrix secret', { 'content-type': 'text/plain', 'x-security-context': `Patient/${ids.external}` });
  assert.equal(up.status, 201, up.body);
  const id = up.json.id;
  const mine = await external.get(`/Binary/${id}`, { accept: 'text/plain' });
  assert.equal(mine.status, 200);
  assert.equal(mine.body, 'matrix secret');
  assertForbidden(await third.get(`/Binary/${id}`, { accept: 'application/fhir+json' }), /^Not allowed to read Binary\//);
  const raw = await third.get(`/Binary/${id}`, { accept: 'text/plain' });
  assertForbidden(raw, /^Not allowed to read Binary\//);
  assert.ok(!raw.body.includes('matrix secret'));
  assert.equal((await third.get('/Binary')).json.total, 0);
});

test('a role through an affiliation: granted to the member only, and gone when the affiliation is', async () => {
  const parent = await local.create({ resourceType: 'Organization', meta: { ...tagAll(), profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] }, identifier: [{ system: ORG_ID, value: 'matrix-consortium.test' }], active: true });
  const member = (await local.get(`/Organization?identifier=${ORG_ID}|${EXTERNAL}&_include=Organization:endpoint`)).json.entry;
  const memberOrg = member.find((e: any) => e.resource.resourceType === 'Organization').resource;
  const memberEndpoint = member.find((e: any) => e.resource.resourceType === 'Endpoint').resource;
  const affiliation = await local.create({
    resourceType: 'OrganizationAffiliation',
    meta: tagAll(),
    active: true,
    organization: { reference: `Organization/${parent.id}` },
    participatingOrganization: { reference: `Organization/${memberOrg.id}` },
    endpoint: [{ reference: `Endpoint/${memberEndpoint.id}` }],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  });
  await local.create(activityDefinition('matrixrole', [coding.role(false, 'matrix-consortium.test', 'DIC')], [coding.localAll()]));
  const shared = await local.create({ resourceType: 'Patient', meta: { tag: [...tagLocal().tag, roleTag('matrix-consortium.test', 'DIC')] }, identifier: [{ system: PID, value: 'role' }], active: true });
  const taskCount = async () => (await local.get('/Task?_summary=count')).json.total as number;

  // With the affiliation: the member reads the ROLE-tagged resource and may send; the other remote may not.
  assert.equal((await external.get(`/Patient/${shared.id}`)).status, 200);
  assertForbidden(await third.get(`/Patient/${shared.id}`), /^Not allowed to read Patient\//);
  assert.equal((await third.get(`/Patient?identifier=${PID}|role`)).json.total, 0);
  const sent = await external.post('/Task', task({ process: 'matrixrole', requester: { system: ORG_ID, value: EXTERNAL }, recipient: LOCAL }));
  assert.equal(sent.status, 201, sent.body);
  let before = await taskCount();
  assertForbidden(await third.post('/Task', task({ process: 'matrixrole', requester: { system: ORG_ID, value: THIRD }, recipient: LOCAL })), /^Task create \(requested\): ActivityDefinition .* does not authorize .* as requester/);
  assert.equal(await taskCount(), before, 'nothing stored');

  // Without it: neither reading nor sending, at once.
  assert.equal((await local.delete(`/OrganizationAffiliation/${affiliation.id}`)).status, 200);
  assertForbidden(await external.get(`/Patient/${shared.id}`), /^Not allowed to read Patient\//);
  assert.equal((await external.get(`/Patient?identifier=${PID}|role`)).json.total, 0);
  before = await taskCount();
  assertForbidden(await external.post('/Task', task({ process: 'matrixrole', requester: { system: ORG_ID, value: EXTERNAL }, recipient: LOCAL })), /^Task create \(requested\): ActivityDefinition .* does not authorize .* as requester/);
  assert.equal(await taskCount(), before, 'nothing stored');
});
