// The validator visits only an object's present keys and its type's required elements (not every
// element of the type), and still reports in the order of the type's elements: problems of present
// elements and missing required ones interleaved as they come in the definition, whatever the JSON
// key order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const validator = new ResourceValidator(new MapResolver([]));
const where = (r: object) => validator.validate(r as Resource).map((i) => `${i.code} ${i.expression?.[0] ?? i.location?.[0]}`);

// Task: identifier (0..*), ..., status (1..1), ..., intent (1..1), priority (required binding), ..., for, ..., authoredOn
const EXPECTED = [
  'structure Task.bogus',
  'value Task.identifier[0].system',
  'required Task.status',
  'required Task.intent',
  'code-invalid Task.priority',
  'value Task.authoredOn',
];

test('missing required elements and bad present ones, in the order of the definition', () => {
  const task = { resourceType: 'Task', identifier: [{ system: 'not a uri with spaces', value: 'x' }], bogus: 1, priority: 'whenever', authoredOn: 'yesterday' };
  assert.deepEqual(where(task), EXPECTED);
});

test('the same order whatever the order of the JSON keys', () => {
  const task = { authoredOn: 'yesterday', priority: 'whenever', bogus: 1, identifier: [{ value: 'x', system: 'not a uri with spaces' }], resourceType: 'Task' };
  assert.deepEqual(where(task), EXPECTED);
});

test('a choice element given twice is one problem, reported where the second key comes', () => {
  const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueBoolean: true };
  assert.deepEqual(where(obs), ['structure Observation.valueBoolean']);
});
