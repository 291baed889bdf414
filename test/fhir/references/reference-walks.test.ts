// A create or update walks the resource for its references once, not twice: when resolve() changes
// nothing it hands the references it found to check(), which checks exactly those; when it may change
// something (a logical reference, a relative attachment url) it works on a copy and check() looks again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ReferenceChecks } from '../../../src/fhir/references/reference-checks.ts';
import { extractReferences } from '../../../src/fhir/references/reference-extractor.ts';

const BASE = 'https://localhost/fhir';
let db: TestDatabase;
let checks: ReferenceChecks;
before(async () => {
  db = await createTestDatabase('dsf_reference_walks');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  checks = new ReferenceChecks({ baseUrl: BASE, remote: { exists: async () => true } as never });
});
after(() => db?.drop());

test('nothing to resolve: the resource itself and its references come back, and check() refuses a missing target with them as without', async () => {
  const missing = `Organization/${randomUUID()}`;
  const patient = { resourceType: 'Patient', managingOrganization: { reference: missing }, generalPractitioner: [{ reference: `Practitioner/${randomUUID()}` }] } as Resource;
  const r = await checks.resolve(db.pool, patient);
  assert.equal(r.resource, patient);
  assert.ok(r.references, 'the references found are handed on');
  const again = extractReferences(patient);
  assert.deepEqual(r.references.map((x) => [x.location, x.holder]), again.map((x) => [x.location, x.holder]));
  const refusal = (e: unknown) => String((e as Error).message) + JSON.stringify((e as { issues?: unknown }).issues ?? '');
  const withFound = await checks.check(db.pool, r.resource, false, r.resolved, r.references).then(() => 'accepted', refusal);
  const walkedAgain = await checks.check(db.pool, r.resource, false, r.resolved).then(() => 'accepted', refusal);
  assert.notEqual(withFound, 'accepted');
  assert.equal(withFound, walkedAgain);
});

test('a logical reference to resolve: a copy, and no references handed on (check() walks the copy)', async () => {
  const patient = { resourceType: 'Patient', managingOrganization: { type: 'Organization', identifier: { system: 'http://example.org/sid', value: 'x' } } } as Resource;
  const r = await checks.resolve(db.pool, patient);
  assert.notEqual(r.resource, patient);
  assert.equal(r.references, undefined);
});
