// ActivityDefinitions with the DSF process-authorization extension against the core profiles in fhir/:
// every requester/recipient coding kind is accepted, broken ones are refused at a useful location.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';
import { activityDefinition, coding, PA } from '../auth/process-fixtures.ts';

const validator = new ResourceValidator(new MapResolver(loadCoreResources()));
const AD_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/activity-definition';
const AUTH = 'ActivityDefinition.extension[0].extension';

type Json = Record<string, any>;

function withProfile(ad: Json): Json {
  return { ...ad, meta: { ...ad.meta, profile: [AD_PROFILE] } };
}

function errors(ad: Json): OperationOutcomeIssue[] {
  return validator.validate(withProfile(ad) as Resource).filter((i) => i.severity === 'error');
}

function describeIssues(issues: OperationOutcomeIssue[]): string {
  return issues.map((i) => `${i.code} ${i.expression?.[0]}: ${i.diagnostics}`).join('\n');
}

/** Every kind of requester coding the requester ValueSet allows, by code. */
const requesterKinds: Record<string, () => Json> = {
  LOCAL_ALL: () => coding.localAll(),
  LOCAL_ALL_PRACTITIONER: () => coding.localAllPractitioner('DIC_USER'),
  LOCAL_ORGANIZATION: () => coding.organization(true, 'dic.test'),
  LOCAL_ORGANIZATION_PRACTITIONER: () => coding.organizationPractitioner('dic.test', 'DIC_USER'),
  LOCAL_ROLE: () => coding.role(true, 'consortium.test', 'DIC'),
  LOCAL_ROLE_PRACTITIONER: () => coding.rolePractitioner('consortium.test', 'DIC', 'DIC_USER'),
  REMOTE_ALL: () => coding.remoteAll(),
  REMOTE_ORGANIZATION: () => coding.organization(false, 'hrp.test'),
  REMOTE_ROLE: () => coding.role(false, 'consortium.test', 'HRP'),
};

/** The recipient ValueSet allows only the local, non-practitioner kinds. */
const recipientKinds = ['LOCAL_ALL', 'LOCAL_ORGANIZATION', 'LOCAL_ROLE'];

describe('process-authorization on ActivityDefinitions (DSF core profiles)', () => {
  for (const [code, make] of Object.entries(requesterKinds)) {
    it(`accepts a ${code} requester`, () => {
      const found = errors(activityDefinition('p', [make()], [coding.localAll()]));
      assert.deepEqual(found, [], describeIssues(found));
    });
  }

  for (const code of recipientKinds) {
    it(`accepts a ${code} recipient`, () => {
      const found = errors(activityDefinition('p', [coding.remoteAll()], [requesterKinds[code]!()]));
      assert.deepEqual(found, [], describeIssues(found));
    });
  }

  it('accepts all nine requester kinds and the three recipient kinds together in one extension', () => {
    const ad = activityDefinition(
      'p',
      Object.values(requesterKinds).map((make) => make()),
      recipientKinds.map((code) => requesterKinds[code]!()),
    );
    const found = errors(ad);
    assert.deepEqual(found, [], describeIssues(found));
  });

  for (const code of Object.keys(requesterKinds).filter((c) => !recipientKinds.includes(c))) {
    it(`refuses ${code} as recipient, at the recipient's coding`, () => {
      const found = errors(activityDefinition('p', [coding.localAll()], [requesterKinds[code]!()]));
      const at = `${AUTH}[3].valueCoding`;
      assert.ok(found.some((i) => i.code === 'code-invalid' && i.expression?.[0] === at && i.diagnostics?.includes('process-authorization-recipient')), describeIssues(found));
      assert.ok(found.some((i) => i.code === 'structure' && i.expression?.[0] === at && i.diagnostics?.includes('none of the allowed profiles')), describeIssues(found));
    });
  }

  it('refuses a coding with an unknown code: not in the requester ValueSet, fits none of the coding profiles', () => {
    const found = errors(activityDefinition('p', [{ system: PA, code: 'EVERYONE' }], [coding.localAll()]));
    const at = `${AUTH}[2].valueCoding`;
    assert.ok(found.some((i) => i.code === 'code-invalid' && i.expression?.[0] === at && i.diagnostics?.includes("'http://dsf.dev/fhir/CodeSystem/process-authorization#EVERYONE'")), describeIssues(found));
    assert.ok(found.some((i) => i.expression?.[0] === at && i.diagnostics?.includes('none of the allowed profiles')), describeIssues(found));
  });

  it('refuses LOCAL_ORGANIZATION without its organization extension, naming the closest profile and the missing extension', () => {
    const found = errors(activityDefinition('p', [{ system: PA, code: 'LOCAL_ORGANIZATION' }], [coding.localAll()]));
    const summary = found.find((i) => i.diagnostics?.includes('none of the allowed profiles'));
    assert.ok(summary?.diagnostics?.includes('closest is http://dsf.dev/fhir/StructureDefinition/coding-process-authorization-local-organization|'), describeIssues(found));
    assert.ok(found.some((i) => i.code === 'required' && i.expression?.[0] === `${AUTH}[2].valueCoding.extension`), describeIssues(found));
  });

  it('refuses a code that does not fit the extension it carries (LOCAL_ROLE with an organization extension)', () => {
    const wrong = coding.organization(true, 'dic.test');
    wrong.code = 'LOCAL_ROLE';
    const found = errors(activityDefinition('p', [wrong], [coding.localAll()]));
    assert.ok(found.some((i) => i.diagnostics?.includes('closest is http://dsf.dev/fhir/StructureDefinition/coding-process-authorization-local-parent-organization-role|')), describeIssues(found));
    assert.ok(found.some((i) => i.code === 'required' && i.expression?.[0] === `${AUTH}[2].valueCoding.extension` && i.diagnostics?.includes(':consortium-role')), describeIssues(found));
  });

  it('refuses a sub-extension missing inside the coding extension (LOCAL_ROLE_PRACTITIONER without practitioner-role)', () => {
    const c = coding.rolePractitioner('consortium.test', 'DIC', 'DIC_USER');
    c.extension[0]!.extension.pop();
    const found = errors(activityDefinition('p', [c], [coding.localAll()]));
    assert.ok(found.some((i) => i.code === 'required' && i.expression?.[0] === `${AUTH}[2].valueCoding.extension[0].extension` && i.diagnostics?.includes(':practitionerRole')), describeIssues(found));
  });

  it('refuses a wrongly typed sub-extension value inside a coding extension (organization as Coding)', () => {
    const c: Json = coding.organization(true, 'dic.test');
    c.extension[0] = { url: c.extension[0].url, valueCoding: { system: 'http://example.org', code: 'x' } };
    const found = errors(activityDefinition('p', [c], [coding.localAll()]));
    assert.ok(found.some((i) => i.expression?.[0] === `${AUTH}[2].valueCoding.extension[0].valueCoding`), describeIssues(found));
  });

  for (const [slice, index] of [['message-name', 0], ['task-profile', 1]] as const) {
    it(`refuses a process-authorization without ${slice}`, () => {
      const ad: Json = activityDefinition('p', [coding.localAll()], [coding.localAll()]);
      ad.extension[0].extension.splice(index, 1);
      const found = errors(ad);
      assert.ok(found.some((i) => i.code === 'required' && i.expression?.[0] === AUTH && i.diagnostics?.includes(`:${slice}: minimum required = 1`)), describeIssues(found));
    });
  }

  it('refuses a process-authorization without requester and recipient', () => {
    const found = errors(activityDefinition('p', [], []));
    for (const slice of ['requester', 'recipient']) {
      assert.ok(found.some((i) => i.expression?.[0] === AUTH && i.diagnostics?.includes(`:${slice}: minimum required = 1`)), describeIssues(found));
    }
  });
});
