// uri rows (_profile, url, ...) carry their value in code only: every uri condition (=, :below, the sort,
// the in-memory match) reads code, so a norm would only add an entry to search_index_norm per row
// (one per create of a resource with a profile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeIndexRows } from '../../../src/fhir/search/index-rows.ts';
import { searchParameter } from '../../../src/fhir/search/parameters.ts';
import { paramTypeModule } from '../../../src/fhir/search/param-types/index.ts';

const profile = 'http://dsf.dev/fhir/StructureDefinition/task-test|1.0';
const patient = { resourceType: 'Patient', id: 'p', meta: { profile: [profile], tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] }, active: true };

test('a uri row has its value in code and no norm', () => {
  const rows = computeIndexRows(patient, 'https://fhir.test/fhir').filter((r) => r.param === '_profile');
  assert.deepEqual(rows.map((r) => [r.code, r.norm, r.system]), [[profile, null, null]]);
});

test('uri conditions match on code alone: exact and :below', () => {
  const def = searchParameter('Patient', '_profile')!;
  assert.equal(def.type, 'uri');
  const uri = paramTypeModule('uri');
  const [row] = computeIndexRows(patient, 'https://fhir.test/fhir').filter((r) => r.param === '_profile');
  assert.ok(uri.matches({ def }, profile, row!, ''));
  assert.ok(uri.matches({ def, modifier: 'below' }, 'http://dsf.dev/fhir/StructureDefinition/', row!, ''));
  assert.ok(!uri.matches({ def }, 'http://dsf.dev/fhir/StructureDefinition/task-test', row!, ''));
});
