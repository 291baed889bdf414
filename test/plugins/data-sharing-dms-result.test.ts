// The DMS's dataSharingMergeResult on its way to the research platform (HRP), with the DMS a site of its
// own: the HRP's FHIR server down for a while when the DMS sends → the DMS sends again later (only a
// request that did not leave) and the run completes with one result; the result never coming (the DMS's
// BPE stopped after its run began) → when the HRP's wait ends the researcher's Task fails saying that no
// result came from the DMS, and no DIC is called `timeout` for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { waitFor } from '../../src/common/polling.ts';
import { outputOf, DATA_SHARING as SYSTEM, BPMN_MESSAGE, SITE_STATUS } from './support/data-sharing-tasks.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing');
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/dataSharingRequest', '0.1', 'task-data-sharing-request');
const COMMITTEE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
const DICS = ['Test_DIC_1', 'Test_DIC_2'];
/**
 * The HRP's wait for the TTP's report and the DMS's result: room for test (a) on a busy machine (100 s ran
 * out once in CI on a slower host, with DIC 2's BPE held back and the HRP down inside the wait); test (b)
 * waits all of it.
 */
const RESULT_WAIT_MS = 150_000;

let network: TestNetwork;

before(async () => {
  const dic = { DEV_DSF_DATA_SHARING_LINKAGE_KEY: 'test linkage key shared by the DICs' };
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', roles: ['HRP'], env: { DEV_DSF_DATA_SHARING_RESULT_TIMEOUT: `PT${RESULT_WAIT_MS / 1000}S` } },
      // The DMS's result goes out again until the HRP's FHIR server is back; its restart on a loaded CI host
      // outlasted five tries with doubling waits (31 s), so its tries, like the TTP's, cover about 80 s.
      { organization: 'Test_DMS', roles: ['DMS'], env: { DEV_DSF_DATA_SHARING_DATA_TIMEOUT: 'PT75S', DEV_DSF_DATA_SHARING_RESULT_RETRY: 'PT1S,PT2S,PT4S' + ',PT8S'.repeat(9) } },
      // The TTP's report fails from the moment it is sent until the DMS's result failed too (the HRP is down
      // all that time), which on a loaded machine took longer than five tries with doubling waits (31 s):
      // its tries cover about 80 s, no wait longer than 8 s, so the report still beats the HRP's timer.
      { organization: 'Test_TTP', env: { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: 'test pseudonym key of the TTP', DEV_DSF_DATA_SHARING_LINKAGE_TIMEOUT: 'PT60S', DEV_DSF_DATA_SHARING_RESULT_RETRY: 'PT1S,PT2S,PT4S' + ',PT8S'.repeat(9) } },
      ...DICS.map((organization) => ({ organization, dataRepository: { patients: 30 }, env: dic })),
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  await network?.stop();
});

const input = (code: string, value: Omit<TaskInput, 'type'>): TaskInput => ({ type: { coding: [{ system: SYSTEM, code }] }, ...value });
const bpmnInput = (t: Task, code: string) => t.input?.find((i) => i.type?.coding?.some((c) => c.system === BPMN_MESSAGE && c.code === code))?.valueString;
const nonDraftTasks = async (site: string) => (await network.site(site).fhir.searchAll<Task>('Task', {})).filter((t) => t.status !== 'draft');
const messagesOfRun = async (site: string, businessKey: string, message: string) =>
  (await nonDraftTasks(site)).filter((t) => bpmnInput(t, 'business-key') === businessKey && bpmnInput(t, 'message-name') === message);

function siteStatuses(task: Task): Record<string, { status: string; error?: string }> {
  return Object.fromEntries(
    outputOf(task, 'site-status').map((o: TaskOutput) => {
      const parts = o.extension?.find((e) => e.url === SITE_STATUS)?.extension ?? [];
      const error = parts.find((p) => p.url === 'error-message')?.valueString;
      return [parts.find((p) => p.url === 'organization-identifier')!.valueIdentifier!.value!, { status: o.valueCoding!.code!, ...(error ? { error } : {}) }];
    }),
  );
}

/** Starts a request for the separate DMS and approves it; the started Task with its business key. */
async function approvedRun(project: string): Promise<{ started: Task; businessKey: string }> {
  const hrp = network.site('Test_HRP');
  const dms = input('dms-identifier', { valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'Test_DMS' } });
  const started = await hrp.startProcess(REQUEST, { inputs: [input('project-identifier', { valueString: project }), input('criterion', { valueString: 'Patient?gender=female' }), dms] });
  await hrp.answerUserTask({ task: started, questionnaire: COMMITTEE, answers: { approve: true, comment: 'approved' }, timeoutMs: 60_000 });
  const businessKey = bpmnInput(await hrp.fhir.read<Task>('Task', started.id!), 'business-key')!;
  return { started, businessKey };
}

test("the HRP's FHIR server is down when the DMS sends its result: the DMS sends it again once the HRP is back, one result Task, the run completes", async () => {
  const hrp = network.site('Test_HRP');
  const dic2 = network.site('Test_DIC_2');
  const dms = network.site('Test_DMS');
  // DIC 2's BPE holds the run back (the TTP and the DMS wait for it) until the HRP's FHIR server is down.
  await dic2.bpe.stop();
  let run: { started: Task; businessKey: string };
  try {
    run = await approvedRun('result-retried');
    await waitFor('the execute message at DIC 2', async () => (await messagesOfRun('Test_DIC_2', run.businessKey, 'dataSharingExecute')).length > 0, 60_000);
    const logged = dms.bpe.log.length;
    await hrp.fhirServer.stop();
    try {
      await dic2.bpe.start();
      // The DMS merged and tried to send: its send failed before the request left.
      await waitFor('a failed result send at the DMS', () => dms.bpe.log.slice(logged).some((l) => l.includes(`result for ${run.businessKey} not delivered to Test_HRP`)), 60_000, 200);
    } finally {
      await hrp.fhirServer.start();
    }
  } finally {
    if (!dic2.bpe.running) await dic2.bpe.start();
  }
  const done = await hrp.waitForTask(run.started.id!, ['completed', 'failed'], { timeoutMs: RESULT_WAIT_MS * 2 });
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), { Test_DIC_1: { status: 'delivered' }, Test_DIC_2: { status: 'delivered' } });
  assert.ok(outputOf(done, 'merged-data-set')[0]?.valueReference?.reference?.startsWith(`${dms.fhirBaseUrl}/Bundle/`), JSON.stringify(done.output));
  assert.equal((await messagesOfRun('Test_HRP', run.businessKey, 'dataSharingMergeResult')).length, 1, 'one result Task at the HRP');
  // The TTP's report, sent while the HRP was down too, arrived the same way.
  assert.ok(network.site('Test_TTP').bpe.log.some((l) => l.includes(`report for ${run.businessKey} not delivered to Test_HRP`)), 'the TTP sent its report again');
  assert.ok(outputOf(done, 'persons-at-several-sites').length === 1, JSON.stringify(done.output));
  assert.equal((await messagesOfRun('Test_HRP', run.businessKey, 'recordLinkageReport')).length, 1, 'one report Task at the HRP');
});

test("no result from the DMS (its BPE stopped after its run began): when the HRP's wait ends the Task fails naming the DMS, no DIC is reported timeout", async () => {
  const hrp = network.site('Test_HRP');
  const dms = network.site('Test_DMS');
  let run: { started: Task; businessKey: string } | undefined;
  try {
    run = await approvedRun('no-result');
    const { businessKey } = run;
    await waitFor('the DMS taking its start message', async () => (await messagesOfRun('Test_DMS', businessKey, 'dataSharingMergeStart')).some((t) => t.status !== 'requested'), 60_000);
    await dms.bpe.stop();
    const done = await hrp.waitForTask(run.started.id!, ['completed', 'failed'], { timeoutMs: RESULT_WAIT_MS * 2 });
    assert.equal(done.status, 'failed', JSON.stringify(done.output));
    assert.deepEqual(outputOf(done, 'error').map((o) => o.valueString), ['no result from the DMS Test_DMS']);
    const statuses = siteStatuses(done);
    assert.deepEqual(Object.keys(statuses).sort(), DICS);
    for (const dic of DICS) assert.deepEqual(statuses[dic], { status: 'unknown', error: 'no result from the DMS Test_DMS' }, dic);
    assert.equal(outputOf(done, 'merged-data-set').length, 0);
    // What the HRP does know stays: the TTP's report arrived.
    assert.equal(outputOf(done, 'persons-at-several-sites').length, 1, JSON.stringify(done.output));
  } finally {
    if (!dms.bpe.running) await dms.bpe.start();
  }
});
