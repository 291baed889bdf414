// The validator against the DSF core profiles authored under fhir/ (not against test fixtures).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver, loadFixture } from '../../fixtures/validation/fixture-resolver.ts';
import { greetingResources, greetingTask } from '../../fixtures/validation/greeting-process.ts';

const PING_PROFILE = 'http://test.dsf.dev/fhir/StructureDefinition/dsf-plugin-task-ping';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const BPMN = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';

const validator = new ResourceValidator(new MapResolver([...loadCoreResources(), loadFixture<Resource>('dsf-plugin/task-ping.json'), ...greetingResources()]));

type Json = Record<string, any>;

function pingTask(): Json {
  return {
    resourceType: 'Task',
    meta: { profile: [`${PING_PROFILE}|1.0`] },
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/ping|1.0',
    status: 'requested',
    intent: 'order',
    authoredOn: '2025-03-01T12:00:00.000+01:00',
    requester: { type: 'Organization', identifier: { system: ORG_ID, value: 'dic-a.example.org' } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_ID, value: 'dic-b.example.org' } }] },
    input: [
      { type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: 'ping' },
      { type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: 'a5f3c1f4-3f0e-4d5f-9c77-2f2f3c0b1a11' },
      { type: { coding: [{ system: BPMN, code: 'correlation-key' }] }, valueString: '0b7f9c6e-1c1d-4a57-8a3b-5c0d9e8f7a66' },
      {
        type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/ping', code: 'endpoint-identifier' }] },
        valueReference: { type: 'Endpoint', identifier: { system: 'http://dsf.dev/sid/endpoint-identifier', value: 'fhir.dic-a.example.org' } },
      },
    ],
  };
}

function organization(): Json {
  return {
    resourceType: 'Organization',
    meta: {
      profile: ['http://dsf.dev/fhir/StructureDefinition/organization'],
      tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }],
    },
    extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint', valueString: 'c0ffee'.repeat(21) + 'ab' }],
    identifier: [{ system: ORG_ID, value: 'dic-a.example.org' }],
    active: true,
    name: 'DIC A',
    endpoint: [{ reference: 'Endpoint/6b0b8a0e-5f0c-4c9e-a6a5-4f8f5e0c1d2e', type: 'Endpoint' }],
  };
}

function errors(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

describe('validation against the DSF core profiles in fhir/', () => {
  it('accepts a realistic ping Task declaring a plugin profile derived from the DSF task profile', () => {
    const issues = validator.validate(pingTask() as Resource);
    assert.deepEqual(errors(issues), [], JSON.stringify(issues, null, 1));
  });

  it('rejects the ping Task when DSF task rules are broken', () => {
    const t = pingTask();
    t.intent = 'plan';
    t.requester = { reference: 'Organization/1', identifier: { system: ORG_ID, value: 'x' } };
    t.input.splice(3, 1);
    const found = errors(validator.validate(t as Resource)).map((i) => `${i.code} ${i.expression?.[0]}`).sort();
    assert.ok(found.includes('value Task.intent'), found.join('\n'));
    assert.ok(found.includes('structure Task.requester.reference'), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('required Task.input')), found.join('\n'));
  });

  it('accepts a realistic Organization and rejects one without thumbprint and read-access tag', () => {
    const issues = validator.validate(organization() as Resource);
    assert.deepEqual(errors(issues), [], JSON.stringify(issues, null, 1));
    const bad = organization();
    bad.extension = [];
    delete bad.extension;
    bad.meta.tag = [];
    delete bad.meta.tag;
    const found = errors(validator.validate(bad as Resource));
    assert.ok(found.some((i) => i.expression?.[0] === 'Organization.extension' && i.code === 'required'), JSON.stringify(found));
    assert.ok(found.some((i) => i.expression?.[0] === 'Organization.meta' && i.code === 'invariant'), JSON.stringify(found));
  });
});

it('Endpoint.payloadMimeType slices by the primitive value: json and xml each once', async () => {
  const { loadCoreResources } = await import('../../../src/fhir/conformance/core-resources.ts');
  const { CanonicalIndex } = await import('../../../src/fhir/conformance/canonical-index.ts');
  const { ResourceValidator } = await import('../../../src/fhir/validation/validator.ts');
  const index = new CanonicalIndex(loadCoreResources() as any[]);
  const v = new ResourceValidator({ structureDefinition: (u) => index.get(u, 'StructureDefinition') as any, valueSet: (u) => index.get(u, 'ValueSet') as any, codeSystem: (u) => index.get(u, 'CodeSystem') as any });
  const endpoint: any = {
    resourceType: 'Endpoint',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/endpoint'], tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'ep.test' }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: 'Organization/0b7c6f4e-8f0e-4a55-9d52-3c1c2d1f0a11' },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: 'https://ep.test/fhir',
  };
  const errors = (r: any) => v.validate(r).filter((i) => i.severity === 'error').map((i) => i.diagnostics);
  assert.deepEqual(errors(endpoint), []);
  assert.ok(errors({ ...endpoint, payloadMimeType: ['application/fhir+json', 'application/fhir+json'] }).some((d) => /fhirXml/.test(d ?? '')));
});

describe('a plugin Task profile whose element ids do not spell their paths (walked by path, as HAPI does)', () => {
  const describeIssues = (issues: OperationOutcomeIssue[]) => issues.map((i) => `${i.code} ${i.expression?.[0]}: ${i.diagnostics}`).join('\n');

  it('validates a Task that follows it', () => {
    const found = errors(validator.validate(greetingTask() as Resource));
    assert.deepEqual(found, [], describeIssues(found));
  });

  it('applies the constraint of the element with id Task.input:greeting-text.text to the greeting value', () => {
    const found = errors(validator.validate(greetingTask({ text: 'x'.repeat(41) }) as Resource));
    assert.equal(found.length, 1, describeIssues(found));
    assert.equal(found[0]!.code, 'invariant');
    assert.deepEqual(found[0]!.expression, ['Task.input[1].valueString']);
    assert.match(found[0]!.diagnostics!, /greeting-text-length/);
  });

  it('applies the fixed system of the element with id Task.input:sender.… to the addressee slice where it sits', () => {
    const found = errors(validator.validate(greetingTask({ addresseeSystem: 'http://dsf.dev/sid/organization-identifier' }) as Resource));
    assert.equal(found.length, 1, describeIssues(found));
    assert.equal(found[0]!.code, 'value');
    assert.deepEqual(found[0]!.expression, ['Task.input[2].valueReference.identifier.system']);
    assert.match(found[0]!.diagnostics!, /fixedUri "http:\/\/dsf.dev\/sid\/practitioner-identifier"/);
  });
});
