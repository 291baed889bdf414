import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../src/common/errors.ts';
import { checkJsonShape, parseFhirJson } from '../../../src/fhir/model/json-parse.ts';

function rejects(text: string, message: RegExp): void {
  assert.throws(() => parseFhirJson(text), (e: unknown) => e instanceof FhirError && e.status === 400 && message.test(e.message));
}

test('parseFhirJson returns the resource and rejects malformed JSON, non-objects and missing resource types', () => {
  assert.deepEqual(parseFhirJson('{"resourceType":"Task","status":"draft"}'), { resourceType: 'Task', status: 'draft' });
  rejects('{"resourceType":"Task",', /Malformed JSON/);
  rejects('', /Malformed JSON/);
  rejects('[]', /must be an object/);
  rejects('null', /must be an object/);
  rejects('"Task"', /must be an object/);
  rejects('{"status":"draft"}', /no resourceType/);
  rejects('{"resourceType":42}', /no resourceType/);
  rejects('{"resourceType":"Taskk"}', /'Taskk' is not a FHIR resource type/);
  rejects('{"resourceType":"DomainResource"}', /not a FHIR resource type/);
});

/** The expressions of the issues checkJsonShape reports. */
function where(resource: unknown): string[] {
  const issues = checkJsonShape(resource as Record<string, unknown>);
  for (const i of issues) {
    assert.equal(i.severity, 'error');
    assert.equal(i.code, 'structure');
    assert.ok(i.diagnostics);
  }
  return issues.map((i) => i.expression![0]!);
}

test('checkJsonShape accepts well-formed resources', () => {
  assert.deepEqual(where({ resourceType: 'Task', status: 'draft', input: [{ type: { text: 'x' }, valueInteger: 3 }] }), []);
  assert.deepEqual(where({ resourceType: 'Patient', name: [{ given: ['a', null], _given: [null, { id: 'x' }] }], _birthDate: { extension: [{ url: 'u', valueBoolean: true }] } }), []);
});

test('checkJsonShape reports unknown properties with their location', () => {
  assert.deepEqual(where({ resourceType: 'Task', foo: 1 }), ['Task.foo']);
  assert.deepEqual(where({ resourceType: 'Task', input: [{ type: { text: 't' }, valueStrin: 'x' }] }), ['Task.input[0].valueStrin']);
  assert.deepEqual(where({ resourceType: 'Task', _requester: { id: 'x' } }), ['Task._requester']);
  assert.deepEqual(where({ resourceType: 'Task', _status: { id: 'x', bogus: 1 } }), ['Task.status.bogus']);
  assert.deepEqual(where({ resourceType: 'Task', contained: [{ resourceType: 'Patient', gender: 'male', wings: 2 }] }), ['Task.contained[0].wings']);
  assert.deepEqual(where(JSON.parse('{"resourceType":"Task","__proto__":{"x":1}}')), ['Task.__proto__']);
});

test('checkJsonShape reports wrong array / single shape, nulls and empty values', () => {
  assert.deepEqual(where({ resourceType: 'Task', identifier: { value: 'x' } }), ['Task.identifier']);
  assert.deepEqual(where({ resourceType: 'Task', status: ['draft'] }), ['Task.status']);
  assert.deepEqual(where({ resourceType: 'Task', requester: [{ display: 'x' }] }), ['Task.requester']);
  assert.deepEqual(where({ resourceType: 'Task', identifier: [] }), ['Task.identifier']);
  assert.deepEqual(where({ resourceType: 'Task', identifier: [null] }), ['Task.identifier[0]']);
  assert.deepEqual(where({ resourceType: 'Task', status: null }), ['Task.status']);
  assert.deepEqual(where({ resourceType: 'Task', requester: {} }), ['Task.requester']);
  assert.deepEqual(where({ resourceType: 'Task', description: '' }), ['Task.description']);
  assert.deepEqual(where({ resourceType: 'Task', requester: 'Organization/1' }), ['Task.requester']);
  assert.deepEqual(where({ resourceType: 'Patient', text: { status: 'generated', div: 5 } }), ['Patient.text.div']);
});

test('checkJsonShape checks the JSON kinds of primitives', () => {
  assert.deepEqual(where({ resourceType: 'Patient', active: 'true' }), ['Patient.active']);
  assert.deepEqual(where({ resourceType: 'Patient', multipleBirthInteger: '2' }), ['Patient.multipleBirthInteger']);
  assert.deepEqual(where({ resourceType: 'Patient', multipleBirthInteger: 2.5 }), ['Patient.multipleBirthInteger']);
  assert.deepEqual(where({ resourceType: 'Patient', gender: 1 }), ['Patient.gender']);
  assert.deepEqual(where({ resourceType: 'Patient', extension: [{ url: 'u', valueDecimal: 1.25 }] }), []);
  assert.deepEqual(where({ resourceType: 'Patient', extension: [{ url: 'u', valueDecimal: '1.25' }] }), ['Patient.extension[0].valueDecimal']);
});

test('checkJsonShape checks primitive shadows and their alignment', () => {
  assert.deepEqual(where({ resourceType: 'Patient', name: [{ given: ['a', 'b'], _given: [null] }] }), ['Patient.name[0].given']);
  assert.deepEqual(where({ resourceType: 'Patient', name: [{ given: ['a', null] }] }), ['Patient.name[0].given[1]']);
  assert.deepEqual(where({ resourceType: 'Patient', name: [{ given: ['a'], _given: ['x'] }] }), ['Patient.name[0].given[0]']);
  assert.deepEqual(where({ resourceType: 'Patient', _gender: [{ id: 'x' }] }), ['Patient.gender']);
  assert.deepEqual(where({ resourceType: 'Patient', name: [{ _given: { id: 'x' } }] }), ['Patient.name[0].given']);
});

test('checkJsonShape reports competing choice variants and bad nested resources', () => {
  assert.deepEqual(where({ resourceType: 'Task', input: [{ type: { text: 't' }, valueString: 'a', valueInteger: 1 }] }), ['Task.input[0].valueInteger']);
  assert.deepEqual(where({ resourceType: 'Task', contained: [{ id: 'x' }] }), ['Task.contained[0].resourceType']);
  assert.deepEqual(where({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Task', status: 5 } }] }), ['Bundle.entry[0].resource.status']);
  assert.deepEqual(where({ resourceType: 'Nope' }), ['resourceType']);
});

test('checkJsonShape reports a competing choice variant wherever it comes among the keys, per object', () => {
  // The choices seen are kept per object, from the first choice element on.
  assert.deepEqual(where({ resourceType: 'Patient', active: true, deceasedBoolean: false, gender: 'male', deceasedDateTime: '2020-01-01' }), ['Patient.deceasedDateTime']);
  assert.deepEqual(where({ resourceType: 'Patient', deceasedBoolean: false, multipleBirthInteger: 2, multipleBirthBoolean: true, deceasedDateTime: '2020' }), ['Patient.multipleBirthBoolean', 'Patient.deceasedDateTime']);
  assert.deepEqual(where({ resourceType: 'Patient', deceasedBoolean: false, extension: [{ url: 'u', valueString: 'a' }, { url: 'v', valueInteger: 1 }] }), []);
  assert.deepEqual(where({ resourceType: 'Patient', deceasedBoolean: false, _deceasedBoolean: { id: 'x' } }), []);
});
