// Loading process plugins: the test plugin loads with its placeholders resolved; each of the
// reference's checks refuses a plugin, naming plugin, file and rule; a bad plugin does not stop the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, loadPlugins, type LoadContext, type PluginRefusal } from '../../../src/bpe/plugins/plugin-loader.ts';
import type { LoadedPlugin } from '../../../src/bpe/plugins/loaded-plugin.ts';
import { copyTestPlugin, FIXTURE_PLUGIN, type PluginCopy } from './plugin-fixture.ts';

const ctx: LoadContext = { organizationIdentifier: 'test-organization.test', env: { TEST_PLUGIN_GREETING: 'Hello from the environment' } };

async function refusal(change: (copy: PluginCopy) => void, context = ctx): Promise<PluginRefusal> {
  const copy = copyTestPlugin();
  change(copy);
  const outcome = await loadPlugin(copy.folder, context);
  assert.ok('problems' in outcome, 'the plugin should have been refused');
  assert.equal(outcome.plugin, 'test-plugin-1.0.0.0');
  return outcome;
}

test('the test plugin loads: six processes, their FHIR resources, placeholders resolved', async () => {
  const outcome = await loadPlugin(FIXTURE_PLUGIN, ctx);
  assert.ok(!('problems' in outcome), 'problems' in outcome ? outcome.problems.join('\n') : '');
  const plugin = outcome as LoadedPlugin;
  assert.equal(plugin.name, 'test-plugin');
  assert.equal(plugin.resourceVersion, '1.0');
  assert.equal(plugin.draft, false);
  assert.deepEqual(plugin.processes.map((p) => `${p.processId}|${p.version}`), [
    'testorg_hello|1.0',
    'testorg_wait|1.0',
    'testorg_send|1.0',
    'testorg_receive|1.0',
    'testorg_user|1.0',
    'testorg_errors|1.0',
  ]);
  const hello = plugin.processes[0]!;
  assert.match(hello.xml, /<camunda:string>Hello from the environment<\/camunda:string>/);
  assert.doesNotMatch(hello.xml, /#\{/);
  const helloResources = plugin.resources.get('testorg_hello')!;
  const draftTask = helloResources.find((r) => r.resource.resourceType === 'Task')!.resource as any;
  assert.equal(draftTask.requester.identifier.value, 'test-organization.test');
  assert.equal(draftTask.authoredOn, '2025-01-15T00:00:00+00:00');
  assert.equal(draftTask.instantiatesCanonical, 'http://test.org/bpe/Process/hello|1.0');
  const codeSystem = helloResources.find((r) => r.file.endsWith('.xml'))!.resource as any;
  assert.equal(codeSystem.resourceType, 'CodeSystem', 'XML resources are read too');
  assert.equal(codeSystem.version, '1.0');
});

test('a placeholder without a value refuses the plugin', async () => {
  const r = await refusal(() => {}, { ...ctx, env: {} });
  assert.deepEqual(r.problems, ['bpe/hello.bpmn: placeholder #{test.plugin.greeting} (environment variable TEST_PLUGIN_GREETING not set) cannot be resolved']);
  const noOrg = await refusal(() => {}, { ...ctx, organizationIdentifier: undefined });
  assert.ok(noOrg.problems.includes('fhir/Task-hello.json: placeholder #{organization} (the local organization identifier is unknown) cannot be resolved'), noOrg.problems.join('\n'));
});

test('each BPMN rule refuses the plugin, naming file and rule', async () => {
  const cases: Array<[string, (c: PluginCopy) => void, RegExp]> = [
    ['two processes', (c) => c.edit('bpe/hello.bpmn', (t) => t.replace('</bpmn:definitions>', '<bpmn:process id="testorg_other" isExecutable="true" camunda:versionTag="1.0"><bpmn:startEvent id="x" /></bpmn:process></bpmn:definitions>')), /^bpe\/hello\.bpmn: contains 2 processes, expected 1$/],
    ['process id', (c) => c.edit('bpe/hello.bpmn', (t) => t.replace('id="testorg_hello"', 'id="hello"')), /^bpe\/hello\.bpmn: process id 'hello' does not match domainNoDots_name/],
    ['version tag', (c) => c.edit('bpe/hello.bpmn', (t) => t.replace('camunda:versionTag="#{version}"', 'camunda:versionTag="2.0"')), /^bpe\/hello\.bpmn: process testorg_hello: camunda:versionTag '2\.0' does not match the plugin's resource version '1\.0'$/],
    ['unmapped class', (c) => c.edit('bpe/hello.bpmn', (t) => t.replace('org.test.bpe.Hello', 'org.test.bpe.Unknown')), /^bpe\/hello\.bpmn: serviceTask 'Hello': camunda:class 'org\.test\.bpe\.Unknown' is not mapped/],
    ['class of the wrong kind', (c) => c.edit('index.ts', (t) => t.replace("'org.test.bpe.SendPing': a.SendPing", "'org.test.bpe.SendPing': a.Hello")), /^bpe\/send\.bpmn: intermediateThrowEvent 'SendPing': camunda:class 'org\.test\.bpe\.SendPing' is a ServiceTask, a MessageIntermediateThrowEvent is needed here$/],
    ['missing send field', (c) => c.edit('bpe/receive.bpmn', (t) => t.replace(/<camunda:field name="messageName">[\s\S]*?<\/camunda:field>/, '')), /^bpe\/receive\.bpmn: endEvent 'SendPong': mandatory camunda:field messageName missing$/],
  ];
  for (const [name, change, expected] of cases) {
    const r = await refusal(change);
    assert.ok(r.problems.some((p) => expected.test(p)), `${name}: ${r.problems.join(' | ')}`);
  }
});

test('each FHIR resource rule refuses the plugin, naming file and rule', async () => {
  const json = (c: PluginCopy, file: string, change: (r: any) => void) =>
    c.edit(file, (t) => {
      const r = JSON.parse(t);
      change(r);
      return JSON.stringify(r);
    });
  const cases: Array<[string, (c: PluginCopy) => void, RegExp]> = [
    ['unparseable', (c) => c.write('fhir/Questionnaire-approve.json', '{ not json'), /^fhir\/Questionnaire-approve\.json: not parseable: Malformed JSON/],
    ['unknown element', (c) => json(c, 'fhir/Questionnaire-approve.json', (r) => (r.colour = 'blue')), /^fhir\/Questionnaire-approve\.json: not a valid FHIR resource: .*colour/],
    ['type not allowed', (c) => c.write('fhir/Questionnaire-approve.json', JSON.stringify({ resourceType: 'Patient' })), /^fhir\/Questionnaire-approve\.json: Patient is not allowed/],
    ['version', (c) => json(c, 'fhir/ActivityDefinition-user.json', (r) => (r.version = '0.9')), /^fhir\/ActivityDefinition-user\.json: ActivityDefinition\.version not equal to 1\.0 but 0\.9$/],
    ['url missing', (c) => json(c, 'fhir/Questionnaire-approve.json', (r) => delete r.url), /^fhir\/Questionnaire-approve\.json: Questionnaire\.url empty$/],
    ['profile', (c) => json(c, 'fhir/Questionnaire-approve.json', (r) => (r.meta.profile = ['http://example.org/fhir/StructureDefinition/other'])), /^fhir\/Questionnaire-approve\.json: http:\/\/dsf\.dev\/fhir\/StructureDefinition\/questionnaire not declared as profile$/],
    ['required', (c) => json(c, 'fhir/Questionnaire-approve.json', (r) => delete r.item[2].required), /^fhir\/Questionnaire-approve\.json: Questionnaire has items without the required property$/],
    ['AD url form', (c) => json(c, 'fhir/ActivityDefinition-user.json', (r) => (r.url = 'http://test.org/Process/user')), /^fhir\/ActivityDefinition-user\.json: ActivityDefinition\.url 'http:\/\/test\.org\/Process\/user' does not match/],
    ['AD of another process', (c) => json(c, 'fhir/ActivityDefinition-user.json', (r) => (r.url = 'http://test.org/bpe/Process/other')), /^fhir\/ActivityDefinition-user\.json: ActivityDefinition\.url 'http:\/\/test\.org\/bpe\/Process\/other' does not match process id 'testorg_user'$/],
    ['task-base', (c) => json(c, 'fhir/StructureDefinition-task-test.json', (r) => (r.baseDefinition = 'http://dsf.dev/fhir/StructureDefinition/task-base')), /StructureDefinition\.baseDefinition http:\/\/dsf\.dev\/fhir\/StructureDefinition\/task-base not allowed$/],
    ['draft Task status', (c) => json(c, 'fhir/Task-hello.json', (r) => (r.status = 'requested')), /^fhir\/Task-hello\.json: Task\.status not 'draft'$/],
    ['draft Task requester', (c) => json(c, 'fhir/Task-hello.json', (r) => (r.requester.identifier.value = 'someone.else')), /^fhir\/Task-hello\.json: Task\.requester\.identifier\.value not 'test-organization\.test'$/],
    ['draft Task of another process', (c) => json(c, 'fhir/Task-hello.json', (r) => (r.instantiatesCanonical = 'http://test.org/bpe/Process/wait|1.0')), /^fhir\/Task-hello\.json: Task\.instantiatesCanonical 'http:\/\/test\.org\/bpe\/Process\/wait\|1\.0' does not match process id 'testorg_hello'$/],
    ['version of definition', (c) => c.edit('index.ts', (t) => t.replace("releaseDate: '2025-01-15'", "releaseDate: 'soon'")), /^definition: release date 'soon' is not a date yyyy-mm-dd$/],
  ];
  for (const [name, change, expected] of cases) {
    const r = await refusal(change);
    assert.ok(r.problems.some((p) => expected.test(p)), `${name}: ${r.problems.join(' | ')}`);
  }
});

test('a bad plugin is reported and skipped; the others load', async () => {
  const good = copyTestPlugin('a-good');
  const bad = copyTestPlugin('b-bad', good.directory);
  bad.edit('index.ts', (t) => t.replace("name: 'test-plugin'", "name: 'other-plugin'").replace("version: '1.0.0.0'", "version: '2.0.0.0'"));
  bad.edit('bpe/hello.bpmn', (t) => t.replace('org.test.bpe.Hello', 'org.test.bpe.Missing'));
  const result = await loadPlugins([good.directory], ctx);
  assert.deepEqual(result.plugins.map((p) => p.name), ['test-plugin']);
  assert.equal(result.refused.length, 1);
  assert.equal(result.refused[0]!.plugin, 'other-plugin-2.0.0.0');
  assert.equal(result.refused[0]!.folder, bad.folder);
});

test('a plugin in plain JavaScript (.mjs) loads too', async () => {
  const copy = copyTestPlugin('js-plugin');
  const api = JSON.stringify(new URL('../../../src/plugin-api/index.ts', import.meta.url).href);
  copy.write(
    'index.mjs',
    `import { definePlugin, ServiceTask } from ${api};
class Hello extends ServiceTask { execute() {} }
export default definePlugin({
  name: 'js-plugin', version: '1.0.0.0', releaseDate: '2025-01-15',
  processModels: ['bpe/hello.bpmn'],
  fhirResources: { testorg_hello: ['fhir/ActivityDefinition-hello.json', 'fhir/StructureDefinition-task-test.json'] },
  activities: { 'org.test.bpe.Hello': Hello },
});
`,
  );
  rmSync(join(copy.folder, 'index.ts'));
  const outcome = await loadPlugin(copy.folder, ctx);
  assert.ok(!('problems' in outcome), 'problems' in outcome ? outcome.problems.join('\n') : '');
  assert.equal((outcome as LoadedPlugin).name, 'js-plugin');
  assert.deepEqual((outcome as LoadedPlugin).processes.map((p) => p.processId), ['testorg_hello']);
});
