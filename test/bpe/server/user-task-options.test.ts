// The default user task listener's options (as the reference's field injections): practitioner
// roles and practitioners go into the questionnaire-authorization extension, a start-Task output
// references the created QuestionnaireResponse (written at once through the start Task updater);
// only an authorised user may answer; once answered the response is amended and the process goes on.
// And the start Task updater on its own: add, find, modify, remove outputs, each written at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { StartTaskUpdaterImpl } from '../../../src/bpe/plugins/start-task-updater.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger, requestedTask, TEST_SYSTEM } from './bpe-support.ts';
import { copyTestPlugin } from './plugin-fixture.ts';

const PLUGIN_API = fileURLToPath(new URL('../../../src/plugin-api/index.ts', import.meta.url));

let site: TestSite;
let db: TestDatabase;
let bpe: RunningBpe;
const ORG = 'test-organization.test';
const AUTHORIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization';

before(async () => {
  site = await startTestSite({
    roleConfig: `
- practitioner:
    email: practitioner@test.org
    dsf-role: [{ READ: [QuestionnaireResponse, Questionnaire, Task] }, { SEARCH: [QuestionnaireResponse] }, { UPDATE: [QuestionnaireResponse] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
- minimal:
    email: minimal@test.org
    dsf-role: [{ READ: [QuestionnaireResponse] }, { UPDATE: [QuestionnaireResponse] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|UAC_USER]
`,
  });
  const plugin = copyTestPlugin();
  // The reference's DefaultUserTaskListener, named in the BPMN, with all its options.
  plugin.edit('bpe/user.bpmn', (xml) =>
    xml.replace(
      '<camunda:taskListener class="org.test.bpe.ApproveListener" event="create" />',
      `<camunda:taskListener class="dev.dsf.bpe.v2.activity.DefaultUserTaskListener" event="create">
          <camunda:field name="practitionerRole"><camunda:string>DIC_USER</camunda:string></camunda:field>
          <camunda:field name="practitioners"><camunda:expression>\${approvers}</camunda:expression></camunda:field>
          <camunda:field name="taskOutputSystem"><camunda:string>${TEST_SYSTEM}</camunda:string></camunda:field>
          <camunda:field name="taskOutputCode"><camunda:string>answer</camunda:string></camunda:field>
          <camunda:field name="taskOutputVersion"><camunda:string>#{version}</camunda:string></camunda:field>
        </camunda:taskListener>`,
    ),
  );
  // The practitioners come from a string list variable a start listener sets.
  plugin.edit('bpe/user.bpmn', (xml) =>
    xml.replace('<bpmn:startEvent id="StartUser">', '<bpmn:startEvent id="StartUser">\n      <bpmn:extensionElements><camunda:executionListener class="org.test.bpe.Approvers" event="end" /></bpmn:extensionElements>'),
  );
  plugin.edit('index.ts', (ts) =>
    ts
      .replace("'org.test.bpe.Fail': a.Fail,", "'org.test.bpe.Fail': a.Fail,\n    'org.test.bpe.Approvers': Approvers,")
      .replace(
        "import * as a from './activities.ts';",
        "import * as a from './activities.ts';\nimport { ExecutionListener } from '" + PLUGIN_API + "';\nclass Approvers extends ExecutionListener {\n  notify(_api: unknown, variables: any) {\n    variables.setStringList('approvers', ['practitioner@test.org', 'http://dsf.dev/sid/practitioner-identifier|someone@test.org']);\n  }\n}",
      ),
  );
  db = await createTestDatabase('dsf_bpe_user_options');
  bpe = await startBpeServer(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: plugin.directory }), { pool: db.pool, logger: recordingLogger().logger, jobPollIntervalMs: 50 });
  assert.deepEqual(bpe.deployment.refused, []);
  await bpe.connected();
});
after(async () => {
  await bpe.stop();
  await db.drop();
  await site.stop();
});

test('default user task listener: authorization extension, start-Task output referencing the response; an authorised user answers; amended', async () => {
  const id = (await site.client.create(requestedTask({ process: 'user', message: 'user', requester: ORG, recipient: ORG, businessKey: 'bk-options' }))).id;
  const qr = await waitFor('QuestionnaireResponse in progress', async () => {
    const r = await site.client.get('/QuestionnaireResponse?status=in-progress');
    return r.json.entry?.find((e: any) => e.resource.item?.some((i: any) => i.linkId === 'business-key' && i.answer?.[0]?.valueString === 'bk-options'))?.resource;
  }, 20_000);
  const authorization = qr.extension.find((e: any) => e.url === AUTHORIZATION);
  assert.deepEqual(
    authorization.extension.map((e: any) => e.valueCoding ?? e.valueIdentifier),
    [
      { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'practitioner@test.org' },
      { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'someone@test.org' },
      { system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: 'DIC_USER' },
    ],
  );
  const task: Task = await waitFor('start Task output referencing the response', async () => {
    const t = (await site.client.get(`/Task/${id}`)).json as Task;
    return t.output?.some((o) => o.valueReference?.reference === `QuestionnaireResponse/${qr.id}`) ? t : undefined;
  }, 20_000);
  assert.equal(task.status, 'in-progress');
  assert.deepEqual(task.output![0]!.type!.coding, [{ system: TEST_SYSTEM, code: 'answer', version: '1.0' }]);

  const answered = { ...qr, status: 'completed', authored: new Date().toISOString(), item: qr.item.map((i: any) => (i.linkId === 'approve' ? { ...i, answer: [{ valueBoolean: true }] } : i)) };
  const asPractitioner = (email: string) => ({ ...answered, author: { type: 'Practitioner', identifier: { system: 'http://dsf.dev/sid/practitioner-identifier', value: email } } });
  const refused = await site.clientFor('minimal').put(`/QuestionnaireResponse/${qr.id}`, asPractitioner('minimal@test.org'));
  assert.equal(refused.status, 403, 'a user neither named nor in the role may not answer');
  const accepted = await site.clientFor('practitioner').put(`/QuestionnaireResponse/${qr.id}`, asPractitioner('practitioner@test.org'));
  assert.equal(accepted.status, 200, accepted.body);

  const done = await waitFor('Task completed', async () => {
    const t = (await site.client.get(`/Task/${id}`)).json as Task;
    return t.status === 'completed' ? t : undefined;
  }, 20_000);
  assert.ok(done.output!.some((o) => o.valueReference?.reference === `QuestionnaireResponse/${qr.id}`), 'the output stays');
  assert.equal((await site.client.get(`/QuestionnaireResponse/${qr.id}`)).json.status, 'amended');
});

test('start Task updater: outputs added, found, modified and removed, each written to the FHIR server at once', async () => {
  // An in-progress Task: the start Task of a process waiting in its user task.
  const id = (await site.client.create(requestedTask({ process: 'user', message: 'user', requester: ORG, recipient: ORG, businessKey: 'bk-updater' }))).id;
  let current: Task = await waitFor('start Task output of the user task', async () => {
    const t = (await site.client.get(`/Task/${id}`)).json as Task;
    return t.status === 'in-progress' && t.output?.length ? t : undefined;
  }, 20_000);
  const version = Number(current.meta!.versionId);
  const updater = new StartTaskUpdaterImpl(bpe.core.clients.getLocal(), () => current, (t) => (current = t));
  const type = { system: TEST_SYSTEM, code: 'answer', version: '1.0' };
  await updater.addOutput(TEST_SYSTEM, 'answer', '1.0', { valueString: 'first' });
  assert.equal(current.meta?.versionId, String(version + 1));
  assert.equal(current.output?.length, 2);
  assert.equal(updater.getOutput({ system: TEST_SYSTEM, code: 'answer', version: '1.0' })?.valueReference?.reference?.split('/')[0], 'QuestionnaireResponse', 'the first output of the type');
  assert.ok(updater.hasOutput(type));
  assert.equal(updater.hasOutput({ ...type, version: '9.9' }), false);
  await updater.modifyOutput(type, { valueString: 'second' });
  const stored = (await site.client.get(`/Task/${id}`)).json as Task;
  assert.equal(stored.meta?.versionId, String(version + 2));
  assert.deepEqual(stored.output![0], { type: { coding: [type] }, valueString: 'second' });
  await updater.removeOutput(TEST_SYSTEM, 'answer', '1.0');
  assert.equal(((await site.client.get(`/Task/${id}`)).json as Task).output, undefined, 'every output of the type removed');
  assert.throws(() => updater.modifyOutput(type, { valueString: 'x' }), RangeError);
  assert.throws(() => updater.removeOutput(type), /not found/);
  assert.throws(() => updater.addOutput(TEST_SYSTEM, ' ', '1.0', { valueString: 'x' }), /outputTypeCode is blank/);
  assert.throws(() => updater.addOutput({ system: TEST_SYSTEM, code: 'answer' }, { valueString: 'x' }), /outputType.version missing/);
});
