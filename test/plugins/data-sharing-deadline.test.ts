// The data-sharing plugin's waits keep their deadline when a message is refused (four sites as child
// processes, mTLS, real PostgreSQL, short timers so that a timer decides within the test): the TTP waits
// for a DIC that never answers; halfway through, a message in that DIC's name from another DIC is
// refused; the TTP's wait still ends at the deadline set when it began, not a timeout after the refusal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, waitFor, type TestNetwork } from '../../src/testkit/index.ts';
import { OrganizationClients, businessKeyOf, inputOf, messageOf, outputOf, DATA_SHARING as SYSTEM, BPMN_MESSAGE, SITE_STATUS } from './support/data-sharing-tasks.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing');
const ORGANIZATION_SID = 'http://dsf.dev/sid/organization-identifier';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/dataSharingRequest', '0.1', 'task-data-sharing-request');
const COMMITTEE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
/** The TTP's and the DMS's wait for each DIC. */
const WAIT_S = 30;
/** When the foreign message is sent, after the TTP began to wait. */
const REFUSAL_AFTER_S = 15;
/** Time the TTP may take from its timer to its report (timer job, linkage, sends). */
const SLACK_S = 10;

let network: TestNetwork;
const clients = new OrganizationClients(() => network);

before(async () => {
  const dic = { DEV_DSF_DATA_SHARING_LINKAGE_KEY: 'test linkage key shared by the DICs' };
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', env: { DEV_DSF_DATA_SHARING_DATA_TIMEOUT: `PT${WAIT_S}S`, DEV_DSF_DATA_SHARING_RESULT_TIMEOUT: `PT${4 * WAIT_S}S` } },
      { organization: 'Test_TTP', env: { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: 'test pseudonym key of the TTP', DEV_DSF_DATA_SHARING_LINKAGE_TIMEOUT: `PT${WAIT_S}S` } },
      { organization: 'Test_DIC_1', dataRepository: { patients: 20 }, env: dic },
      // Its BPE deploys the plugin, then is stopped: its FHIR server takes the execute message, DIC 2 never answers.
      { organization: 'Test_DIC_2', env: dic },
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  clients.close();
  await network?.stop();
});

const statusOf = (parameters: Task['input'], organization: string) =>
  parameters?.find((p) => p.extension?.find((e) => e.url === SITE_STATUS)?.extension?.some((x) => x.url === 'organization-identifier' && x.valueIdentifier?.value === organization))?.valueCoding?.code;
const found = <T>(what: string, f: () => Promise<T | undefined>) => waitFor(what, f, 60_000);
const ofRun = (site: string, businessKey: string, message: string, from: string) =>
  network.site(site).fhir.searchAll<Task>('Task', {}).then((ms) => ms.find((m) => m.status !== 'draft' && businessKeyOf(m) === businessKey && messageOf(m) === message && m.requester?.identifier?.value === from));

test('a refused message does not push the deadline back: the TTP\'s wait for a silent DIC ends when it was set to at its start', async (t) => {
  const hrp = network.site('Test_HRP');
  await network.site('Test_DIC_2').bpe.stop();
  const inputs = [
    { type: { coding: [{ system: SYSTEM, code: 'project-identifier' }] }, valueString: 'deadline-kept' },
    { type: { coding: [{ system: SYSTEM, code: 'criterion' }] }, valueString: 'Patient?gender=female' },
  ];
  const started = await hrp.startProcess(REQUEST, { inputs });
  await hrp.answerUserTask({ task: started, questionnaire: COMMITTEE, answers: { approve: true, comment: 'approved' }, timeoutMs: 60_000 });
  const businessKey = businessKeyOf(await hrp.fhir.read<Task>('Task', started.id!))!;

  // The TTP's waits begin while it handles the start message, right after setting that Task in-progress.
  const start = await found('the start message taken at the TTP', async () => {
    const s = await ofRun('Test_TTP', businessKey, 'recordLinkageStart', 'Test_HRP');
    return s?.status === 'in-progress' ? s : undefined;
  });
  const waitBegan = Date.parse(start.meta!.lastUpdated!);
  const execute = await found('the execute message at DIC 2', () => ofRun('Test_DIC_2', businessKey, 'dataSharingExecute', 'Test_HRP'));
  const dic2Key = inputOf(execute, 'correlation-key', BPMN_MESSAGE)!.valueString!;
  const dic1Records = await found('DIC 1\'s records at the TTP', () => ofRun('Test_TTP', businessKey, 'recordLinkageRecords', 'Test_DIC_1'));

  // Halfway through the wait, DIC 1 sends records in DIC 2's name (its own records, DIC 2's correlation key).
  await new Promise((r) => setTimeout(r, Math.max(0, waitBegan + REFUSAL_AFTER_S * 1000 - Date.now())));
  const { id: _id, meta, output: _output, ...copy } = dic1Records;
  const foreign = await clients.as('Test_DIC_1', 'Test_TTP').create<Task>({
    ...copy,
    meta: { profile: meta!.profile! },
    status: 'requested',
    authoredOn: new Date().toISOString(),
    input: copy.input!.map((i) => (i.type?.coding?.some((c) => c.system === BPMN_MESSAGE && c.code === 'correlation-key') ? { ...i, valueString: dic2Key } : i)),
  });
  const refused = await network.site('Test_TTP').waitForTask(foreign.id!, ['failed', 'completed'], { timeoutMs: 60_000 });
  const refusedAt = Date.now();
  assert.equal(refused.status, 'failed');
  assert.deepEqual(outputOf(refused, 'error', BPMN_MESSAGE).map((o) => o.valueString), ['refused: not sent by the organisation this message is for']);

  const done = await hrp.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 4 * WAIT_S * 1000 });
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const report = (await ofRun('Test_HRP', businessKey, 'recordLinkageReport', 'Test_TTP'))!;
  assert.equal(statusOf(report.input, 'Test_DIC_2'), 'timeout', 'the TTP gave up on DIC 2 by its timer');
  assert.equal(statusOf(report.input, 'Test_DIC_1'), 'delivered');
  assert.equal(statusOf(done.output, 'Test_DIC_2'), 'timeout');
  const reportedAfter = (Date.parse(report.authoredOn!) - waitBegan) / 1000;
  assert.ok(reportedAfter >= WAIT_S - 1, `the TTP reported ${reportedAfter} s after its wait began, before its deadline (${WAIT_S} s)`);
  assert.ok(reportedAfter < WAIT_S + SLACK_S, `the TTP reported ${reportedAfter} s after its wait began: its deadline moved (a timeout after the refusal would be ${((refusedAt - waitBegan) / 1000 + WAIT_S).toFixed(1)} s)`);
  t.diagnostic(`wait ${WAIT_S} s, message refused after ${((refusedAt - waitBegan) / 1000).toFixed(1)} s, TTP reported after ${reportedAfter.toFixed(1)} s`);
});
