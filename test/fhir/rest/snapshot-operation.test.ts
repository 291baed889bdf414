import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
let storedId: string;
const PROFILE_URL = 'http://test.dsf.dev/fhir/StructureDefinition/patient-with-identifier';

/** A differential-only Patient profile: identifier required, at most one name. */
function patientProfile(version: string, extra: any[] = []): any {
  return {
    resourceType: 'StructureDefinition',
    meta: TAG_ALL,
    url: PROFILE_URL,
    version,
    name: 'PatientWithIdentifier',
    date: '2024-01-01',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: { element: [{ id: 'Patient.identifier', path: 'Patient.identifier', min: 1 }, { id: 'Patient.name', path: 'Patient.name', max: '1' }, ...extra] },
  };
}

function element(sd: any, id: string): any {
  const e = sd.snapshot?.element?.find((x: any) => x.id === id);
  assert.ok(e, `snapshot lacks ${id}`);
  return e;
}

/** The snapshot carries the base's elements and the profile's constraints. */
function assertSnapshotOf(sd: any, version: string): void {
  assert.equal(sd.resourceType, 'StructureDefinition');
  assert.equal(sd.url, PROFILE_URL);
  assert.equal(sd.version, version);
  assert.equal(element(sd, 'Patient.identifier').min, 1);
  assert.equal(element(sd, 'Patient.name').max, '1');
  assert.equal(element(sd, 'Patient.birthDate').min, 0);
  assert.ok(sd.differential.element.length === 2 || sd.differential.element.length === 3);
}

before(async () => {
  site = await startTestSite();
  storedId = (await site.client.create(patientProfile('1.0.0'))).id;
  await site.client.create(patientProfile('1.1.0', [{ id: 'Patient.gender', path: 'Patient.gender', min: 1 }]));
});
after(() => site?.stop());

test('instance level: GET and POST on /StructureDefinition/{id}/$snapshot return the stored profile with a snapshot', async () => {
  for (const method of ['GET', 'POST']) {
    const r = await site.client.request(method, `/StructureDefinition/${storedId}/$snapshot`);
    assert.equal(r.status, 200, r.body);
    assertSnapshotOf(r.json, '1.0.0');
    assert.equal(r.json.id, storedId);
  }
});

test('instance level: an unknown id gives 404 with an OperationOutcome', async () => {
  const r = await site.client.get('/StructureDefinition/6d1c4a4e-0000-4000-8000-000000000000/$snapshot');
  assert.equal(r.status, 404);
  assert.equal(r.json.resourceType, 'OperationOutcome');
});

test('type level GET ?url= picks the newest version, url|version picks that version; unknown url 404', async () => {
  const newest = await site.client.get(`/StructureDefinition/$snapshot?url=${encodeURIComponent(PROFILE_URL)}`);
  assert.equal(newest.status, 200, newest.body);
  assertSnapshotOf(newest.json, '1.1.0');
  assert.equal(element(newest.json, 'Patient.gender').min, 1);

  const pinned = await site.client.get(`/StructureDefinition/$snapshot?url=${encodeURIComponent(`${PROFILE_URL}|1.0.0`)}`);
  assert.equal(pinned.status, 200, pinned.body);
  assertSnapshotOf(pinned.json, '1.0.0');

  const unknown = await site.client.get(`/StructureDefinition/$snapshot?url=${encodeURIComponent('http://test.dsf.dev/fhir/StructureDefinition/none')}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.resourceType, 'OperationOutcome');

  const missing = await site.client.get('/StructureDefinition/$snapshot');
  assert.equal(missing.status, 400);
  assert.equal(missing.json.resourceType, 'OperationOutcome');
});

test('type level POST: Parameters with url (valueUri, valueString), with definition or resource, or a bare StructureDefinition', async () => {
  const byUri = await site.client.post('/StructureDefinition/$snapshot', { resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: `${PROFILE_URL}|1.0.0` }] });
  assert.equal(byUri.status, 200, byUri.body);
  assertSnapshotOf(byUri.json, '1.0.0');
  const byString = await site.client.post('/StructureDefinition/$snapshot', { resourceType: 'Parameters', parameter: [{ name: 'url', valueString: PROFILE_URL }] });
  assertSnapshotOf(byString.json, '1.1.0');

  // Not stored: the definition travels in the request.
  const unstored = { ...patientProfile('9.0.0'), url: 'http://test.dsf.dev/fhir/StructureDefinition/unstored' };
  for (const name of ['definition', 'resource']) {
    const r = await site.client.post('/StructureDefinition/$snapshot', { resourceType: 'Parameters', parameter: [{ name, resource: unstored }] });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.url, unstored.url);
    assert.equal(element(r.json, 'Patient.identifier').min, 1);
  }
  const bare = await site.client.post('/StructureDefinition/$snapshot', unstored);
  assert.equal(bare.status, 200, bare.body);
  assert.equal(element(bare.json, 'Patient.name').max, '1');
  // Nothing was stored by the operation.
  const search = await site.client.get(`/StructureDefinition?url=${encodeURIComponent(unstored.url)}`);
  assert.equal(search.json.total, 0);
});

test('XML: POST of Parameters as XML and an XML answer', async () => {
  const body = toFhirXml({ resourceType: 'Parameters', parameter: [{ name: 'definition', resource: patientProfile('2.0.0') }] } as any);
  const r = await site.client.post('/StructureDefinition/$snapshot', body, { 'content-type': 'application/fhir+xml', accept: 'application/fhir+xml' });
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['content-type']), /^application\/fhir\+xml/);
  assertSnapshotOf(parseFhirXml(r.body), '2.0.0');

  const get = await site.client.get(`/StructureDefinition/${storedId}/$snapshot?_format=xml`);
  assert.equal(get.status, 200);
  assertSnapshotOf(parseFhirXml(get.body), '1.0.0');
});

test('errors: no differential 400, a path the base lacks 422, a wrong parameter or resource 400, each with an OperationOutcome', async () => {
  const { differential: _d, ...noDifferential } = patientProfile('3.0.0');
  const cases: [any, number][] = [
    [noDifferential, 400],
    [patientProfile('3.0.1', [{ id: 'Patient.nonsense', path: 'Patient.nonsense', min: 1 }]), 422],
    [{ ...patientProfile('3.0.2'), baseDefinition: 'http://test.dsf.dev/fhir/StructureDefinition/missing-base' }, 422],
    [{ resourceType: 'Parameters', parameter: [{ name: 'url', valueBoolean: true }] }, 400],
    [{ resourceType: 'Parameters', parameter: [{ name: 'definition', resource: { resourceType: 'Patient' } }] }, 400],
    [{ resourceType: 'Parameters', parameter: [] }, 400],
    [{ resourceType: 'Patient' }, 400],
  ];
  for (const [body, status] of cases) {
    const r = await site.client.post('/StructureDefinition/$snapshot', body);
    assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 120)} -> ${r.body}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.ok(r.json.issue[0].diagnostics);
  }
});

test('generic routes still work next to $snapshot: read, and $permanent-delete on StructureDefinition', async () => {
  const read = await site.client.get(`/StructureDefinition/${storedId}`);
  assert.equal(read.status, 200);
  assert.equal(read.json.snapshot, undefined);
  const created = await site.client.create({ ...patientProfile('4.0.0') });
  assert.equal((await site.client.delete(`/StructureDefinition/${created.id}`)).status, 200);
  const perm = await site.client.post(`/StructureDefinition/${created.id}/$permanent-delete`, undefined);
  assert.equal(perm.status, 200, perm.body);
});

test('/metadata lists $snapshot on StructureDefinition', async () => {
  const r = await site.client.get('/metadata');
  const sd = r.json.rest[0].resource.find((x: any) => x.type === 'StructureDefinition');
  assert.deepEqual(sd.operation, [{ name: 'snapshot', definition: 'http://hl7.org/fhir/OperationDefinition/StructureDefinition-snapshot' }]);
});
