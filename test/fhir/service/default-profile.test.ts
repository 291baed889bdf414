// withDefaultProfile gives what it gave as `{ ...resource, meta: { ...meta, profile: [def, ...profiles] } }`:
// the same keys in the same order (meta in place, or last when the resource had none), the default
// profile first, the input unchanged, and the input itself when a DSF profile is declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { withDefaultProfile } from '../../../src/fhir/service/write-preparation.ts';

const DEF = 'http://dsf.dev/fhir/StructureDefinition/patient';
const TAG = [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }];

function spreadForm(r: Record<string, any>): Record<string, any> {
  return { ...r, meta: { ...(r.meta ?? {}), profile: [DEF, ...(r.meta?.profile ?? [])] } };
}

test('the default profile goes first into meta.profile, with the keys in the order the spreads gave', () => {
  const inputs: Record<string, any>[] = [
    { resourceType: 'Patient', meta: { tag: TAG }, active: true },
    { resourceType: 'Patient', active: true, meta: { tag: TAG, versionId: '3' } },
    { resourceType: 'Patient', active: true },
    { meta: { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'], tag: TAG }, resourceType: 'Patient' },
    { resourceType: 'Patient', meta: { tag: TAG, profile: [] } },
    JSON.parse('{"resourceType":"Patient","meta":{"tag":[],"__proto__":{"x":1}},"active":true}'),
  ];
  for (const input of inputs) {
    const before = JSON.stringify(input);
    const got = withDefaultProfile(input as Resource) as unknown as Record<string, any>;
    const expected = spreadForm(input);
    assert.equal(JSON.stringify(got), JSON.stringify(expected));
    assert.deepEqual(Reflect.ownKeys(got), Reflect.ownKeys(expected));
    assert.deepEqual(Reflect.ownKeys(got.meta), Reflect.ownKeys(expected.meta));
    assert.equal(Object.getPrototypeOf(got.meta), Object.prototype);
    assert.equal(JSON.stringify(input), before, 'the input is not changed');
    assert.notEqual(got, input);
  }
});

test('a resource declaring a DSF profile, or of a type without a default profile, is returned as it is', () => {
  const declared = { resourceType: 'Patient', meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/other'], tag: TAG } } as Resource;
  assert.equal(withDefaultProfile(declared), declared);
  const task = { resourceType: 'Task', status: 'draft' } as Resource;
  assert.equal(withDefaultProfile(task), task);
});
