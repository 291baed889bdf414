// Plugins written for the reference's process plugin API v1 (apiVersion 1): their FHIR resources are
// converted as the reference's BPE 2.x converts them (profiles, task-base, versioned core bindings,
// Questionnaire `required`), then checked; the v1 checks differ where the reference's do; the same
// files declared as API v2 are refused with the reference's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivityDefinition, Questionnaire, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { convertApiV1Resource } from '../../../src/bpe/plugins/api-v1-conversion.ts';
import { loadPlugin, type LoadContext, type PluginRefusal } from '../../../src/bpe/plugins/plugin-loader.ts';
import type { LoadedPlugin } from '../../../src/bpe/plugins/loaded-plugin.ts';
import { copyTestPlugin, V1_FIXTURE_PLUGIN, type PluginCopy } from './plugin-fixture.ts';

const SD = 'http://dsf.dev/fhir/StructureDefinition';
const ctx: LoadContext = { organizationIdentifier: 'test-organization.test', env: {} };
const copyV1 = (): PluginCopy => copyTestPlugin('v1-plugin', undefined, V1_FIXTURE_PLUGIN);
const profilesOf = (r: Resource) => r.meta?.profile;

async function loaded(folder: string): Promise<LoadedPlugin> {
  const outcome = await loadPlugin(folder, ctx);
  assert.ok(!('problems' in outcome), 'problems' in outcome ? outcome.problems.join('\n') : '');
  return outcome as LoadedPlugin;
}

async function refused(copy: PluginCopy): Promise<PluginRefusal> {
  const outcome = await loadPlugin(copy.folder, ctx);
  assert.ok('problems' in outcome, 'the plugin should have been refused');
  return outcome;
}

test('conversion: the DSF profile is declared first; DSF 1.x versioned profiles of ActivityDefinition, CodeSystem, ValueSet lose the version', () => {
  const tag = [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }];
  const cases: Array<[Resource['resourceType'], string[] | undefined, string[]]> = [
    ['ActivityDefinition', undefined, [`${SD}/activity-definition`]],
    ['ActivityDefinition', [`${SD}/activity-definition|1.0.0`], [`${SD}/activity-definition`]],
    ['ActivityDefinition', ['http://other.org/ad', `${SD}/activity-definition|1.0.0`], [`${SD}/activity-definition`, 'http://other.org/ad']],
    ['ActivityDefinition', [`${SD}/activity-definition|2.0.0`], [`${SD}/activity-definition`, `${SD}/activity-definition|2.0.0`]],
    ['CodeSystem', [`${SD}/code-system|1.0.0`], [`${SD}/code-system`]],
    ['ValueSet', [], [`${SD}/value-set`]],
    ['ValueSet', [`${SD}/value-set|1.0.0`, `${SD}/value-set`], [`${SD}/value-set`]],
    // Library, Measure, NamingSystem: declared, versioned ones kept as they are
    ['Library', [`${SD}/library|1.0.0`], [`${SD}/library`, `${SD}/library|1.0.0`]],
    ['Measure', undefined, [`${SD}/measure`]],
    ['NamingSystem', undefined, [`${SD}/naming-system`]],
    ['StructureDefinition', [`${SD}/structure-definition|1.0.0`], [`${SD}/structure-definition`, `${SD}/structure-definition|1.0.0`]],
  ];
  for (const [resourceType, before, after] of cases) {
    const input = { resourceType, ...(before ? { meta: { profile: before, tag } } : {}) } as Resource;
    const frozen = JSON.stringify(input);
    const out = convertApiV1Resource(input);
    assert.deepEqual(profilesOf(out), after, `${resourceType} ${JSON.stringify(before)}`);
    if (before) assert.deepEqual(out.meta?.tag, tag, 'other meta kept');
    assert.equal(JSON.stringify(input), frozen, 'the input is not changed');
  }
});

test('conversion: a Questionnaire keeps its profiles (1.0.0 and 1.5.0 lose the version, none is added) and gets required where missing', () => {
  const q = (profile?: string[]): Questionnaire => ({ resourceType: 'Questionnaire', status: 'unknown', ...(profile ? { meta: { profile } } : {}) });
  assert.deepEqual(profilesOf(convertApiV1Resource(q([`${SD}/questionnaire|1.0.0`]))), [`${SD}/questionnaire`]);
  assert.deepEqual(profilesOf(convertApiV1Resource(q([`${SD}/questionnaire|1.5.0`]))), [`${SD}/questionnaire`]);
  assert.deepEqual(profilesOf(convertApiV1Resource(q([`${SD}/questionnaire|2.0.0`]))), [`${SD}/questionnaire|2.0.0`]);
  assert.equal(convertApiV1Resource(q()).meta, undefined, 'no profile is added to a Questionnaire');

  const out = convertApiV1Resource<Questionnaire>({
    ...q(),
    item: [
      { linkId: 'business-key', type: 'string' },
      { linkId: 'user-task-id', type: 'string', required: false },
      { linkId: 'info', type: 'display' },
      { linkId: 'answer', type: 'boolean' },
      { linkId: 'kept', type: 'string', required: true, item: [{ linkId: 'under-kept', type: 'string' }] },
      { linkId: 'group', type: 'group', item: [{ linkId: 'business-key', type: 'string' }, { linkId: 'nested', type: 'integer' }] },
      { type: 'string' } as never,
    ],
  });
  assert.deepEqual(
    out.item!.map((i) => [i.linkId, i.required, i.item?.map((c) => [c.linkId, c.required])]),
    [
      ['business-key', true, undefined],
      ['user-task-id', false, undefined], // set already: left as it is (the check refuses it)
      ['info', undefined, undefined],
      ['answer', false, undefined],
      // As the reference: children of an item that had `required` already are not visited.
      ['kept', true, [['under-kept', undefined]]],
      ['group', false, [['business-key', true], ['nested', false]]],
      [undefined, undefined, undefined],
    ],
  );
});

test('conversion: a StructureDefinition based on task-base is based on task; versioned bindings to the DSF core terminology lose the version', () => {
  const binding = (valueSet: string) => ({ strength: 'required' as const, valueSet });
  const sd = (baseDefinition: string): StructureDefinition => ({
    resourceType: 'StructureDefinition',
    url: 'http://v1.test.org/fhir/StructureDefinition/task-x',
    name: 'TaskX',
    status: 'unknown',
    kind: 'resource',
    abstract: false,
    type: 'Task',
    baseDefinition,
    differential: {
      element: [
        { id: 'Task.input.type', path: 'Task.input.type', binding: binding('http://dsf.dev/fhir/CodeSystem/bpmn-message|1.0.0') },
        { id: 'Task.output.type', path: 'Task.output.type', binding: binding('http://dsf.dev/fhir/CodeSystem/read-access-tag|2.0.0') },
        { id: 'Task.businessStatus', path: 'Task.businessStatus', binding: binding('http://v1.test.org/fhir/ValueSet/x|1.2') },
        { id: 'Task.reasonCode', path: 'Task.reasonCode', binding: binding('http://dsf.dev/fhir/ValueSet/bpmn-message|1.0.0') },
        { id: 'Task.note', path: 'Task.note' },
      ],
    },
  });
  for (const base of [`${SD}/task-base`, `${SD}/task-base|1.0.0`]) {
    const out = convertApiV1Resource(sd(base));
    assert.equal(out.baseDefinition, `${SD}/task`);
    assert.deepEqual(profilesOf(out), [`${SD}/structure-definition`]);
    assert.deepEqual(
      out.differential!.element!.map((e) => e.binding?.valueSet),
      [
        'http://dsf.dev/fhir/CodeSystem/bpmn-message',
        'http://dsf.dev/fhir/CodeSystem/read-access-tag',
        'http://v1.test.org/fhir/ValueSet/x|1.2', // the plugin's own ValueSet keeps its version
        'http://dsf.dev/fhir/ValueSet/bpmn-message|1.0.0', // the reference's rule names the CodeSystem URLs only
        undefined,
      ],
    );
  }
  assert.equal(convertApiV1Resource(sd('http://hl7.org/fhir/StructureDefinition/Extension')).baseDefinition, 'http://hl7.org/fhir/StructureDefinition/Extension');
});

test('conversion: draft Tasks and other types are not changed', () => {
  const task = { resourceType: 'Task', status: 'draft', intent: 'order', meta: { profile: ['http://v1.test.org/fhir/StructureDefinition/task-greet|1.2'] } } as Resource;
  assert.equal(convertApiV1Resource(task), task);
});

test('the API v1 fixture loads: its resources converted, the rest as written', async () => {
  const plugin = await loaded(V1_FIXTURE_PLUGIN);
  assert.equal(plugin.apiVersion, 1);
  assert.equal(plugin.resourceVersion, '1.2');
  assert.deepEqual(plugin.processes.map((p) => `${p.processId}|${p.version}`), ['v1testorg_greet|1.2', 'v1testorg_approve|1.2']);
  const byFile = new Map([...plugin.resources.values()].flat().map((r) => [r.file, r.resource]));
  assert.deepEqual(profilesOf(byFile.get('fhir/ActivityDefinition/greet.xml')!), [`${SD}/activity-definition`]);
  assert.deepEqual(profilesOf(byFile.get('fhir/ActivityDefinition/approve.xml')!), [`${SD}/activity-definition`]);
  assert.deepEqual((byFile.get('fhir/ActivityDefinition/approve.xml') as ActivityDefinition).meta?.tag?.[0]?.code, 'ALL');
  assert.deepEqual(profilesOf(byFile.get('fhir/CodeSystem/greet.xml')!), [`${SD}/code-system`]);
  assert.deepEqual(profilesOf(byFile.get('fhir/ValueSet/greet.xml')!), [`${SD}/value-set`]);
  assert.deepEqual(profilesOf(byFile.get('fhir/NamingSystem/greeting-id.xml')!), [`${SD}/naming-system`]);
  const greet = byFile.get('fhir/StructureDefinition/task-greet.xml') as StructureDefinition;
  const approve = byFile.get('fhir/StructureDefinition/task-approve.xml') as StructureDefinition;
  assert.equal(greet.baseDefinition, `${SD}/task`);
  assert.equal(approve.baseDefinition, `${SD}/task`);
  assert.deepEqual(profilesOf(approve), [`${SD}/structure-definition`]);
  assert.equal(approve.differential!.element!.find((e) => e.id === 'Task.input:message-name.type')!.binding!.valueSet, 'http://dsf.dev/fhir/CodeSystem/bpmn-message');
  const questionnaire = byFile.get('fhir/Questionnaire/approve.xml') as Questionnaire;
  assert.deepEqual(profilesOf(questionnaire), [`${SD}/questionnaire`]);
  assert.deepEqual(questionnaire.item!.map((i) => [i.linkId, i.required]), [
    ['business-key', true],
    ['user-task-id', true],
    ['explanation', undefined],
    ['approved', false],
    ['comment', true],
  ]);
  const draft = byFile.get('fhir/Task/task-greet.xml')!;
  assert.deepEqual(profilesOf(draft), ['http://v1.test.org/fhir/StructureDefinition/task-greet|1.2'], 'draft Tasks unchanged');
  assert.match(plugin.processes[1]!.xml, /class="dev\.dsf\.bpe\.v1\.activity\.DefaultUserTaskListener"/, 'BPMN unchanged');
  assert.equal(plugin.activities.has('dev.dsf.bpe.v1.activity.DefaultUserTaskListener'), true, "the reference's v1 default user task listener maps to ours");
  assert.equal(plugin.activities.has('dev.dsf.bpe.v2.activity.DefaultUserTaskListener'), false);
});

test('the same files declared as API v2 are refused by the reference rules the conversion satisfies', async () => {
  const copy = copyV1();
  copy.edit('index.ts', (t) => t.replace('apiVersion: 1,', 'apiVersion: 2,'));
  const r = await refused(copy);
  assert.equal(r.plugin, 'v1-test-plugin-1.2.0.0');
  assert.deepEqual(r.problems.filter((p) => !/needs exactly one ActivityDefinition/.test(p)).sort(), [
    "bpe/approve.bpmn: userTask 'Approve' create task listener: camunda:class 'dev.dsf.bpe.v1.activity.DefaultUserTaskListener' is not mapped to an activity in the plugin definition",
    `fhir/ActivityDefinition/approve.xml: ${SD}/activity-definition not declared as profile`,
    `fhir/ActivityDefinition/greet.xml: ${SD}/activity-definition not declared as profile`,
    `fhir/CodeSystem/greet.xml: ${SD}/code-system not declared as profile`,
    `fhir/NamingSystem/greeting-id.xml: ${SD}/naming-system not declared as profile`,
    `fhir/Questionnaire/approve.xml: ${SD}/questionnaire not declared as profile`,
    'fhir/Questionnaire/approve.xml: Questionnaire has items without the required property',
    `fhir/StructureDefinition/task-approve.xml: ${SD}/structure-definition not declared as profile`,
    `fhir/StructureDefinition/task-approve.xml: StructureDefinition has DSF ValueSet bindings with version: http://dsf.dev/fhir/CodeSystem/bpmn-message|1.0.0`,
    `fhir/StructureDefinition/task-approve.xml: StructureDefinition.baseDefinition ${SD}/task-base|1.0.0 not allowed`,
    `fhir/StructureDefinition/task-greet.xml: ${SD}/structure-definition not declared as profile`,
    `fhir/StructureDefinition/task-greet.xml: StructureDefinition.baseDefinition ${SD}/task-base not allowed`,
    `fhir/ValueSet/greet.xml: ${SD}/value-set not declared as profile`,
  ].sort());
});

test('API v1 checks: any service or message activity fits any service task, send task, message throw or end event; listeners still must be listeners', async () => {
  const retype = (copy: PluginCopy, cls: string) =>
    copy.edit('index.ts', (t) =>
      t
        .replace("import { definePlugin } from '", `import { ${cls}, definePlugin } from '`)
        .replace("'org.test.v1.bpe.service.Greet': Greet,", `'org.test.v1.bpe.service.Greet': class extends ${cls} { ${cls === 'ExecutionListener' ? 'notify' : 'execute'}() {} },`),
    );
  const asSendTask = copyV1();
  retype(asSendTask, 'MessageEndEvent');
  const plugin = await loaded(asSendTask.folder);
  assert.equal(plugin.activities.get('org.test.v1.bpe.service.Greet')!.activityKind, 'MessageEndEvent');

  const v2 = copyV1();
  retype(v2, 'MessageEndEvent');
  v2.edit('index.ts', (t) => t.replace('apiVersion: 1,', 'apiVersion: 2,'));
  assert.ok(
    (await refused(v2)).problems.includes("bpe/greet.bpmn: serviceTask 'Greet': camunda:class 'org.test.v1.bpe.service.Greet' is a MessageEndEvent, a ServiceTask is needed here"),
    'API v2 keeps the kinds apart',
  );

  const listener = copyV1();
  retype(listener, 'ExecutionListener');
  assert.deepEqual((await refused(listener)).problems, ["bpe/greet.bpmn: serviceTask 'Greet': camunda:class 'org.test.v1.bpe.service.Greet' is a ExecutionListener, a ServiceTask is needed here"]);
});

test('an apiVersion other than 1 or 2 refuses the plugin', async () => {
  const copy = copyV1();
  copy.edit('index.ts', (t) => t.replace('apiVersion: 1,', 'apiVersion: 3 as never,'));
  assert.deepEqual((await refused(copy)).problems, ['definition: apiVersion 3 is not 1 or 2']);
});
