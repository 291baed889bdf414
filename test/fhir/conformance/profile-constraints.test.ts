// The FHIRPath invariants of the core profiles compile and decide the cases the reference's rules
// describe (Task message contract, read-access tag combinations, thumbprints, Subscription payloads,
// QuestionnaireResponse authors), evaluated with the fhirpath library the validator uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import type { StructureDefinition } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';

const profiles = loadCoreResources().filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
const profile = (name: string) => profiles.find((p) => p.url === `http://dsf.dev/fhir/StructureDefinition/${name}`)!;

/**
 * Keys of the profile's invariants that the data violates. An invariant on element P holds when it holds
 * for every node at P, i.e. `P.all(expression)` evaluated from the root (which gives fhirpath.js typed nodes).
 */
function violations(sd: StructureDefinition, data: object): string[] {
  const failed: string[] = [];
  for (const el of sd.differential!.element) {
    for (const c of el.constraint ?? []) {
      const relative = el.path.split('.').slice(1).join('.').replace(/\[x\]/g, '');
      const expression = relative ? `${relative}.all(${c.expression})` : c.expression!;
      // Synchronous: none of these expressions needs async functions.
      const result = fhirpath.evaluate(data, { base: sd.type!, expression }, { resource: data }, r4) as unknown[];
      if (!(result.length === 1 && result[0] === true) && !(relative === '' && result.length === 0)) failed.push(c.key);
    }
  }
  return failed;
}

const ORG = 'http://dsf.dev/sid/organization-identifier';
const PRACTITIONER = 'http://dsf.dev/sid/practitioner-identifier';
const BPMN = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
const tag = (code: string) => ({ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code });
const input = (code: string, value: string) => ({ type: { coding: [{ system: BPMN, code }] }, valueString: value });

function task(overrides: Record<string, unknown> = {}) {
  return {
    resourceType: 'Task',
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/ping|1.0',
    status: 'requested',
    intent: 'order',
    authoredOn: '2025-01-01T00:00:00Z',
    requester: { type: 'Organization', identifier: { system: ORG, value: 'a.example' } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG, value: 'b.example' } }] },
    input: [input('message-name', 'startPing')],
    ...overrides,
  };
}

test('every invariant of the core profiles is an error-level FHIRPath expression that compiles', () => {
  let count = 0;
  for (const sd of profiles) {
    for (const el of sd.differential!.element) {
      for (const c of el.constraint ?? []) {
        assert.equal(c.severity, 'error', c.key);
        assert.ok(c.human && c.human.length > 10, `${c.key}: human text`);
        assert.doesNotThrow(() => fhirpath.compile({ base: el.path, expression: c.expression! }, r4), c.key);
        count++;
      }
    }
  }
  assert.equal(count, 27);
});

test('Task profile 2.1.0: message contract and logical references', () => {
  const sd = profile('task');
  assert.equal(sd.version, '2.1.0');
  assert.equal(sd.abstract, true);
  const el = (id: string) => sd.differential!.element.find((e) => e.id === id);
  assert.equal(el('Task.intent')?.fixedCode, 'order');
  assert.equal(el('Task.authoredOn')?.min, 1);
  assert.equal(el('Task.instantiatesCanonical')?.min, 1);
  assert.equal(el('Task.requester.reference')?.max, '0');
  assert.equal(el('Task.restriction.recipient')?.max, '1');
  assert.equal(el('Task.restriction.recipient.identifier.system')?.fixedUri, ORG);
  assert.deepEqual(el('Task.input')?.slicing?.discriminator, [
    { type: 'value', path: 'type.coding.system' },
    { type: 'value', path: 'type.coding.code' },
  ]);
  assert.deepEqual([el('Task.input:message-name')?.min, el('Task.input:message-name')?.max], [1, '1']);
  for (const slice of ['Task.input:message-name', 'Task.input:business-key', 'Task.input:correlation-key', 'Task.output:error']) {
    assert.equal(el(`${slice}.type.coding.system`)?.fixedUri, BPMN, slice);
    assert.equal(el(`${slice}.type.coding.code`)?.fixedCode, slice.split(':')[1], slice);
    assert.deepEqual(el(`${slice}.value[x]`)?.type, [{ code: 'string' }], slice);
  }

  assert.deepEqual(violations(sd, task()), []);
  assert.deepEqual(violations(sd, task({ status: 'in-progress' })), ['business-key-if-status-inprogress-completed-failed']);
  assert.deepEqual(violations(sd, task({ status: 'completed', input: [input('message-name', 'm'), input('business-key', 'k')] })), []);
  assert.deepEqual(violations(sd, task({ status: 'draft' })), ['identifier-if-status-draft']);
  assert.deepEqual(
    violations(sd, task({ status: 'draft', identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: 'http://x/bpe/Process/p/1.0/example' }] })),
    [],
  );
  assert.deepEqual(
    violations(sd, task({ requester: { type: 'Organization', identifier: { system: PRACTITIONER, value: 'u@a.example' } } })),
    ['requester-identifier-type-practitioner'],
  );
  assert.deepEqual(violations(sd, task({ requester: { type: 'Practitioner', identifier: { system: PRACTITIONER, value: 'u@a.example' } } })), []);
  assert.deepEqual(violations(sd, task({ requester: { identifier: { system: 'http://other', value: 'x' } } })), ['requester-identifier-system']);
  assert.deepEqual(
    violations(sd, task({ restriction: { recipient: [{ type: 'Practitioner', identifier: { system: ORG, value: 'b.example' } }] } })),
    ['restriction-recipient-identifier-type-organization'],
  );
});

test('read-access tags: ALL alone, or LOCAL with ORGANIZATION/ROLE', () => {
  const meta = profile('meta');
  const check = (...codes: string[]) => violations(meta, { tag: codes.map(tag) });
  assert.deepEqual(check('ALL'), []);
  assert.deepEqual(check('LOCAL'), []);
  assert.deepEqual(check('LOCAL', 'ORGANIZATION', 'ROLE'), []);
  assert.deepEqual(check(), ['at-least-on-read-access-tag']);
  assert.deepEqual(check('ORGANIZATION'), ['organization-implies-local']);
  assert.deepEqual(check('ROLE'), ['role-implies-local']);
  assert.deepEqual(check('ALL', 'LOCAL'), ['all-implies-no-local']);
  assert.deepEqual(check('ALL', 'LOCAL', 'ORGANIZATION', 'ROLE'), ['all-implies-no-local', 'all-implies-no-organization', 'all-implies-no-role']);

  // Binary: a read-access tag or a securityContext, exactly one of them.
  const binary = profile('binary');
  const b = (extra: object) => violations(binary, { resourceType: 'Binary', contentType: 'text/plain', ...extra });
  assert.deepEqual(b({ meta: { tag: [tag('ALL')] } }), []);
  assert.deepEqual(b({ securityContext: { reference: 'Task/1' } }), []);
  assert.deepEqual(b({}), ['must-have-meta-tag-or-security-context']);
  assert.deepEqual(b({ meta: { tag: [tag('ALL')] }, securityContext: { reference: 'Task/1' } }), ['must-have-meta-tag-or-security-context']);
});

test('certificate thumbprints are 128 lower-case hex digits', () => {
  const sd = profile('extension-certificate-thumbprint');
  const ext = (value: string) => ({ url: sd.url, valueString: value });
  assert.deepEqual(violations(sd, ext('0123456789abcdef'.repeat(8))), []);
  assert.deepEqual(violations(sd, ext('0123456789ABCDEF'.repeat(8))), ['hex-128-length']);
  assert.deepEqual(violations(sd, ext('abcd')), ['hex-128-length']);
});

test('Subscription payload and QuestionnaireResponse author rules', () => {
  const sub = profile('subscription');
  const s = (payload?: string) => violations(sub, { resourceType: 'Subscription', status: 'active', criteria: 'Task?status=requested', channel: { type: 'websocket', payload } });
  assert.deepEqual(s('application/fhir+json'), []);
  assert.deepEqual(s('application/fhir+xml'), []);
  assert.deepEqual(s(undefined), []);
  assert.deepEqual(s('text/plain'), ['payload-fhir-json-or-xml']);

  const qr = profile('questionnaire-response');
  const response = (extra: object) => violations(qr, { resourceType: 'QuestionnaireResponse', questionnaire: 'http://q|1.0', ...extra });
  assert.deepEqual(response({ status: 'in-progress' }), []);
  assert.deepEqual(response({ status: 'completed' }), ['authored-if-completed-or-amended', 'author-if-completed-or-amended']);
  const author = { type: 'Practitioner', identifier: { system: PRACTITIONER, value: 'u@a.example' } };
  assert.deepEqual(response({ status: 'completed', authored: '2025-01-01T00:00:00Z', author }), []);
  assert.deepEqual(
    response({ status: 'amended', authored: '2025-01-01T00:00:00Z', author: { ...author, type: 'Organization' } }),
    ['author-identifier-type-practitioner'],
  );
  assert.deepEqual(
    response({ status: 'completed', authored: '2025-01-01T00:00:00Z', author: { identifier: { system: 'http://x', value: 'y' } } }),
    ['author-identifier-system'],
  );
});
