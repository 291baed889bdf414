// A resource that a profile covering its type's base definition finds nothing wrong with is walked
// once (profile-coverage.ts); every other resource is walked against the base definition and its
// profiles as before. Pinned here: the DSF Patient profile covers the base definition and a valid
// bench Patient is walked once; a profile looser than the base (a required element made optional, a
// base invariant dropped) does not cover it, and the base definition's errors are still reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { baseStructureDefinition } from '../../../src/fhir/model/definitions.ts';
import { ResourceValidator, baseStructure } from '../../../src/fhir/validation/validator.ts';
import { profileCoversBase, type Definitions } from '../../../src/fhir/validation/profile-coverage.ts';
import type { CompiledStructure } from '../../../src/fhir/validation/element-tree.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const DSF_PATIENT = 'http://dsf.dev/fhir/StructureDefinition/patient';
const LOOSE = 'http://test.dsf.dev/fhir/StructureDefinition/loose-patient';
const TAG = { system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' };

/** A Patient profile whose snapshot is the base one with `change` applied to its elements. */
function loosePatient(change: (e: NonNullable<StructureDefinition['snapshot']>['element'][number]) => void): StructureDefinition {
  const sd = structuredClone(baseStructureDefinition('Patient')!) as StructureDefinition;
  sd.url = LOOSE;
  sd.name = 'LoosePatient';
  sd.derivation = 'constraint';
  sd.baseDefinition = 'http://hl7.org/fhir/StructureDefinition/Patient';
  delete sd.differential;
  for (const e of sd.snapshot!.element) change(e);
  return sd;
}

function validatorWith(...extra: StructureDefinition[]) {
  const v = new ResourceValidator(new MapResolver([...loadCoreResources(), ...extra]));
  const covers = (url: string) => {
    const p = v.profile(url) as CompiledStructure;
    return profileCoversBase(p, baseStructure('Patient')!, (v as unknown as { definitions: Definitions }).definitions);
  };
  return { v, covers };
}

test('the DSF Patient profile covers the base definition; the bench Patient is valid either way', () => {
  const { v, covers } = validatorWith();
  assert.equal(covers(DSF_PATIENT), true);
  const patient = { resourceType: 'Patient', meta: { tag: [TAG], profile: [DSF_PATIENT] }, identifier: [{ system: 'http://bench/new', value: 'n1' }], active: true };
  assert.deepEqual(v.validate(patient as Resource), []);
});

test('a covered profile with problems: the base definition is walked too, as before', () => {
  const { v } = validatorWith();
  const patient = { resourceType: 'Patient', meta: { tag: [TAG], profile: [DSF_PATIENT] }, gender: 'sometimes', link: [{ type: 'seealso' }] };
  const found = v.validate(patient as Resource).map((i) => `${i.code} ${i.expression?.[0]}`);
  assert.deepEqual(found, ['code-invalid Patient.gender', 'required Patient.link[0].other']);
});

test('a profile that makes a required base element optional does not cover the base; its error stays', () => {
  const { v, covers } = validatorWith(loosePatient((e) => e.path === 'Patient.link.other' && (e.min = 0)));
  assert.equal(covers(LOOSE), false);
  const patient = { resourceType: 'Patient', meta: { profile: [LOOSE] }, link: [{ type: 'seealso' }] };
  assert.deepEqual(
    v.validate(patient as Resource).map((i) => `${i.code} ${i.expression?.[0]}`),
    ['required Patient.link[0].other'],
  );
});

test('a profile that drops a base invariant does not cover the base; the invariant is still checked', () => {
  const { v, covers } = validatorWith(loosePatient((e) => e.path === 'Patient.contact' && (e.constraint = (e.constraint ?? []).filter((c) => c.key !== 'pat-1'))));
  assert.equal(covers(LOOSE), false);
  const patient = { resourceType: 'Patient', meta: { profile: [LOOSE] }, contact: [{ gender: 'male' }] };
  assert.ok(v.validate(patient as Resource).some((i) => i.diagnostics?.includes('pat-1')));
});

test('the unchanged base snapshot as a profile covers the base', () => {
  const { covers } = validatorWith(loosePatient(() => {}));
  assert.equal(covers(LOOSE), true);
});

test('reference targets: DSF profiles of allowed types cover the base; an unknown target profile does not', () => {
  const organizationTarget = loosePatient((e) => {
    if (e.path === 'Patient.managingOrganization') e.type = [{ code: 'Reference', targetProfile: ['http://dsf.dev/fhir/StructureDefinition/organization'] }];
  });
  assert.equal(validatorWith(organizationTarget).covers(LOOSE), true);
  const unknownTarget = loosePatient((e) => {
    if (e.path === 'Patient.managingOrganization') e.type = [{ code: 'Reference', targetProfile: ['http://test.dsf.dev/fhir/StructureDefinition/nowhere'] }];
  });
  const { v, covers } = validatorWith(unknownTarget);
  assert.equal(covers(LOOSE), false);
  // The profile checks no target (its type is unknown); the base still refuses a Patient as managing organisation.
  const patient = { resourceType: 'Patient', meta: { profile: [LOOSE] }, managingOrganization: { reference: 'Patient/x' } };
  assert.deepEqual(
    v.validate(patient as Resource).map((i) => `${i.severity} ${i.expression?.[0]}`),
    ['error Patient.managingOrganization'],
  );
});
