// Tasks drive processes: a Task starts a process, one correlates with a waiting instance, one that
// matches nothing fails with the reason, a failing process fails its Task, a BPMN error is caught.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger, requestedTask, BPMN_MESSAGE, TEST_SYSTEM } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';

let site: TestSite;
let db: TestDatabase;
let bpe: RunningBpe;
const ORG = 'test-organization.test';

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_tasks');
  bpe = await startBpeServer(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: dirname(FIXTURE_PLUGIN) }), {
    pool: db.pool,
    logger: recordingLogger().logger,
    jobPollIntervalMs: 50,
  });
  await bpe.connected();
});
after(async () => {
  await bpe.stop();
  await db.drop();
  await site.stop();
});

async function create(task: object): Promise<string> {
  return (await site.client.create(task as never)).id;
}

async function settled(id: string, statuses = ['completed', 'failed']): Promise<any> {
  return waitFor(`Task ${id} in ${statuses.join('/')}`, async () => {
    const t = (await site.client.get(`/Task/${id}`)).json;
    return statuses.includes(t.status) ? t : undefined;
  }, 20_000);
}

const output = (task: any, system: string, code: string): string | undefined =>
  task.output?.find((o: any) => o.type.coding.some((c: any) => c.system === system && c.code === code))?.valueString;
const input = (task: any, code: string): string | undefined => task.input?.find((i: any) => i.type.coding.some((c: any) => c.code === code))?.valueString;

test('a Task starts a process: business key added, Task completed with the outputs the process set', async () => {
  const id = await create(requestedTask({ process: 'hello', message: 'hello', requester: ORG, recipient: ORG }));
  const task = await settled(id);
  assert.equal(task.status, 'completed');
  assert.equal(output(task, TEST_SYSTEM, 'greeting'), 'Hello from the environment');
  const businessKey = input(task, 'business-key');
  assert.match(businessKey ?? '', /^[0-9a-f-]{36}$/);
  const instance = await waitFor('instance committed', async () => (await bpe.core.engine.listInstances({ businessKey }))[0], 20_000);
  assert.equal(instance.definitionKey, 'testorg_hello');
  assert.equal(instance.state, 'completed');
  await waitFor('Task recorded as handled', async () => (await db.pool.query('SELECT state FROM bpe_handled_resource WHERE id = $1', [id])).rows[0].state === 'started', 20_000);
});

test('a second Task correlates with the waiting instance by business key; both complete', async () => {
  const startId = await create(requestedTask({ process: 'wait', message: 'start', requester: ORG, recipient: ORG, businessKey: 'bk-wait-1' }));
  await waitFor('instance waiting', async () => (await bpe.core.engine.listInstances({ businessKey: 'bk-wait-1', state: 'active' })).length === 1, 20_000);
  assert.equal((await site.client.get(`/Task/${startId}`)).json.status, 'in-progress');
  const continueId = await create(requestedTask({ process: 'wait', message: 'continue', requester: ORG, recipient: ORG, businessKey: 'bk-wait-1' }));
  const start = await settled(startId);
  const cont = await settled(continueId);
  assert.equal(start.status, 'completed');
  assert.equal(cont.status, 'completed');
  assert.equal(output(start, TEST_SYSTEM, 'record'), `BeforeWait:${startId} listener:AfterWait AfterWait:${continueId}`);
  await waitFor('continue Task recorded', async () => (await db.pool.query('SELECT state FROM bpe_handled_resource WHERE id = $1', [continueId])).rows[0].state === 'correlated', 20_000);
});

test('a Task that matches nothing fails with the reason as error output', async () => {
  const noStart = await create(requestedTask({ process: 'wait', message: 'continue', requester: ORG, recipient: ORG, businessKey: 'bk-nothing' }));
  const failed = await settled(noStart);
  assert.equal(failed.status, 'failed');
  assert.equal(output(failed, BPMN_MESSAGE, 'error'), "Process with start message-name 'continue' not found");

  const startId = await create(requestedTask({ process: 'wait', message: 'start', requester: ORG, recipient: ORG, businessKey: 'bk-wait-2' }));
  await waitFor('instance waiting', async () => (await bpe.core.engine.listInstances({ businessKey: 'bk-wait-2', state: 'active' })).length === 1, 20_000);
  const wrongKey = await create(requestedTask({ process: 'wait', message: 'continue', requester: ORG, recipient: ORG, businessKey: 'bk-wait-2', correlationKey: 'no-such-key' }));
  const uncorrelated = await settled(wrongKey);
  assert.equal(uncorrelated.status, 'failed');
  assert.equal(output(uncorrelated, BPMN_MESSAGE, 'error'), 'Unable to correlate Task');
  assert.equal((await site.client.get(`/Task/${startId}`)).json.status, 'in-progress', 'the waiting instance is untouched');
});

test('a process that fails fails its Task (default error handler) and stops; a BPMN error is caught by its boundary event', async () => {
  const failing = await create(requestedTask({ process: 'errors', message: 'fail', requester: ORG, recipient: ORG, businessKey: 'bk-fail', inputs: { mode: 'exception' } }));
  const failed = await settled(failing);
  assert.equal(failed.status, 'failed');
  assert.match(output(failed, BPMN_MESSAGE, 'error') ?? '', /^Process testorg_errors:\d+:[0-9a-f-]+ has fatal error in step [0-9a-f-]+, reason: failed on purpose \(exception\)$/);
  assert.deepEqual((await bpe.core.engine.listInstances({ businessKey: 'bk-fail', state: 'active' })).length, 0);

  const caught = await create(requestedTask({ process: 'errors', message: 'fail', requester: ORG, recipient: ORG, businessKey: 'bk-caught', inputs: { mode: 'bpmn-error' } }));
  const done = await settled(caught);
  assert.equal(done.status, 'completed');
  assert.equal(output(done, TEST_SYSTEM, 'caught'), 'test-error');
});

test('a user task: QuestionnaireResponse created from the formKey Questionnaire (adapted by the listener), answered, the process goes on', async () => {
  const id = await create(requestedTask({ process: 'user', message: 'user', requester: ORG, recipient: ORG, businessKey: 'bk-user' }));
  const qr = await waitFor('QuestionnaireResponse in progress', async () => {
    const r = await site.client.get('/QuestionnaireResponse?status=in-progress');
    return r.json.entry?.find((e: any) => e.resource.item?.some((i: any) => i.linkId === 'business-key' && i.answer?.[0]?.valueString === 'bk-user'))?.resource;
  }, 20_000);
  assert.equal(qr.questionnaire, 'http://test.org/fhir/Questionnaire/approve|1.0');
  assert.deepEqual(qr.item.map((i: any) => i.linkId), ['business-key', 'user-task-id', 'approve']);
  // The response is created inside the transaction that creates the user task: wait for its commit.
  const userTask = await waitFor('user task committed', async () => (await bpe.core.engine.listUserTasks({ definitionKey: 'testorg_user' }))[0], 20_000);
  assert.equal(qr.item[1].answer[0].valueString, userTask!.id);
  assert.equal(qr.item[2].text, 'Approve bk-user?', 'the user task listener adapted the response before it was created');
  assert.equal((await site.client.get(`/Task/${id}`)).json.status, 'in-progress');

  qr.status = 'completed';
  qr.authored = new Date().toISOString();
  qr.author = { type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: ORG } };
  qr.item[2].answer = [{ valueBoolean: true }];
  const put = await site.client.put(`/QuestionnaireResponse/${qr.id}`, qr);
  assert.equal(put.status, 200, put.body);

  const task = await settled(id);
  assert.equal(task.status, 'completed');
  assert.equal(output(task, TEST_SYSTEM, 'answer'), 'true');
  assert.equal((await site.client.get(`/QuestionnaireResponse/${qr.id}`)).json.status, 'amended');
  // The Task is completed inside the engine transaction that also finishes the claim: wait for its commit.
  await waitFor('response recorded as handled', async () => (await db.pool.query('SELECT state FROM bpe_handled_resource WHERE id = $1', [qr.id])).rows[0].state === 'completed', 20_000);
});
