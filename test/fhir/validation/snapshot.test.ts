import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError } from '../../../src/common/errors.ts';
import { generateSnapshot } from '../../../src/fhir/validation/snapshot.ts';
import { baseStructureDefinition } from '../../../src/fhir/model/definitions.ts';
import { MapResolver, fixtureResources, loadFixture } from '../../fixtures/validation/fixture-resolver.ts';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import type { Bundle } from '@medplum/fhirtypes';

const resolver = new MapResolver(fixtureResources());
const resolve = (url: string) => resolver.structureDefinition(url);

function snapshotOf(sd: StructureDefinition): Map<string, ElementDefinition> {
  const generated = generateSnapshot(sd, resolve);
  return new Map(generated.snapshot!.element!.map((e) => [e.id!, e]));
}

function element(elements: Map<string, ElementDefinition>, id: string): ElementDefinition {
  const e = elements.get(id);
  assert.ok(e, `element ${id} missing from snapshot`);
  return e;
}

function taskProfile(differential: ElementDefinition[], baseDefinition = 'http://hl7.org/fhir/StructureDefinition/Task'): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: 'http://test.dsf.dev/fhir/StructureDefinition/task-inline',
    name: 'TaskInline',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Task',
    baseDefinition,
    derivation: 'constraint',
    differential: { element: differential },
  };
}

function assertSnapshotError(sd: StructureDefinition, path: string): void {
  assert.throws(
    () => generateSnapshot(sd, resolve),
    (e: unknown) => e instanceof FhirError && e.status === 400 && e.message.includes(path),
  );
}

describe('generateSnapshot: DSF-style Task base profile', () => {
  const base = loadFixture<StructureDefinition>('task-base.json');
  const generated = generateSnapshot(base, resolve);
  const elements = new Map(generated.snapshot!.element!.map((e) => [e.id!, e]));
  const ids = generated.snapshot!.element!.map((e) => e.id!);

  it('keeps the differential and every base element, in base order', () => {
    assert.deepEqual(generated.differential, base.differential);
    const r4 = baseStructureDefinition('Task')!.snapshot!.element!.map((e) => e.id!);
    const withoutAdded = ids.filter((id) => r4.includes(id));
    assert.deepEqual(withoutAdded, r4);
  });

  it('lays out the sliced input element: entry, its children, then each slice with its (unrolled) children', () => {
    assert.deepEqual(ids.slice(ids.indexOf('Task.input'), ids.indexOf('Task.output')), [
      'Task.input', 'Task.input.id', 'Task.input.extension', 'Task.input.modifierExtension', 'Task.input.type', 'Task.input.value[x]',
      'Task.input:message-name', 'Task.input:message-name.id', 'Task.input:message-name.extension', 'Task.input:message-name.modifierExtension',
      'Task.input:message-name.type', 'Task.input:message-name.type.id', 'Task.input:message-name.type.extension',
      'Task.input:message-name.type.coding', 'Task.input:message-name.type.text', 'Task.input:message-name.value[x]',
      'Task.input:business-key', 'Task.input:business-key.id', 'Task.input:business-key.extension', 'Task.input:business-key.modifierExtension',
      'Task.input:business-key.type', 'Task.input:business-key.type.id', 'Task.input:business-key.type.extension',
      'Task.input:business-key.type.coding', 'Task.input:business-key.type.text', 'Task.input:business-key.value[x]',
    ]);
  });

  it('sets the slicing and cardinality on the entry and on the slices', () => {
    const input = element(elements, 'Task.input');
    assert.deepEqual(input.slicing, { discriminator: [{ type: 'pattern', path: 'type.coding' }], rules: 'open' });
    assert.equal(input.min, 1);
    assert.equal(input.max, '*');
    const messageName = element(elements, 'Task.input:message-name');
    assert.equal(messageName.sliceName, 'message-name');
    assert.equal(messageName.path, 'Task.input');
    assert.equal(messageName.slicing, undefined);
    assert.deepEqual([messageName.min, messageName.max], [1, '1']);
    const businessKey = element(elements, 'Task.input:business-key');
    assert.deepEqual([businessKey.min, businessKey.max], [0, '1']);
  });

  it('constrains elements inside slices: pattern on unrolled type.coding, binding merged, value[x] narrowed', () => {
    const coding = element(elements, 'Task.input:message-name.type.coding');
    assert.equal(coding.path, 'Task.input.type.coding');
    assert.equal(coding.base?.path, 'CodeableConcept.coding');
    assert.deepEqual(coding.patternCoding, { system: 'http://test.dsf.dev/fhir/CodeSystem/bpmn-message', code: 'message-name' });
    assert.deepEqual([coding.min, coding.max], [1, '1']);
    const type = element(elements, 'Task.input:message-name.type');
    assert.equal(type.binding?.strength, 'required');
    assert.equal(type.binding?.valueSet, 'http://test.dsf.dev/fhir/ValueSet/bpmn-message');
    assert.equal(element(elements, 'Task.input.type').binding?.strength, 'example', 'the entry keeps the base binding');
    assert.deepEqual(element(elements, 'Task.input:message-name.value[x]').type, [{ code: 'string' }]);
    assert.equal(element(elements, 'Task.input.value[x]').type!.length > 10, true, 'the entry keeps all choice types');
  });

  it('constrains plain elements: fixed code, min, replaced types, unrolled Reference and Identifier children', () => {
    assert.equal(element(elements, 'Task.intent').fixedCode, 'order');
    assert.equal(element(elements, 'Task.instantiatesCanonical').min, 1);
    assert.equal(element(elements, 'Task.authoredOn').min, 1);
    assert.deepEqual(element(elements, 'Task.requester').type![0]!.targetProfile, [
      'http://hl7.org/fhir/StructureDefinition/Organization',
      'http://hl7.org/fhir/StructureDefinition/Practitioner',
    ]);
    assert.deepEqual(ids.filter((id) => id.startsWith('Task.requester.')), [
      'Task.requester.id', 'Task.requester.extension', 'Task.requester.reference', 'Task.requester.type', 'Task.requester.identifier',
      'Task.requester.identifier.id', 'Task.requester.identifier.extension', 'Task.requester.identifier.use', 'Task.requester.identifier.type',
      'Task.requester.identifier.system', 'Task.requester.identifier.value', 'Task.requester.identifier.period', 'Task.requester.identifier.assigner',
      'Task.requester.display',
    ]);
    const system = element(elements, 'Task.requester.identifier.system');
    assert.equal(system.path, 'Task.requester.identifier.system');
    assert.equal(system.min, 1);
    assert.deepEqual([element(elements, 'Task.restriction.recipient').min, element(elements, 'Task.restriction.recipient').max], [1, '1']);
  });

  it('adds profile constraints with their source and keeps the base ones', () => {
    const keys = element(elements, 'Task').constraint!.map((c) => c.key);
    assert.ok(keys.includes('inv-1') && keys.includes('dom-2'));
    const added = element(elements, 'Task').constraint!.find((c) => c.key === 'test-business-key')!;
    assert.equal(added.source, base.url);
    assert.equal(added.severity, 'error');
  });

  it('does not modify the R4 base definitions it started from', () => {
    const r4 = baseStructureDefinition('Task')!.snapshot!.element!;
    assert.equal(r4.find((e) => e.id === 'Task.intent')!.fixedCode, undefined);
    assert.equal(r4.some((e) => e.id!.includes(':')), false);
  });
});

describe('generateSnapshot: profile derived from a differential-only profile', () => {
  const elements = snapshotOf(loadFixture<StructureDefinition>('task-ping.json'));

  it('generates the base profile snapshot first and inherits its slices and constraints', () => {
    assert.equal(element(elements, 'Task.intent').fixedCode, 'order');
    assert.equal(element(elements, 'Task.input:business-key.type.coding').patternCoding!.code, 'business-key');
    assert.ok(element(elements, 'Task').constraint!.some((c) => c.key === 'test-business-key'));
  });

  it('adds new slices to the inherited slicing', () => {
    const ep = element(elements, 'Task.input:endpoint-identifier');
    assert.deepEqual([ep.min, ep.max], [1, '1']);
    const ids = [...elements.keys()];
    assert.ok(ids.indexOf('Task.input:endpoint-identifier') > ids.indexOf('Task.input:business-key.value[x]'));
    assert.ok(ids.indexOf('Task.input:target-role') > ids.indexOf('Task.input:endpoint-identifier.value[x].display'));
  });

  it('resolves choice renames (valueString, valueCoding) to value[x] restricted to that type', () => {
    const messageValue = element(elements, 'Task.input:message-name.value[x]');
    assert.equal(messageValue.fixedString, 'ping');
    assert.equal(elements.has('Task.input:message-name.valueString'), false);
    const role = element(elements, 'Task.input:target-role.value[x]');
    assert.deepEqual(role.type!.map((t) => t.code), ['Coding']);
    assert.equal(role.binding?.valueSet, 'http://test.dsf.dev/fhir/ValueSet/ping-target-role|1.0.0');
  });

  it('unrolls children of a narrowed choice (value[x] as Reference -> identifier -> system)', () => {
    const system = element(elements, 'Task.input:endpoint-identifier.value[x].identifier.system');
    assert.equal(system.fixedUri, 'http://dsf.dev/sid/endpoint-identifier');
    assert.equal(system.path, 'Task.input.value[x].identifier.system');
    assert.deepEqual(element(elements, 'Task.input:endpoint-identifier.value[x]').type![0]!.targetProfile, ['http://hl7.org/fhir/StructureDefinition/Endpoint']);
  });

  it('slices extensions by url with the extension profile as type', () => {
    assert.deepEqual(element(elements, 'Task.extension').slicing, { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' });
    const slice = element(elements, 'Task.extension:ping-settings');
    assert.deepEqual(slice.type, [{ code: 'Extension', profile: ['http://test.dsf.dev/fhir/StructureDefinition/extension-ping-settings'] }]);
    assert.deepEqual([slice.min, slice.max], [0, '1']);
  });
});

describe('generateSnapshot: extension definitions and other cases', () => {
  it('builds a complex extension: sub-extension slices with fixed urls and value types, value[x] removed', () => {
    const elements = snapshotOf(loadFixture<StructureDefinition>('extension-ping-settings.json'));
    assert.deepEqual(element(elements, 'Extension.extension').slicing?.discriminator, [{ type: 'value', path: 'url' }]);
    assert.equal(element(elements, 'Extension.extension:timeout.url').fixedUri, 'timeout');
    assert.deepEqual(element(elements, 'Extension.extension:timeout.value[x]').type, [{ code: 'positiveInt' }]);
    assert.equal(element(elements, 'Extension.extension:timeout.value[x]').min, 1);
    assert.deepEqual(element(elements, 'Extension.extension:mode.value[x]').type!.map((t) => t.code), ['string']);
    assert.equal(element(elements, 'Extension.value[x]').max, '0');
    assert.equal(element(elements, 'Extension.url').fixedUri, 'http://test.dsf.dev/fhir/StructureDefinition/extension-ping-settings');
  });

  it('unrolls contentReference elements (Questionnaire.item.item) when constrained inside', () => {
    const profile: StructureDefinition = {
      ...taskProfile([{ id: 'Questionnaire.item.item.linkId', path: 'Questionnaire.item.item.linkId', maxLength: 10 }], 'http://hl7.org/fhir/StructureDefinition/Questionnaire'),
      type: 'Questionnaire',
    };
    const elements = snapshotOf(profile);
    const nested = element(elements, 'Questionnaire.item.item');
    assert.equal(nested.contentReference, undefined);
    assert.deepEqual(nested.type?.map((t) => t.code), ['BackboneElement']);
    assert.equal(element(elements, 'Questionnaire.item.item.linkId').maxLength, 10);
    assert.ok(elements.has('Questionnaire.item.item.item'), 'the nested item keeps its own contentReference child');
    assert.equal(element(elements, 'Questionnaire.item.item.item').contentReference, '#Questionnaire.item');
  });

  it('derives ids for differential elements given only by path and sliceName', () => {
    const elements = snapshotOf(
      taskProfile([
        { path: 'Task.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
        { path: 'Task.identifier', sliceName: 'dsf', min: 1 },
        { path: 'Task.identifier.system', fixedUri: 'http://dsf.dev/sid/task-identifier' },
      ]),
    );
    assert.equal(element(elements, 'Task.identifier:dsf').min, 1);
    assert.equal(element(elements, 'Task.identifier:dsf.system').fixedUri, 'http://dsf.dev/sid/task-identifier');
    assert.equal(elements.get('Task.identifier.system')?.fixedUri, undefined, 'the entry is not constrained');
  });

  it('returns a profile that already has a snapshot and no base unchanged', () => {
    const r4 = baseStructureDefinition('Task')!;
    assert.equal(generateSnapshot({ ...r4, baseDefinition: undefined }, resolve).snapshot, r4.snapshot);
  });
});

describe('generateSnapshot: the differential is walked by path and slice name, not by element id', () => {
  // A plugin Task profile shaped like published ones: some element ids do not spell their paths.
  const process = loadFixture<Bundle>('dsf-plugin/greeting-process.json').entry!.map((e) => e.resource!);
  const greetingResolver = new MapResolver([...loadCoreResources(), ...process]);
  const greeting = process.find((r) => r.resourceType === 'StructureDefinition') as StructureDefinition;
  const generated = generateSnapshot(greeting, (url) => greetingResolver.structureDefinition(url));
  const elements = new Map(generated.snapshot!.element!.map((e) => [e.id!, e]));

  it('constrains the element the path names when the id names another (id Task.input:x.system on Task.input.type.coding.system)', () => {
    const system = element(elements, 'Task.input:greeting-text.type.coding.system');
    assert.equal(system.fixedUri, 'http://test.dsf.dev/fhir/CodeSystem/greeting');
    assert.equal(system.min, 1);
    assert.equal(elements.has('Task.input:greeting-text.system'), false, 'no element under the id as written');
    assert.equal(elements.get('Task.input.type.coding.system')?.fixedUri, undefined, 'the unsliced entry is not constrained');
    const value = element(elements, 'Task.input:greeting-text.value[x]');
    assert.deepEqual(value.type?.map((t) => t.code), ['string']);
    assert.ok(value.constraint?.some((c) => c.key === 'greeting-text-length'));
  });

  it('puts an element into the slice opened last before it, whatever slice its id names', () => {
    const system = element(elements, 'Task.input:addressee.value[x].identifier.system');
    assert.equal(system.fixedUri, 'http://dsf.dev/sid/practitioner-identifier');
    assert.equal(system.min, 1);
    assert.deepEqual(element(elements, 'Task.input:sender.value[x]').type?.map((t) => t.code), ['string']);
    assert.ok(![...elements.keys()].some((id) => id.startsWith('Task.input:sender.value[x].')), 'the sender slice gets no Reference children');
  });

  it('gives every snapshot element an id that spells its path with slice names', () => {
    for (const e of generated.snapshot!.element!) assert.equal(e.id!.replace(/:[^.]+/g, ''), e.path, e.id);
  });

  it('takes the slice of an inherited slicing from the id when no element of the differential opened one', () => {
    const elements = snapshotOf(
      taskProfile([{ id: 'Task.input:business-key.value[x]', path: 'Task.input.value[x]', maxLength: 64 }], 'http://test.dsf.dev/fhir/StructureDefinition/task-base'),
    );
    assert.equal(element(elements, 'Task.input:business-key.value[x]').maxLength, 64);
    assert.equal(element(elements, 'Task.input.value[x]').maxLength, undefined);
  });

  it('an element on the sliced path closes the slices below it: later children constrain the entry', () => {
    const elements = snapshotOf(
      taskProfile([
        { id: 'Task.identifier', path: 'Task.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
        { id: 'Task.identifier:dsf', path: 'Task.identifier', sliceName: 'dsf' },
        { id: 'Task.identifier:dsf.system', path: 'Task.identifier.system', min: 1 },
        { id: 'Task.identifier:other', path: 'Task.identifier', sliceName: 'other' },
        { id: 'Task.identifier:dsf.value', path: 'Task.identifier.value', min: 1 },
      ]),
    );
    assert.equal(element(elements, 'Task.identifier:dsf.system').min, 1);
    assert.equal(element(elements, 'Task.identifier:other.value').min, 1);
    assert.equal(element(elements, 'Task.identifier:dsf.value').min, 0);
  });

  it('names both the path and the id as written when a path is not found', () => {
    assert.throws(
      () => generateSnapshot(taskProfile([{ id: 'Task.input.foo', path: 'Task.input.type.foo', min: 1 }]), resolve),
      (e: unknown) => e instanceof FhirError && e.status === 400 && /Task\.input\.type\.foo \(element id Task\.input\.foo\)': path not found/.test(e.message),
    );
  });
});

describe('generateSnapshot: errors', () => {
  it('names a path that does not exist in the base', () => {
    assertSnapshotError(taskProfile([{ id: 'Task.nonsense', path: 'Task.nonsense', min: 1 }]), 'Task.nonsense');
    assertSnapshotError(taskProfile([{ id: 'Task.input.type.coding.foo', path: 'Task.input.type.coding.foo', min: 1 }]), 'Task.input.type.coding.foo');
    assertSnapshotError(taskProfile([{ id: 'Organization.name', path: 'Organization.name', min: 1 }]), 'Organization.name');
  });

  it('rejects a type not allowed by the base, a choice rename to a foreign type, a widened max', () => {
    assertSnapshotError(taskProfile([{ id: 'Task.status', path: 'Task.status', type: [{ code: 'Quantity' }] }]), 'Task.status');
    assertSnapshotError(taskProfile([{ id: 'Task.input.valueFoo', path: 'Task.input.valueFoo', min: 1 }]), 'Task.input.valueFoo');
    assertSnapshotError(taskProfile([{ id: 'Task.intent', path: 'Task.intent', max: '*' }]), 'Task.intent');
  });

  it('rejects constraints inside a choice with several types and slices without slicing', () => {
    assertSnapshotError(taskProfile([{ id: 'Task.input.value[x].system', path: 'Task.input.value[x].system', min: 1 }]), 'Task.input.value[x].system');
    assertSnapshotError(taskProfile([{ id: 'Task.identifier:x', path: 'Task.identifier', sliceName: 'x' }]), 'Task.identifier:x');
  });

  it('rejects an unknown base definition', () => {
    assertSnapshotError(taskProfile([], 'http://example.org/StructureDefinition/missing'), 'missing');
  });
});
