// The cases of the reference server's ReferenceResolverIntegrationTest, over mTLS: a remote organisation
// sends Tasks whose inputs carry logical and literal references; which are resolved, which refused,
// which stored as they came. Each refusal leaves nothing stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, testOrganizationIdentifier, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { assertRefused, countStored, createProcess, ORG_ID, orgRef, referenceParameter, refTask, stored } from './reference-fixtures.ts';

let site: TestSite;
let external: FhirTestClient;
const LOCAL = testOrganizationIdentifier('Test_Organization');
const EXTERNAL = testOrganizationIdentifier('External_Test_Organization');

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  await createProcess(site);
  external = site.clientFor('External_Test_Organization');
});
after(() => site?.stop());

const taskWithInput = (valueReference: object) => refTask({ requester: EXTERNAL, recipient: LOCAL, inputs: [referenceParameter('patient', valueReference)] });

const inBundle = (task: object) => ({ resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: task, request: { method: 'POST', url: 'Task' } }] });

const inputReference = (task: any) => task.input.at(-1).valueReference;

test('testUnknownLogicalReference: identifier system without a resolvable NamingSystem is stored as it came', async () => {
  const ref = { type: 'Patient', identifier: { system: 'http://foo.bar/sid/pseudonym', value: randomUUID() } };
  const r = await external.post('/Task', taskWithInput(ref));
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(inputReference(await stored(site, r.json.id)), ref, 'no literal was added');
});

test('testUnknownAbsoluteLiteralExternalReference: a server no Endpoint names is not asked', async () => {
  const ref = { reference: `http://foo.bar/fhir/Patient/${randomUUID()}` };
  const r = await external.post('/Task', taskWithInput(ref));
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(inputReference(r.json), ref);
});

test('testUnknownLogicalReferenceInBundle', async () => {
  const r = await external.post('', inBundle(taskWithInput({ type: 'Patient', identifier: { system: 'http://foo.bar/sid/pseudonym', value: randomUUID() } })));
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.entry[0].response.status, '201 Created');
});

test('testUnknownAbsoluteLiteralExternalReferenceInBundle', async () => {
  const r = await external.post('', inBundle(taskWithInput({ reference: `http://foo.bar/fhir/Patient/${randomUUID()}` })));
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.entry[0].response.status, '201 Created');
});

test('testKnownLogicalReferenceBasedOnKnownNamingSystem: resolved, stored with the literal, read without it', async () => {
  const r = await external.post('/Task', taskWithInput(orgRef(LOCAL)));
  assert.equal(r.status, 201, r.body);
  const localOrganization = (await site.client.get(`/Organization?identifier=${ORG_ID}|${LOCAL}`)).json.entry[0].resource;
  const inDatabase = inputReference(await stored(site, r.json.id));
  assert.equal(inDatabase.reference, `Organization/${localOrganization.id}`);
  assert.deepEqual(inDatabase.identifier, { system: ORG_ID, value: LOCAL });
  assert.deepEqual(inputReference(r.json), orgRef(LOCAL), 'the response shows the identifier only');
  const read = await site.client.get(`/Task/${r.json.id}`);
  assert.deepEqual(inputReference(read.json), orgRef(LOCAL));
});

test('testKnownLogicalReferenceMissingTypeInformationBasedOnKnownNamingSystem: 403, nothing stored', async () => {
  const before = await countStored(site, 'Task');
  const r = await external.post('/Task', taskWithInput({ identifier: { system: ORG_ID, value: LOCAL } }));
  assertRefused(r, 'Task.input', /Unknown reference/);
  assert.equal(await countStored(site, 'Task'), before);
});

test('testUnknownLogicalReferenceBasedOnKnownNamingSystem: no such organisation, 403, nothing stored', async () => {
  const before = await countStored(site, 'Task');
  const r = await external.post('/Task', taskWithInput(orgRef('Test_Organization_Unknown')));
  assertRefused(r, 'Task.input', /identifier 'http:\/\/dsf.dev\/sid\/organization-identifier\|Test_Organization_Unknown'.*not found/);
  assert.equal(await countStored(site, 'Task'), before);
  const inBundleToo = await external.post('', inBundle(taskWithInput(orgRef('Test_Organization_Unknown'))));
  assertRefused(inBundleToo, 'Task.input', /Bundle.entry\[0\].*identifier 'http:\/\/dsf.dev\/sid\/organization-identifier\|Test_Organization_Unknown'.*not found/);
  assert.equal(await countStored(site, 'Task'), before);
});

test('testUnknownLogicalReferenceBasedOnUnknownNamingSystem: stored as it came', async () => {
  const r = await external.post('/Task', taskWithInput({ type: 'Patient', identifier: { system: 'http://foo.bar/fhir/sid/test', value: 'source/original' } }));
  assert.equal(r.status, 201, r.body);
  assert.equal(inputReference(await stored(site, r.json.id)).reference, undefined);
});

test('the requester and recipient of a Task are resolved the same way: stored with the literal, read without it', async () => {
  const r = await external.post('/Task', refTask({ requester: EXTERNAL, recipient: LOCAL }));
  assert.equal(r.status, 201, r.body);
  const s = await stored(site, r.json.id);
  assert.match(s.requester.reference, /^Organization\/[0-9a-f-]{36}$/);
  assert.match(s.restriction.recipient[0].reference, /^Organization\/[0-9a-f-]{36}$/);
  assert.deepEqual(r.json.requester, orgRef(EXTERNAL));
  assert.deepEqual(r.json.restriction.recipient, [orgRef(LOCAL)]);
});

test('a NamingSystem stored later makes its identifier system resolvable; two matches are refused', async () => {
  const system = 'http://test.org/sid/patient-resolvable';
  const patient = { resourceType: 'Patient', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] }, identifier: [{ system, value: 'twice' }], active: true };
  const ref = { type: 'Patient', identifier: { system, value: 'twice' } };
  const first = await site.client.create(patient);
  // Before the NamingSystem: not checked, stored as it came.
  const before = await external.post('/Task', taskWithInput(ref));
  assert.equal(before.status, 201, before.body);
  assert.equal(inputReference(await stored(site, before.json.id)).reference, undefined);

  const ns = await site.client.post('/NamingSystem', {
    resourceType: 'NamingSystem',
    meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    name: 'TestPatientResolvable',
    status: 'draft',
    kind: 'identifier',
    date: '2024-01-01',
    uniqueId: [{ modifierExtension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-check-logical-reference', valueBoolean: true }], type: 'other', value: system }],
  });
  assert.equal(ns.status, 201, ns.body);
  const resolved = await external.post('/Task', taskWithInput(ref));
  assert.equal(resolved.status, 201, resolved.body);
  assert.equal(inputReference(await stored(site, resolved.json.id)).reference, `Patient/${first.id}`);

  await site.client.create(patient);
  const count = await countStored(site, 'Task');
  const twice = await external.post('/Task', taskWithInput(ref));
  assertRefused(twice, 'Task.input', /Found more than one match for reference target by identifier/);
  assert.equal(await countStored(site, 'Task'), count);
});
