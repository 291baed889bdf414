import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementInfo, elementInfoForPath, isResourceType, jsonPrimitiveKind, resourceTypes, typeInfo } from '../../../src/fhir/model/type-model.ts';

test('resource elements come in definition order with inherited Resource and DomainResource elements first', () => {
  const task = typeInfo('Task')!;
  assert.equal(task.kind, 'resource');
  assert.deepEqual(task.elements.slice(0, 9).map((e) => e.name), ['id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension', 'identifier']);
  const orders = task.elements.map((e) => e.order);
  assert.deepEqual(orders, [...orders].sort((a, b) => a - b));
});

test('cardinality, primitive-ness and XML attribute representation', () => {
  assert.equal(elementInfo('Task', 'identifier')!.array, true);
  assert.equal(elementInfo('Task', 'status')!.array, false);
  assert.equal(elementInfo('Task', 'status')!.primitive, true);
  assert.equal(elementInfo('Task', 'requester')!.primitive, false);
  assert.equal(elementInfo('Task', 'id')!.xmlAttr, false, 'Resource.id is an element');
  assert.equal(elementInfo('Task.input', 'id')!.xmlAttr, true, 'Element.id is an attribute');
  assert.equal(elementInfo('Extension', 'url')!.xmlAttr, true);
  assert.equal(elementInfo('Narrative', 'div')!.type, 'xhtml');
  assert.equal(elementInfo('Narrative', 'div')!.primitive, false);
  assert.equal(elementInfo('Task', 'contained')!.resource, true);
  assert.equal(elementInfo('Bundle.entry', 'resource')!.resource, true);
  assert.equal(elementInfo('Bundle.entry.response', 'outcome')!.resource, true);
});

test('choice elements are expanded into one element per type', () => {
  const s = elementInfoForPath('Task.input.valueString')!;
  assert.equal(s.type, 'string');
  assert.equal(s.choiceOf, 'value');
  assert.equal(s.primitive, true);
  assert.equal(elementInfoForPath('Task.input.valueReference')!.type, 'Reference');
  assert.equal(elementInfoForPath('Extension.valueBase64Binary')!.type, 'base64Binary');
  assert.equal(elementInfoForPath('Patient.deceasedDateTime')!.type, 'dateTime');
  assert.equal(elementInfoForPath('Task.input.value'), undefined);
  const task = typeInfo('Task.input')!;
  assert.equal(new Set(task.elements.filter((e) => e.choiceOf === 'value').map((e) => e.order)).size, 1, 'variants share one position');
});

test('backbone elements and content references resolve to path-named types', () => {
  assert.equal(elementInfo('Task', 'input')!.type, 'Task.input');
  assert.equal(typeInfo('Task.input')!.kind, 'backbone');
  const nested = elementInfo('Questionnaire.item', 'item')!;
  assert.equal(nested.contentReference, 'Questionnaire.item');
  assert.equal(nested.type, 'Questionnaire.item');
  assert.equal(elementInfoForPath('Questionnaire.item.item.item.linkId')!.type, 'string');
  assert.equal(elementInfoForPath('QuestionnaireResponse.item.answer.item.answer.valueCoding')!.type, 'Coding');
  assert.equal(elementInfoForPath('Parameters.parameter.part.part.resource')!.resource, true);
  assert.equal(elementInfoForPath('Timing.repeat.boundsDuration')!.type, 'Duration');
});

test('primitive JSON kinds and resource types', () => {
  assert.equal(jsonPrimitiveKind('decimal'), 'number');
  assert.equal(jsonPrimitiveKind('positiveInt'), 'number');
  assert.equal(jsonPrimitiveKind('boolean'), 'boolean');
  assert.equal(jsonPrimitiveKind('dateTime'), 'string');
  assert.ok(isResourceType('Task'));
  assert.ok(isResourceType('OperationOutcome'));
  assert.ok(!isResourceType('Resource'), 'abstract');
  assert.ok(!isResourceType('DomainResource'), 'abstract');
  assert.ok(!isResourceType('Coding'));
  assert.ok(resourceTypes().size > 140);
});
