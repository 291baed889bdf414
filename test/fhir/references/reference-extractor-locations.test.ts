// The element locations of extractReferences are compiled once per type (split paths, location text).
// Its output must stay exactly what walking the paths on every call gave: same locations, elements,
// targets, holders (by identity) and keys, in the same order, for nested paths, arrays, canonicals
// and odd shapes (a single value where an array belongs, non-objects, nulls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { extractReferences } from '../../../src/fhir/references/reference-extractor.ts';

const org = (v: string) => ({ reference: `Organization/${v}` });
const resources = [
  { resourceType: 'Patient', managingOrganization: org('a'), generalPractitioner: [org('b'), { reference: 'Practitioner/c' }, null, 'x'], link: [{ other: { reference: 'Patient/d' } }, { other: [org('e')] }] },
  { resourceType: 'Patient', generalPractitioner: org('single'), extension: [{ url: 'http://x', valueReference: org('ext') }] },
  {
    resourceType: 'Task',
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/ping|1.0',
    requester: { type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'a' } },
    restriction: { recipient: [org('r1'), org('r2')] },
    partOf: [{ reference: 'Task/p' }],
    input: [{ type: { text: 't' }, valueReference: org('in') }],
  },
  { resourceType: 'Task', restriction: [{ recipient: [org('arr')] }, { recipient: org('one') }, 7] },
  { resourceType: 'ActivityDefinition', url: 'http://x/ad', relatedArtifact: [{ type: 'depends-on', resource: 'http://x/r' }], location: org('l') },
  { resourceType: 'Questionnaire', derivedFrom: ['http://x/q1', 3, 'http://x/q2'] },
  { resourceType: 'Endpoint', managingOrganization: org('m') },
  { resourceType: 'Organization', endpoint: [{ reference: 'Endpoint/e1' }], partOf: org('parent') },
  { resourceType: 'Bundle', type: 'collection' },
  { resourceType: 'Binary', securityContext: org('s') },
] as unknown as Resource[];

/** Each reference as [location, element, targets, key, the holder as JSON]. */
const summary = (r: Resource) => extractReferences(r).map((x) => [x.location, x.element, [...x.targets], x.key ?? null, JSON.stringify(x.holder)]);

/** What the per-call walk (before the locations were compiled) gave for `resources`. */
const WALKED: unknown[] = [
  [["Patient.generalPractitioner", "reference", ["Organization", "Practitioner", "PractitionerRole"], null, "{\"reference\":\"Organization/b\"}"], ["Patient.generalPractitioner", "reference", ["Organization", "Practitioner", "PractitionerRole"], null, "{\"reference\":\"Practitioner/c\"}"], ["Patient.managingOrganization", "reference", ["Organization"], null, "{\"reference\":\"Organization/a\"}"], ["Patient.link.other", "reference", ["Patient", "RelatedPerson"], null, "{\"reference\":\"Patient/d\"}"], ["Patient.link.other", "reference", ["Patient", "RelatedPerson"], null, "{\"reference\":\"Organization/e\"}"]],
  [["Patient.generalPractitioner", "reference", ["Organization", "Practitioner", "PractitionerRole"], null, "{\"reference\":\"Organization/single\"}"], ["Patient.extension", "reference", [], null, "{\"reference\":\"Organization/ext\"}"]],
  [["Task.instantiatesCanonical", "canonical", ["ActivityDefinition"], "instantiatesCanonical", "{\"resourceType\":\"Task\",\"instantiatesCanonical\":\"http://dsf.dev/bpe/Process/ping|1.0\",\"requester\":{\"type\":\"Organization\",\"identifier\":{\"system\":\"http://dsf.dev/sid/organization-identifier\",\"value\":\"a\"}},\"restriction\":{\"recipient\":[{\"reference\":\"Organization/r1\"},{\"reference\":\"Organization/r2\"}]},\"partOf\":[{\"reference\":\"Task/p\"}],\"input\":[{\"type\":{\"text\":\"t\"},\"valueReference\":{\"reference\":\"Organization/in\"}}]}"], ["Task.partOf", "reference", ["Task"], null, "{\"reference\":\"Task/p\"}"], ["Task.requester", "reference", ["Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson"], null, "{\"type\":\"Organization\",\"identifier\":{\"system\":\"http://dsf.dev/sid/organization-identifier\",\"value\":\"a\"}}"], ["Task.restriction.recipient", "reference", ["Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Group", "Organization"], null, "{\"reference\":\"Organization/r1\"}"], ["Task.restriction.recipient", "reference", ["Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Group", "Organization"], null, "{\"reference\":\"Organization/r2\"}"], ["Task.input", "reference", [], null, "{\"reference\":\"Organization/in\"}"]],
  [["Task.restriction.recipient", "reference", ["Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Group", "Organization"], null, "{\"reference\":\"Organization/arr\"}"], ["Task.restriction.recipient", "reference", ["Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Group", "Organization"], null, "{\"reference\":\"Organization/one\"}"]],
  [["ActivityDefinition.location", "reference", ["Location"], null, "{\"reference\":\"Organization/l\"}"], ["ActivityDefinition.relatedArtifact", "related-artifact", [], null, "{\"type\":\"depends-on\",\"resource\":\"http://x/r\"}"]],
  [["Questionnaire.derivedFrom", "canonical", ["Questionnaire"], 0, "[\"http://x/q1\",3,\"http://x/q2\"]"], ["Questionnaire.derivedFrom", "canonical", ["Questionnaire"], 2, "[\"http://x/q1\",3,\"http://x/q2\"]"]],
  [["Endpoint.managingOrganization", "reference", ["Organization"], null, "{\"reference\":\"Organization/m\"}"]],
  [["Organization.partOf", "reference", ["Organization"], null, "{\"reference\":\"Organization/parent\"}"], ["Organization.endpoint", "reference", ["Endpoint"], null, "{\"reference\":\"Endpoint/e1\"}"]],
  [],
  [["Binary.securityContext", "reference", [], null, "{\"reference\":\"Organization/s\"}"]],
];

test('compiled locations give the references the per-call walk gave', () => {
  assert.deepEqual(resources.map(summary), WALKED);
  let compared = 0;
  for (const r of resources) {
    const first = extractReferences(r);
    const again = extractReferences(r);
    assert.deepEqual(again, first);
    for (let i = 0; i < first.length; i++) assert.equal(again[i]!.holder, first[i]!.holder, 'same holder object');
    compared += first.length;
  }
  assert.ok(compared >= 15, `references found: ${compared}`);
});

test('the references of the fixed resources are as listed (location, element, targets, key, holder)', () => {
  const p = resources[0] as any;
  const refs = extractReferences(p);
  const summary = refs.map((x) => [x.location, x.element, [...x.targets], x.key]);
  const byLocation = new Map<string, number>();
  for (const x of refs) byLocation.set(x.location, (byLocation.get(x.location) ?? 0) + 1);
  assert.equal(byLocation.get('Patient.generalPractitioner'), 2, 'null and a string are no holders');
  assert.equal(byLocation.get('Patient.managingOrganization'), 1);
  assert.equal(byLocation.get('Patient.link.other'), 2, 'a single value and an array below an array');
  assert.equal(refs.find((x) => x.location === 'Patient.managingOrganization')!.holder, p.managingOrganization);
  assert.ok(summary.every(([, element]) => element === 'reference'));
  const q = extractReferences(resources[5]!);
  assert.deepEqual(q.map((x) => [x.location, x.element, x.key]), [['Questionnaire.derivedFrom', 'canonical', 0], ['Questionnaire.derivedFrom', 'canonical', 2]]);
  const t = extractReferences(resources[3]!);
  assert.deepEqual(t.filter((x) => x.location === 'Task.restriction.recipient').map((x) => (x.holder as { reference: string }).reference), ['Organization/arr', 'Organization/one']);
});
