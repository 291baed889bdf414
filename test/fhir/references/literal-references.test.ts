// Literal references to this server on create and update, single requests and bundle entries (the
// reference-related cases of the reference server's EndpointIntegrationTest and more): the target must
// exist, not be deleted, and be of a type the element allows; unknown kinds of reference are refused;
// in a transaction a urn:uuid no entry defines is refused and nothing of the transaction is stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { assertRefused, countStored, ORG_ID, organizationId, stored } from './reference-fixtures.ts';

let site: TestSite;
let localOrgId: string;
const LOCAL = testOrganizationIdentifier('Test_Organization');
const PARENT = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';

before(async () => {
  site = await startTestSite();
  localOrgId = await organizationId(site.client, LOCAL);
});
after(() => site?.stop());

const patient = (extra: object = {}): any => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://test.org/sid/mrn', value: randomUUID() }], active: true, ...extra });

let endpointNumber = 0;
const endpoint = (managingOrganization: object): any => {
  const n = ++endpointNumber;
  return {
    resourceType: 'Endpoint',
    meta: TAG_ALL,
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: `refs-${n}.test` }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization,
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: `https://refs-${n}.test/fhir`,
  };
};

test('Patient.managingOrganization naming an Organization that does not exist: 403 naming the element, nothing stored', async () => {
  const before = await countStored(site, 'Patient');
  const missing = `Organization/${randomUUID()}`;
  const r = await site.client.post('/Patient', patient({ managingOrganization: { reference: missing } }));
  assertRefused(r, 'Patient.managingOrganization', new RegExp(`Reference target ${missing} of reference at Patient.managingOrganization .* not found`));
  assert.deepEqual(r.json.issue[0].expression, ['Patient.managingOrganization']);
  assert.equal(await countStored(site, 'Patient'), before);
});

test('an existing Organization, relative or absolute with this base, with or without version, is accepted', async () => {
  for (const reference of [`Organization/${localOrgId}`, `${site.baseUrl}/Organization/${localOrgId}`, `Organization/${localOrgId}/_history/1`]) {
    const r = await site.client.post('/Patient', patient({ managingOrganization: { reference } }));
    assert.equal(r.status, 201, `${reference}: ${r.body}`);
    assert.equal(r.json.managingOrganization.reference, reference, 'a literal-only reference is returned as it came');
  }
  const noSuchVersion = await site.client.post('/Patient', patient({ managingOrganization: { reference: `Organization/${localOrgId}/_history/99` } }));
  assertRefused(noSuchVersion, 'Patient.managingOrganization', /not found/);
});

test('a deleted target, or a type this server does not serve: 403; a type the element does not allow: validation refuses it first', async () => {
  const org = await site.client.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: [PARENT] }, identifier: [{ system: ORG_ID, value: 'deleted-later.test' }], active: true });
  assert.equal((await site.client.delete(`/Organization/${org.id}`)).status, 200);
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { reference: `Organization/${org.id}` } })), 'Patient.managingOrganization', /not found/);
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { reference: `${site.baseUrl}/Organization/${org.id}/_history/1` } })), 'Patient.managingOrganization', /not found/);
  // Extension values may point at any type, so only the server's own list of types decides.
  const observation = { extension: [{ url: 'http://test.org/ext/any', valueReference: { reference: `Observation/${randomUUID()}` } }] };
  assertRefused(await site.client.post('/Patient', patient(observation)), 'Patient.extension', /not supported by this implementation/);
  // The reference answers this with its own 403 after validation; our validator (422) sees the profile's target types first.
  const other = await site.client.create(patient());
  const wrongType = await site.client.post('/Patient', patient({ managingOrganization: { reference: `Patient/${other.id}` } }));
  assert.equal(wrongType.status, 422, wrongType.body);
});

test('references of no recognisable form are refused: "::::", a bare urn:uuid, a conditional reference outside a bundle, "#contained"', async () => {
  const before = await countStored(site, 'Patient');
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { reference: '::::' } })), 'Patient.managingOrganization', /Unknown reference at Patient.managingOrganization/);
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { reference: `urn:uuid:${randomUUID()}` } })), 'Patient.managingOrganization', /Unknown reference/);
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { reference: `Organization?identifier=${ORG_ID}|${LOCAL}` } })), 'Patient.managingOrganization', /Unknown reference/);
  assertRefused(await site.client.post('/Patient', patient({ managingOrganization: { display: 'only a display' } })), 'Patient.managingOrganization', /Unknown reference/);
  const contained = patient({ contained: [{ resourceType: 'Organization', id: 'o1', name: 'Contained' }], managingOrganization: { reference: '#o1' } });
  assertRefused(await site.client.post('/Patient', contained), 'Patient.managingOrganization', /Unknown reference/);
  assert.equal(await countStored(site, 'Patient'), before);
});

test('what the reference does not look at: references inside contained resources, modifier extensions, extensions of elements', async () => {
  const r = await site.client.post('/Patient', patient({
    contained: [{ resourceType: 'Organization', id: 'o1', name: 'Contained', partOf: { reference: `Organization/${randomUUID()}` } }],
    modifierExtension: [{ url: 'http://test.org/ext/modifier', valueReference: { reference: `Organization/${randomUUID()}` } }],
    name: [{ family: 'Unchecked', extension: [{ url: 'http://test.org/ext/source', valueReference: { reference: '#o1' } }] }],
  }));
  assert.equal(r.status, 201, r.body);
});

test('extensions of the resource (and their nested extensions) are checked', async () => {
  const missing = `Organization/${randomUUID()}`;
  assertRefused(await site.client.post('/Patient', patient({ extension: [{ url: 'http://test.org/ext/org', valueReference: { reference: missing } }] })), 'Patient.extension', /not found/);
  const nested = { extension: [{ url: 'http://test.org/ext/outer', extension: [{ url: 'inner', valueReference: { reference: missing } }] }] };
  assertRefused(await site.client.post('/Patient', patient(nested)), 'Patient.extension.extension', /not found/);
  const ok = await site.client.post('/Patient', patient({ extension: [{ url: 'http://test.org/ext/org', valueReference: { reference: `Organization/${localOrgId}` } }] }));
  assert.equal(ok.status, 201, ok.body);
});

test('testCreateWithRelativeLiteralReferenceNotExisting (Endpoint)', async () => {
  const before = await countStored(site, 'Endpoint');
  assertRefused(await site.client.post('/Endpoint', endpoint({ reference: `Organization/${randomUUID()}` })), 'Endpoint.managingOrganization', /not found/);
  assert.equal(await countStored(site, 'Endpoint'), before);
});

test('testCreateViaBundleWithRelativeLiteralReferenceNotExisting (Endpoint)', async () => {
  const before = await countStored(site, 'Endpoint');
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: endpoint({ reference: `Organization/${randomUUID()}` }), request: { method: 'POST', url: 'Endpoint' } }] };
  assertRefused(await site.client.post('', bundle), 'Endpoint.managingOrganization', /Bundle.entry\[0\].*not found/);
  assert.equal(await countStored(site, 'Endpoint'), before);
});

test('testUpdateWithRelativeLiteralReferenceNotExisting and ...ViaBundle (Endpoint): 403, the stored version unchanged', async () => {
  const created = await site.client.create(endpoint({ reference: `Organization/${localOrgId}` }));
  const changed = { ...created, managingOrganization: { reference: `Organization/${randomUUID()}` } };
  assertRefused(await site.client.put(`/Endpoint/${created.id}`, changed), 'Endpoint.managingOrganization', /not found/);
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `${site.baseUrl}/Endpoint/${created.id}`, resource: changed, request: { method: 'PUT', url: `Endpoint/${created.id}` } }] };
  assertRefused(await site.client.post('', bundle), 'Endpoint.managingOrganization', /not found/);
  const now = await stored(site, created.id);
  assert.equal(now.meta.versionId, '1');
  assert.equal(now.managingOrganization.reference, `Organization/${localOrgId}`);
});

test('testCreateReadWithLogicalReference (Endpoint): literal and identifier stored; create response, read and vread show the identifier only', async () => {
  const both = { reference: `Organization/${localOrgId}`, type: 'Organization', identifier: { system: ORG_ID, value: LOCAL } };
  const logical = { type: 'Organization', identifier: { system: ORG_ID, value: LOCAL } };
  const r = await site.client.post('/Endpoint', endpoint(both));
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(r.json.managingOrganization, logical);
  assert.deepEqual((await stored(site, r.json.id)).managingOrganization, both);
  assert.deepEqual((await site.client.get(`/Endpoint/${r.json.id}`)).json.managingOrganization, logical);
  assert.deepEqual((await site.client.get(`/Endpoint/${r.json.id}/_history/1`)).json.managingOrganization, logical);
  const xml = await site.client.get(`/Endpoint/${r.json.id}?_format=xml`);
  assert.equal(xml.status, 200);
  assert.ok(xml.body.includes(LOCAL) && !xml.body.includes(`Organization/${localOrgId}`), 'XML too shows the identifier only');
  // The stored literal serves search and _include.
  const search = await site.client.get(`/Endpoint?organization=${localOrgId}&_include=Endpoint:organization`);
  const entry = search.json.entry.find((e: any) => e.resource.id === r.json.id);
  assert.deepEqual(entry.resource.managingOrganization, logical);
  assert.ok(search.json.entry.some((e: any) => e.search.mode === 'include' && e.resource.id === localOrgId));
});

test('a Patient whose managingOrganization came as an identifier only: resolved; what was read can be sent back', async () => {
  const logical = { type: 'Organization', identifier: { system: ORG_ID, value: LOCAL } };
  const r = await site.client.post('/Patient', patient({ managingOrganization: logical }));
  assert.equal(r.status, 201, r.body);
  assert.equal((await stored(site, r.json.id)).managingOrganization.reference, `Organization/${localOrgId}`);
  const read = (await site.client.get(`/Patient/${r.json.id}`)).json;
  assert.deepEqual(read.managingOrganization, logical);
  const again = await site.client.put(`/Patient/${r.json.id}`, { ...read, active: false });
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(again.json.managingOrganization, logical);
  assert.equal((await stored(site, r.json.id)).managingOrganization.reference, `Organization/${localOrgId}`);
  const history = await site.client.get(`/Patient/${r.json.id}/_history`);
  assert.deepEqual(history.json.entry.map((e: any) => e.resource.managingOrganization), [logical, logical]);
});

test('testCreateReadWithLogicalReferenceViaBundle (Endpoint): entries may refer to later ones; literal-only references come back as they were', async () => {
  const orgUrn = `urn:uuid:${randomUUID()}`;
  const epUrn = `urn:uuid:${randomUUID()}`;
  const ep = endpoint({ reference: orgUrn });
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      // The Organization comes first and refers to the Endpoint created after it.
      { fullUrl: orgUrn, resource: { resourceType: 'Organization', meta: TAG_ALL, identifier: [{ system: ORG_ID, value: 'bla-bla.test' }], extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint', valueString: 'a'.repeat(128) }], endpoint: [{ reference: epUrn }], active: true }, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: epUrn, resource: ep, request: { method: 'POST', url: 'Endpoint' } },
      { request: { method: 'GET', url: `Endpoint?identifier=${ep.identifier[0].system}|${ep.identifier[0].value}` } },
    ],
  };
  const r = await site.client.post('', bundle);
  assert.equal(r.status, 200, r.body);
  // The search found one Endpoint: as the reference, the entry holds it rather than a searchset.
  const found = r.json.entry[2].resource;
  assert.match(found.managingOrganization.reference, /^Organization\/[0-9a-f-]{36}$/);
});

test('a transaction with a urn:uuid no entry defines is refused and rolls back: nothing of it is stored', async () => {
  const before = { patients: await countStored(site, 'Patient'), endpoints: await countStored(site, 'Endpoint') };
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: patient(), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: endpoint({ reference: `urn:uuid:${randomUUID()}` }), request: { method: 'POST', url: 'Endpoint' } },
    ],
  };
  assertRefused(await site.client.post('', bundle), 'Endpoint.managingOrganization', /Bundle.entry\[1\].*Unknown reference/);
  assert.deepEqual({ patients: await countStored(site, 'Patient'), endpoints: await countStored(site, 'Endpoint') }, before);
});

test('a batch refuses only the entry with the bad reference; conditional references resolve in batches too', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: patient({ managingOrganization: { reference: `Organization/${randomUUID()}` } }), request: { method: 'POST', url: 'Patient' } },
      { resource: patient({ managingOrganization: { reference: `Organization?identifier=${ORG_ID}|${LOCAL}` } }), request: { method: 'POST', url: 'Patient' } },
      { resource: patient({ managingOrganization: { reference: `Organization?identifier=${ORG_ID}|nobody.test` } }), request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const r = await site.client.post('', bundle);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.entry.map((e: any) => e.response.status.slice(0, 3)), ['403', '201', '403']);
  assert.match(r.json.entry[0].response.outcome.issue[0].diagnostics, /Patient.managingOrganization.*not found/);
  assert.match(r.json.entry[2].response.outcome.issue[0].diagnostics, /by condition .* not found/);
  assert.equal(r.json.entry[1].resource.managingOrganization.reference, `Organization/${localOrgId}`);
});
