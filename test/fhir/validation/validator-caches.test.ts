// The validator keeps per-element plans (slicing, invariant keys) after the first use: later
// validations, valid and invalid in any order, must give the same issues as a fresh validator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { withDefaultProfile } from '../../../src/fhir/service/write-preparation.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const READ_ACCESS = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';

function patient(tags: { system: string; code: string }[], extra: Record<string, unknown> = {}): Resource {
  return withDefaultProfile({ resourceType: 'Patient', meta: { tag: tags }, identifier: [{ system: 'http://bench/new', value: 'n1' }], active: true, ...extra } as Resource);
}

const cases: Resource[] = [
  patient([{ system: READ_ACCESS, code: 'ALL' }]),
  patient([]),
  patient([{ system: READ_ACCESS, code: 'ALL' }, { system: READ_ACCESS, code: 'LOCAL' }]),
  patient([{ system: 'http://other', code: 'x' }, { system: READ_ACCESS, code: 'ORGANIZATION' }]),
  patient([{ system: READ_ACCESS, code: 'ALL' }], { identifier: [{ system: 'http://bench/new' }], period: { start: '2020-01-02', end: '2020-01-01' } }),
  patient([{ system: READ_ACCESS, code: 'ALL' }], { extension: [{ url: 'http://unknown.example/ext', valueString: 'x' }] }),
];

describe('validator caches', () => {
  it('gives every resource the issues a fresh validator gives, in any order and repeatedly', () => {
    const fresh = () => new ResourceValidator(new MapResolver(loadCoreResources()));
    const expected = cases.map((c) => fresh().validate(c));
    assert.ok(expected.some((issues) => issues.length === 0), 'a valid case');
    assert.ok(expected.filter((issues) => issues.some((i) => i.severity === 'error')).length >= 3, 'several invalid cases');
    const shared = fresh();
    for (let round = 0; round < 3; round++) {
      const order = round === 1 ? [...cases.keys()].reverse() : [...cases.keys()];
      for (const k of order) assert.deepEqual(shared.validate(cases[k]!), expected[k], `case ${k}, round ${round}`);
    }
  });
});
