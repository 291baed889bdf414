// An API v1 plugin on a site (FHIR server + BPE over TLS): its resources are stored converted (and pass
// the FHIR server's validation against the DSF 2 profiles), its BPMN runs unchanged: a Task starts
// greet and completes with the greeting; approve waits in a user task (v1 default listener), is answered
// and completes with the decision.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivityDefinition, NamingSystem, Questionnaire, QuestionnaireResponse, StructureDefinition, Task } from '@medplum/fhirtypes';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { draftTaskIdentifier, requestedTaskFrom } from '../../../src/plugin-api/draft-tasks.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger } from './bpe-support.ts';
import { copyTestPlugin, V1_FIXTURE_PLUGIN } from './plugin-fixture.ts';

const SD = 'http://dsf.dev/fhir/StructureDefinition';
const GREET_SYSTEM = 'http://v1.test.org/fhir/CodeSystem/greet';

let site: TestSite;
let db: TestDatabase;
let bpe: RunningBpe;

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_api_v1');
  const plugin = copyTestPlugin('v1-plugin', undefined, V1_FIXTURE_PLUGIN);
  bpe = await startBpeServer(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: plugin.directory }), { pool: db.pool, logger: recordingLogger().logger, jobPollIntervalMs: 50 });
  await bpe.connected();
});
after(async () => {
  await bpe?.stop();
  await db?.drop();
  await site?.stop();
});

async function one<T>(type: string, query: string): Promise<T> {
  const r = await site.client.get(`/${type}?${query}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.entry?.length, 1, `one ${type}?${query}`);
  return r.json.entry[0].resource as T;
}

const url = (u: string) => `url=${encodeURIComponent(u)}&version=1.2`;

test('deployed: both processes active, every resource stored converted with status active', async () => {
  assert.deepEqual(bpe.deployment.refused, []);
  assert.deepEqual(bpe.deployment.states.map((s) => `${s.processId}|${s.version} ${s.newState}`).sort(), ['v1testorg_approve|1.2 ACTIVE', 'v1testorg_greet|1.2 ACTIVE']);

  const greet = await one<ActivityDefinition>('ActivityDefinition', url('http://v1.test.org/bpe/Process/greet'));
  assert.deepEqual(greet.meta?.profile, [`${SD}/activity-definition`]);
  assert.equal(greet.status, 'active');
  const approve = await one<ActivityDefinition>('ActivityDefinition', url('http://v1.test.org/bpe/Process/approve'));
  assert.deepEqual(approve.meta?.profile, [`${SD}/activity-definition`]);
  assert.deepEqual((await one<any>('CodeSystem', url(GREET_SYSTEM))).meta.profile, [`${SD}/code-system`]);
  assert.deepEqual((await one<any>('ValueSet', url('http://v1.test.org/fhir/ValueSet/greet'))).meta.profile, [`${SD}/value-set`]);
  const namingSystem = await one<NamingSystem>('NamingSystem', 'name=V1_Test_Greeting_Identifier');
  assert.deepEqual(namingSystem.meta?.profile, [`${SD}/naming-system`]);

  for (const name of ['task-greet', 'task-approve']) {
    const sd = await one<StructureDefinition>('StructureDefinition', url(`http://v1.test.org/fhir/StructureDefinition/${name}`));
    assert.equal(sd.baseDefinition, `${SD}/task`, name);
    assert.deepEqual(sd.meta?.profile, [`${SD}/structure-definition`]);
  }
  const taskApprove = await one<StructureDefinition>('StructureDefinition', url('http://v1.test.org/fhir/StructureDefinition/task-approve'));
  assert.equal(taskApprove.differential!.element!.find((e) => e.id === 'Task.input:message-name.type')!.binding!.valueSet, 'http://dsf.dev/fhir/CodeSystem/bpmn-message');

  const questionnaire = await one<Questionnaire>('Questionnaire', url('http://v1.test.org/fhir/Questionnaire/approve'));
  assert.deepEqual(questionnaire.meta?.profile, [`${SD}/questionnaire`]);
  assert.deepEqual(questionnaire.item!.map((i) => i.required), [true, true, undefined, false, true]);

  const draft = await one<Task>('Task', `identifier=${encodeURIComponent(`http://dsf.dev/sid/task-identifier|${draftTaskIdentifier('http://v1.test.org/bpe/Process/greet', '1.2', 'task-greet')}`)}`);
  assert.equal(draft.status, 'draft');
  assert.deepEqual(draft.meta?.profile, ['http://v1.test.org/fhir/StructureDefinition/task-greet|1.2']);
});

async function startFromDraft(name: string, inputs: Task['input'] = []): Promise<string> {
  const draft = await one<Task>('Task', `identifier=${encodeURIComponent(`http://dsf.dev/sid/task-identifier|${draftTaskIdentifier(`http://v1.test.org/bpe/Process/${name}`, '1.2', `task-${name}`)}`)}`);
  const created = await site.client.post('/Task', requestedTaskFrom(draft, inputs));
  assert.equal(created.status, 201, created.body);
  return created.json.id;
}

async function finished(id: string): Promise<Task> {
  return waitFor(`Task ${id} completed or failed`, async () => {
    const t = (await site.client.get(`/Task/${id}`)).json as Task;
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, 20_000);
}

test('greet: a Task validated against the converted task-base profile starts the process; it completes with the greeting', async () => {
  const id = await startFromDraft('greet', [{ type: { coding: [{ system: GREET_SYSTEM, code: 'name' }] }, valueString: 'v1 world' }]);
  const done = await finished(id);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(
    done.output!.map((o) => [o.type.coding![0]!.code, o.valueString]),
    [['greeting', 'Hello v1 world']],
  );
});

test('the converted Task profile refuses what it forbids (a correlation-key input) with 422, nothing stored', async () => {
  const before = (await site.client.get('/Task?_summary=count')).json.total;
  const draft = await one<Task>('Task', `identifier=${encodeURIComponent(`http://dsf.dev/sid/task-identifier|${draftTaskIdentifier('http://v1.test.org/bpe/Process/greet', '1.2', 'task-greet')}`)}`);
  const bad = requestedTaskFrom(draft, [{ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'correlation-key' }] }, valueString: 'not allowed' }]);
  const r = await site.client.post('/Task', bad);
  assert.equal(r.status, 422, r.body);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.ok(r.json.issue.some((i: any) => i.severity === 'error' && /correlation-key/.test(`${i.diagnostics} ${i.expression?.join(' ')}`)), r.body);
  assert.equal((await site.client.get('/Task?_summary=count')).json.total, before);
});

test('approve: the v1 default user task listener asks through the converted Questionnaire; the answer completes the process', async () => {
  const id = await startFromDraft('approve');
  const running = await waitFor('business key', async () => {
    const t = (await site.client.get(`/Task/${id}`)).json as Task;
    return t.status === 'in-progress' ? t : undefined;
  }, 20_000);
  const businessKey = running.input!.find((i) => i.type.coding?.[0]?.code === 'business-key')!.valueString;
  const qr: QuestionnaireResponse = await waitFor('QuestionnaireResponse in progress', async () => {
    const r = await site.client.get('/QuestionnaireResponse?status=in-progress');
    const responses: QuestionnaireResponse[] = (r.json.entry ?? []).map((e: { resource: QuestionnaireResponse }) => e.resource);
    return responses.find((q) => q.item?.some((i) => i.linkId === 'business-key' && i.answer?.[0]?.valueString === businessKey));
  }, 20_000);
  assert.equal(qr.questionnaire, 'http://v1.test.org/fhir/Questionnaire/approve|1.2');
  const answered: QuestionnaireResponse = {
    ...qr,
    status: 'completed',
    authored: new Date().toISOString(),
    item: qr.item!.map((i) => (i.linkId === 'approved' ? { ...i, answer: [{ valueBoolean: true }] } : i.linkId === 'comment' ? { ...i, answer: [{ valueString: 'fine' }] } : i)),
  };
  const put = await site.client.put(`/QuestionnaireResponse/${qr.id}`, answered);
  assert.equal(put.status, 200, put.body);
  const done = await finished(id);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(
    done.output!.map((o) => [o.type.coding![0]!.code, o.valueBoolean]),
    [['decision', true]],
  );
});
