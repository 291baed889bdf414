// The profiles the validator uses follow what is committed: a StructureDefinition from a rolled-back
// transaction, or a deleted one, no longer validates anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const profile = (name: string) => ({
  resourceType: 'StructureDefinition',
  meta: TAG_ALL,
  url: `http://example.org/fhir/StructureDefinition/${name}`,
  version: '1.0',
  name,
  status: 'active',
  date: '2026-01-01',
  kind: 'resource',
  abstract: false,
  type: 'Patient',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
  derivation: 'constraint',
  differential: { element: [{ id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }] },
});
const patient = (name: string, birthDate?: string) => ({
  resourceType: 'Patient',
  meta: { ...TAG_ALL, profile: [`http://example.org/fhir/StructureDefinition/${name}|1.0`] },
  active: true,
  ...(birthDate ? { birthDate } : {}),
});
const diagnostics = (r: { json: any }) => (r.json?.issue ?? []).map((i: any) => i.diagnostics).join(' / ');

test('a profile written in a transaction that rolls back is not used afterwards', async () => {
  const failed = await site.client.post('', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: profile('RolledBack'), request: { method: 'POST', url: 'StructureDefinition' } },
      // Valid against the profile of the first entry: the transaction saw it.
      { resource: patient('RolledBack', '1970-01-01'), request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', meta: TAG_ALL, unknownElement: true }, request: { method: 'POST', url: 'Patient' } },
    ],
  });
  assert.equal(failed.status, 400, failed.body);
  assert.equal((await site.client.get('/StructureDefinition?url=http://example.org/fhir/StructureDefinition/RolledBack')).json.total, 0);
  const after = await site.client.post('/Patient', patient('RolledBack', '1970-01-01'));
  assert.equal(after.status, 422, 'the profile is unknown again');
  assert.match(diagnostics(after), /RolledBack/);
});

test('a deleted profile no longer validates; an undeleted one is used until deleted', async () => {
  const sd = await site.client.create(profile('Deleted'));
  const refused = await site.client.post('/Patient', patient('Deleted'));
  assert.equal(refused.status, 422);
  assert.match(diagnostics(refused), /birthDate/);
  assert.equal((await site.client.post('/Patient', patient('Deleted', '1970-01-01'))).status, 201);

  assert.equal((await site.client.delete(`/StructureDefinition/${sd.id}`)).status, 200);
  const unknown = await site.client.post('/Patient', patient('Deleted', '1970-01-01'));
  assert.equal(unknown.status, 422, 'the profile is gone');
  assert.doesNotMatch(diagnostics(unknown), /birthDate/);
});
