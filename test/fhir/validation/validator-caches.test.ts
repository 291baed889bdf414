// The validator keeps per-element plans (slicing, invariant keys, compiled invariants) after the first
// use: validations, valid and invalid in any order, must give the issues it gave before it kept them.
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

/** The issues the validator gave these cases before it kept per-element plans. */
const BEFORE_CACHES: unknown[] = [
  [],
  [{"severity": "error", "code": "structure", "diagnostics": "tag must not be an empty array", "expression": ["Patient.meta.tag"]}, {"severity": "error", "code": "invariant", "diagnostics": "Constraint failed: at-least-on-read-access-tag: Needs at least one read-access tag.", "expression": ["Patient.meta"]}],
  [{"severity": "error", "code": "invariant", "diagnostics": "Constraint failed: all-implies-no-local: A read-access tag ALL may not be combined with LOCAL.", "expression": ["Patient.meta"]}],
  [{"severity": "error", "code": "invariant", "diagnostics": "Constraint failed: organization-implies-local: A read-access tag ORGANIZATION needs a LOCAL tag as well.", "expression": ["Patient.meta"]}],
  [{"severity": "error", "code": "structure", "diagnostics": "Unknown element 'period'", "expression": ["Patient.period"]}],
  [{"severity": "warning", "code": "not-found", "diagnostics": "Unknown extension http://unknown.example/ext", "expression": ["Patient.extension[0]"]}],
];

describe('validator caches', () => {
  it('gives every resource the issues a fresh validator gives, in any order and repeatedly', () => {
    const fresh = () => new ResourceValidator(new MapResolver(loadCoreResources()));
    const expected = cases.map((c) => fresh().validate(c));
    assert.deepEqual(expected, BEFORE_CACHES);
    const shared = fresh();
    for (let round = 0; round < 3; round++) {
      const order = round === 1 ? [...cases.keys()].reverse() : [...cases.keys()];
      for (const k of order) assert.deepEqual(shared.validate(cases[k]!), expected[k], `case ${k}, round ${round}`);
    }
  });
});
