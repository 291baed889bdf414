// The data-sharing plugin when parts of the network fail (four sites as child processes, mTLS, real
// PostgreSQL): a DIC whose data repository is down, a DIC the research platform cannot reach, a DMS
// that cannot decrypt what the DICs delivered or cannot store the merged set, a TTP that is down, and
// messages that do not belong to a run (pseudonyms for a run the DIC never executed or from a site that
// is not the TTP, a replayed data set). Each failure must reach the
// researcher's Task well before any timer of the run fires, with a reason that names no patient.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, DocumentReference, Task, TaskOutput } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { syntheticPatients } from '../../src/research-data/synthetic-patients.ts';
import { createCryptoService } from '../../src/bpe/api-services/crypto/crypto-service.ts';
import { FhirHttpError } from '../../src/plugin-api/index.ts';
import { checkDataSet, pseudonymisedDataSet } from '../../plugins/data-sharing/src/data-set.ts';
import { repositoryFailureReason } from '../../plugins/research-common/failure-reason.ts';
import { CriterionError } from '../../plugins/research-common/cohort-selection.ts';
import { OrganizationClients, businessKeyOf, inputOf, messageOf, outputOf, DATA_SHARING as SYSTEM, BPMN_MESSAGE, SITE_STATUS } from './support/data-sharing-tasks.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing');
const ORGANIZATION_SID = 'http://dsf.dev/sid/organization-identifier';
const READ_ACCESS = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
const JSON_TYPE = 'application/vnd.dsf-ts.data-sharing+json';
const RECIPIENT_KEY_SID = 'http://dsf-ts.dev/sid/data-sharing-recipient-key';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/dataSharingRequest', '0.1', 'task-data-sharing-request');
const COMMITTEE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
const PATIENTS = 60;
const CRITERION = 'Patient?gender=female';
/** Every timer of the run (TTP, DMS, HRP) is at least this long: a status that arrives sooner came from the failure itself. */
const TIMERS_S = 120;

let network: TestNetwork;
const clients = new OrganizationClients(() => network);

before(async () => {
  const dic = { DEV_DSF_DATA_SHARING_LINKAGE_KEY: 'test linkage key shared by the DICs' };
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', env: { DEV_DSF_DATA_SHARING_DATA_TIMEOUT: `PT${TIMERS_S}S`, DEV_DSF_DATA_SHARING_RESULT_TIMEOUT: `PT${2 * TIMERS_S}S` } },
      { organization: 'Test_TTP', env: { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: 'test pseudonym key of the TTP', DEV_DSF_DATA_SHARING_LINKAGE_TIMEOUT: `PT${TIMERS_S}S` } },
      { organization: 'Test_DIC_1', dataRepository: { patients: PATIENTS }, env: dic },
      { organization: 'Test_DIC_2', dataRepository: { patients: PATIENTS }, env: dic },
      // A second member with role TTP (FHIR server only): not the TTP of any run here.
      { organization: 'Test_TTP_2', startBpe: false },
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  clients.close();
  await network?.stop();
});

const input = (code: string, value: Record<string, unknown>) => ({ type: { coding: [{ system: SYSTEM, code }] }, ...value });

function siteStatuses(task: Task): Record<string, { status: string; records?: number; error?: string }> {
  return Object.fromEntries(
    outputOf(task, 'site-status').map((o: TaskOutput) => {
      const parts = o.extension?.find((e) => e.url === SITE_STATUS)?.extension ?? [];
      const records = parts.find((p) => p.url === 'records')?.valueInteger;
      const error = parts.find((p) => p.url === 'error-message')?.valueString;
      return [parts.find((p) => p.url === 'organization-identifier')!.valueIdentifier!.value!, { status: o.valueCoding!.code!, ...(records !== undefined ? { records } : {}), ...(error ? { error } : {}) }];
    }),
  );
}

/** DIC 1's records for the TTP and data set for the DMS in run `run`: templates of the messages the tests send in DIC 1's name. */
async function dic1Messages(run: string | undefined): Promise<{ recordsTemplate: Task; dataTemplate: Task }> {
  const from = (site: string, message: string) => nonDraftTasks(site).then((ms) => ms.find((m) => businessKeyOf(m) === run && messageOf(m) === message && m.requester?.identifier?.value === 'Test_DIC_1')!);
  return { recordsTemplate: await from('Test_TTP', 'recordLinkageRecords'), dataTemplate: await from('Test_HRP', 'dataSharingData') };
}

/**
 * An approved request while DIC 1's BPE is stopped, so that the test speaks for DIC 1 in `act` (given the
 * run's business key and DIC 1's correlation key from its execute message); DIC 1's BPE is started again
 * whatever happens.
 */
async function withDic1Stopped(project: string, act: (run: { businessKey: string; correlationKey: string }) => Promise<void>): Promise<{ task: Task; decidedAt: number }> {
  const dic1 = network.site('Test_DIC_1');
  await dic1.bpe.stop();
  try {
    const { task, decidedAt } = await approvedRequest(project);
    const businessKey = businessKeyOf(task)!;
    const execute = await poll('the execute message at DIC 1', async () => (await nonDraftTasks('Test_DIC_1')).find((m) => businessKeyOf(m) === businessKey && messageOf(m) === 'dataSharingExecute'));
    await act({ businessKey, correlationKey: inputOf(execute, 'correlation-key', BPMN_MESSAGE)!.valueString! });
    return { task, decidedAt };
  } finally {
    await dic1.bpe.start();
  }
}

/** Starts a request and approves it; returns the started Task (with its business key) and when the committee answered. */
async function approvedRequest(project: string): Promise<{ task: Task; decidedAt: number }> {
  const hrp = network.site('Test_HRP');
  const inputs = [input('project-identifier', { valueString: project }), input('criterion', { valueString: CRITERION }), input('ttp-identifier', { valueIdentifier: { system: ORGANIZATION_SID, value: 'Test_TTP' } })];
  const started = await hrp.startProcess(REQUEST, { inputs });
  await hrp.answerUserTask({ task: started, questionnaire: COMMITTEE, answers: { approve: true, comment: 'approved' }, timeoutMs: 60_000 });
  return { task: await hrp.fhir.read<Task>('Task', started.id!), decidedAt: Date.now() };
}

const finished = (task: Task) => network.site('Test_HRP').waitForTask(task.id!, ['completed', 'failed'], { timeoutMs: 2 * TIMERS_S * 1000 });
const seconds = (since: number) => (Date.now() - since) / 1000;
const nonDraftTasks = async (site: string) => (await network.site(site).fhir.searchAll<Task>('Task', {})).filter((t) => t.status !== 'draft');

/** Persons of a DIC's repository in the cohort with a permitting consent (what the DIC delivers). */
const selected = (site: string) => [...syntheticPatients({ site, count: PATIENTS })].filter((p) => p.patient.gender === 'female' && p.consentState === 'permit');

/** Nothing about a patient in a reason: no local id, name, birth date or postal code of any generated patient. */
function assertNoPersonalData(text: string) {
  for (const p of [...syntheticPatients({ site: 'Test_DIC_1', count: PATIENTS }), ...syntheticPatients({ site: 'Test_DIC_2', count: PATIENTS })]) {
    assert.ok(!text.includes(p.id) && !text.includes(p.patient.name![0]!.family!) && !text.includes(p.patient.birthDate!), `personal data of ${p.id} in ${text}`);
  }
}

test('the DMS accepts only a collection of pseudonymous Patients with their Conditions and Observations', () => {
  const valid = pseudonymisedDataSet([
    { pseudonym: 'psn-1', patient: { resourceType: 'Patient', gender: 'female', birthDate: '1970-03-04' }, conditions: [{ resourceType: 'Condition', subject: { reference: 'Patient/1' } }], observations: [] },
  ]);
  assert.deepEqual(checkDataSet(JSON.parse(JSON.stringify(valid))), valid);
  checkDataSet({ resourceType: 'Bundle', type: 'collection' });
  const patient = valid.entry![0]!;
  const condition = valid.entry![1]!;
  for (const [what, bad] of [
    ['not a Bundle', { resourceType: 'Patient' }],
    ['a searchset', { ...valid, type: 'searchset' }],
    ['another resource type', { ...valid, entry: [...valid.entry!, { fullUrl: 'urn:uuid:x', resource: { resourceType: 'Organization', name: 'x' } }] }],
    ['a Patient without pseudonym', { ...valid, entry: [{ ...patient, resource: { resourceType: 'Patient' } }, condition] }],
    ['a Condition of no Patient of the set', { ...valid, entry: [patient, { ...condition, resource: { ...condition.resource, subject: { reference: 'Patient/elsewhere' } } }] }],
    ['entries not a list', { ...valid, entry: {} }],
    ['null', null],
  ] as const) assert.throws(() => checkDataSet(bad), Error, what);
});

test('what another site learns of a failed repository step: the kind of failure only', () => {
  assert.equal(repositoryFailureReason({ kind: 'connection', message: 'connect ECONNREFUSED 127.0.0.1:4711' }, 'cohort selection'), 'local data repository not reachable');
  assert.equal(repositoryFailureReason(new FhirHttpError(500, 'GET', 'https://repo.local/fhir/Patient?name=Mustermann'), 'cohort selection'), 'local data repository answered HTTP 500');
  assert.equal(repositoryFailureReason(new CriterionError('parameter _has not allowed'), 'cohort selection'), 'criterion refused: parameter _has not allowed');
  assert.equal(repositoryFailureReason(new Error('Patient Erika Mustermann has no birth date'), 'data set export'), 'data set export failed');
});

let repositoryDownRun: { task: Task; done: Task } | undefined;

/** A copy of a real message with other keys, sender or Binary reference (a new requested Task). */
function messageLike(real: Task, businessKey: string, correlationKey: string, requester?: string, binaryUrl?: string): Task {
  const { id: _id, meta, output: _output, ...copy } = real;
  return {
    ...copy,
    meta: { profile: meta!.profile! },
    status: 'requested',
    authoredOn: new Date().toISOString(),
    ...(requester ? { requester: { type: 'Organization', identifier: { system: ORGANIZATION_SID, value: requester } } } : {}),
    input: copy.input!.map((i) => {
      const code = i.type?.coding?.find((c) => c.system === BPMN_MESSAGE || c.system === SYSTEM)?.code;
      if (code === 'business-key') return { ...i, valueString: businessKey };
      if (code === 'correlation-key') return { ...i, valueString: correlationKey };
      if (binaryUrl && i.valueReference) return { ...i, valueReference: { reference: binaryUrl } };
      return i;
    }),
  };
}

/** A Binary on `owner`'s FHIR server that only `reader` may read (as a site shares data); its absolute URL. */
async function binaryFor(owner: string, reader: string, content: string | Buffer, mediaType = JSON_TYPE): Promise<string> {
  const server = network.site(owner).fhir;
  const context = await server.create<DocumentReference>({
    resourceType: 'DocumentReference',
    meta: { tag: [{ system: READ_ACCESS, code: 'LOCAL' }, { system: READ_ACCESS, code: 'ORGANIZATION', extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization', valueIdentifier: { system: ORGANIZATION_SID, value: reader } }] }] },
    status: 'current',
    content: [{ attachment: { contentType: mediaType } }],
  });
  const binary = await server.createBinary(Buffer.from(content), mediaType, `DocumentReference/${context.id}`);
  return `${network.site(owner).fhirBaseUrl}/Binary/${binary.id}`;
}

/**
 * Sends `message` as `from` to `site`; returns it once handled (completed or failed). The tests send as
 * soon as the run's keys are known, which can be before the receiving site's process waits for the
 * message (the TTP starts its instance only when its BPE takes the research platform's Task, and under
 * load that can come after the DICs' execute messages). A message refused for that alone ("Unable to
 * correlate Task") is sent again, as a real DIC's would have come later; any other outcome is returned.
 */
async function sendWhenAwaited(from: string, site: string, message: Task, timeoutMs = 60_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sent = await clients.as(from, site).create<Task>({ ...message, authoredOn: new Date().toISOString() });
    const handled = await network.site(site).waitForTask(sent.id!, ['failed', 'completed'], { timeoutMs });
    const reason = outputOf(handled, 'error', BPMN_MESSAGE).map((o) => o.valueString).join();
    if (handled.status !== 'failed' || reason !== 'Unable to correlate Task' || Date.now() > deadline) return handled;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function poll<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await f();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a DIC whose data repository is down answers with an error at once: the researcher sees its status error, the other DIC delivers', async (t) => {
  const repository = network.site('Test_DIC_2').dataRepository!.server;
  await repository.stop();
  try {
    const { task, decidedAt } = await approvedRequest('repository-down');
    const done = await finished(task);
    const took = seconds(decidedAt);
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    const statuses = siteStatuses(done);
    assert.deepEqual(statuses.Test_DIC_2, { status: 'error', error: 'local data repository not reachable' });
    assert.deepEqual(statuses.Test_DIC_1, { status: 'delivered', records: selected('Test_DIC_1').length });
    assert.equal(outputOf(done, 'persons')[0]?.valueInteger, selected('Test_DIC_1').length);
    assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
    t.diagnostic(`repository down: researcher's Task completed ${took.toFixed(1)} s after the committee's answer`);
    // The TTP heard of it too (it did not wait for DIC 2's records) and DIC 2 sent no records.
    const atTtp = (await nonDraftTasks('Test_TTP')).filter((t) => businessKeyOf(t) === businessKeyOf(task) && messageOf(t) === 'recordLinkageRecords');
    const fromDic2 = atTtp.find((t) => t.requester?.identifier?.value === 'Test_DIC_2')!;
    assert.equal(inputOf(fromDic2, 'error')?.valueString, 'local data repository not reachable');
    assert.equal(inputOf(fromDic2, 'records'), undefined);
    assertNoPersonalData(JSON.stringify(done.output));
    repositoryDownRun = { task, done };
  } finally {
    await repository.start();
  }
});

test('a replayed dataSharingData at the DMS is refused and does not change the merged set', async () => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const { task, done } = repositoryDownRun;
  const hrp = network.site('Test_HRP');
  const reference = outputOf(done, 'merged-data-set')[0]!.valueReference!.reference!;
  const before = await hrp.fhir.read<Bundle>('Bundle', reference.split('/').pop()!);
  const delivered = (await nonDraftTasks('Test_HRP')).find((t) => businessKeyOf(t) === businessKeyOf(task) && messageOf(t) === 'dataSharingData' && t.requester?.identifier?.value === 'Test_DIC_1')!;
  assert.ok(delivered && inputOf(delivered, 'data-set'), 'DIC 1 delivered a data set in that run');
  const { id: _id, meta, output: _output, ...copy } = delivered;
  const replay = await clients.as('Test_DIC_1', 'Test_HRP').create<Task>({ ...copy, meta: { profile: meta!.profile! }, status: 'requested', authoredOn: new Date().toISOString() });
  const refused = await hrp.waitForTask(replay.id!, ['failed', 'completed'], { timeoutMs: 60_000 });
  assert.equal(refused.status, 'failed', 'no instance of the run waits for DIC 1 any more');
  const after = await hrp.fhir.read<Bundle>('Bundle', before.id!);
  assert.deepEqual(after.entry?.length, before.entry?.length);
  const merged = await hrp.fhir.searchAll<Bundle>('Bundle', { identifier: `http://dsf-ts.dev/sid/data-sharing-merged-data-set|repository-down/${businessKeyOf(task)}` });
  assert.equal(merged.length, 1, 'one merged set for the run');
});

test('pseudonyms for a run the DIC never executed, replayed, or from a site that is not the TTP are refused', async () => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const dic = network.site('Test_DIC_1');
  const real = (await nonDraftTasks('Test_DIC_1')).find((t) => businessKeyOf(t) === businessKeyOf(repositoryDownRun!.task) && messageOf(t) === 'recordLinkagePseudonyms')!;
  assert.ok(real, 'DIC 1 received pseudonyms in that run');
  assert.ok(inputOf(real, 'correlation-key', BPMN_MESSAGE)?.valueString, 'the TTP sends pseudonyms with the DIC\'s correlation key');
  const withKeys = (businessKey: string, correlationKey: string) => messageLike(real, businessKey, correlationKey);
  const dataBefore = (await nonDraftTasks('Test_HRP')).filter((t) => messageOf(t) === 'dataSharingData').length;
  const asTtp = clients.as('Test_TTP', 'Test_DIC_1');
  const correlationKey = inputOf(real, 'correlation-key', BPMN_MESSAGE)!.valueString!;
  for (const [what, task] of [
    ['a run never executed', withKeys(randomUUID(), randomUUID())],
    ['a replay of the run', withKeys(businessKeyOf(real)!, correlationKey)],
  ] as const) {
    const sent = await asTtp.create<Task>(task);
    const refused = await dic.waitForTask(sent.id!, ['failed', 'completed'], { timeoutMs: 60_000 });
    assert.equal(refused.status, 'failed', `${what}: refused`);
  }
  // The role check of the ActivityDefinition: the research platform may not send pseudonyms at all.
  const fromHrp = messageLike(real, businessKeyOf(real)!, correlationKey, 'Test_HRP');
  await assert.rejects(clients.as('Test_HRP', 'Test_DIC_1').create<Task>(fromHrp), (e: Error) => /HTTP 403/.test(e.message) && !/profiles/.test(e.message), 'refused for the requester, not the profile');
  assert.equal((await nonDraftTasks('Test_HRP')).filter((t) => messageOf(t) === 'dataSharingData').length, dataBefore, 'no data set sent because of them');
});

test('a data set the DMS cannot decrypt is reported as an error of that DIC as soon as it arrives, not after the timeout', async (t) => {
  const dics = ['Test_DIC_1', 'Test_DIC_2'].map((o) => network.site(o));
  await Promise.all(dics.map((d) => d.bpe.stop()));
  let decidedAt: number;
  let task: Task;
  try {
    ({ task, decidedAt } = await approvedRequest('undecryptable'));
    // The DMS publishes its key when the merge starts; the DICs (still stopped) will encrypt for another key.
    const hrp = network.site('Test_HRP');
    const deadline = Date.now() + 60_000;
    let published: DocumentReference | undefined;
    while (!published && Date.now() < deadline) {
      published = (await hrp.fhir.searchAll<DocumentReference>('DocumentReference', { identifier: `${RECIPIENT_KEY_SID}|${businessKeyOf(task)}` }))[0];
      if (!published) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(published, 'the DMS published its key');
    const other = await createCryptoService().createKeyPairGeneratorSecp384r1AndInitialize().generateKeyPair();
    const pem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await hrp.fhir.update<DocumentReference>({ ...published, content: [{ attachment: { ...published.content[0]!.attachment, data: Buffer.from(pem).toString('base64') } }] });
  } finally {
    await Promise.all(dics.map((d) => d.bpe.start()));
  }
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), {
    Test_DIC_1: { status: 'error', error: 'data set could not be decrypted' },
    Test_DIC_2: { status: 'error', error: 'data set could not be decrypted' },
  });
  assert.equal(outputOf(done, 'persons')[0]?.valueInteger, 0);
  assert.ok(took < TIMERS_S / 2, `the result came ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
  t.diagnostic(`undecryptable data sets: researcher's Task completed ${took.toFixed(1)} s after the committee's answer (DIC BPEs restarted in between)`);
});

test('records the TTP cannot use: the TTP tells that DIC at once, the DIC tells the DMS, the researcher sees the reason', async (t) => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const { recordsTemplate: template } = await dic1Messages(businessKeyOf(repositoryDownRun.task));
  // DIC 1's BPE is stopped: its records for this run are the test's (not a list), stored on DIC 1's server for the TTP.
  const { task, decidedAt } = await withDic1Stopped('unreadable-records', async ({ businessKey, correlationKey }) => {
    const records = messageLike(template, businessKey, correlationKey, undefined, await binaryFor('Test_DIC_1', 'Test_TTP', '{"not":"a list"}'));
    await sendWhenAwaited('Test_DIC_1', 'Test_TTP', records);
  });
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const statuses = siteStatuses(done);
  assert.deepEqual(statuses.Test_DIC_1, { status: 'error', error: 'TTP: records could not be read at the TTP' });
  assert.deepEqual(statuses.Test_DIC_2, { status: 'delivered', records: selected('Test_DIC_2').length });
  assert.ok(took < TIMERS_S / 2, `the result came ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
  t.diagnostic(`records unusable at the TTP: researcher's Task completed ${took.toFixed(1)} s after the committee's answer (DIC 1's BPE restarted in between)`);
});

test('the DMS cannot store the merged set (one DIC\'s set is refused by its FHIR server): the researcher\'s Task fails with the reason, no merged set is readable', async (t) => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const run = businessKeyOf(repositoryDownRun.task);
  const { recordsTemplate, dataTemplate } = await dic1Messages(run);
  const hrp = network.site('Test_HRP');
  // DIC 1's BPE is stopped: its records (none) and its data set are the test's. The set passes the
  // DMS's checks on arrival (a collection of pseudonymous Patients and Conditions) but a Condition has an
  // element FHIR R4 does not know: the DMS's own FHIR server refuses the merged Bundle.
  const { task, decidedAt } = await withDic1Stopped('unstorable-merge', async ({ businessKey, correlationKey }) => {
    const records = await sendWhenAwaited('Test_DIC_1', 'Test_TTP', messageLike(recordsTemplate, businessKey, correlationKey, undefined, await binaryFor('Test_DIC_1', 'Test_TTP', '[]')));
    assert.equal(records.status, 'completed', 'the TTP took DIC 1\'s (empty) records');
    const published = await poll('the DMS\'s key', async () => (await hrp.fhir.searchAll<DocumentReference>('DocumentReference', { identifier: `${RECIPIENT_KEY_SID}|${businessKey}` }))[0]);
    const publicKey = createPublicKey(Buffer.from(published.content[0]!.attachment.data!, 'base64').toString());
    const set = pseudonymisedDataSet([
      { pseudonym: 'psn-00000000000000000000000000000001', patient: { resourceType: 'Patient', gender: 'female', birthDate: '1970-01-01' }, conditions: [{ resourceType: 'Condition', subject: { reference: 'Patient/1' }, notAnR4Element: true } as never], observations: [] },
    ]);
    assert.deepEqual(checkDataSet(JSON.parse(JSON.stringify(set))), set, 'the set passes the DMS\'s check on arrival');
    const encrypted = createCryptoService().createEcDhKem().encrypt(Buffer.from(JSON.stringify(set)), publicKey);
    const dataSet = await binaryFor('Test_DIC_1', 'Test_HRP', encrypted, 'application/octet-stream');
    const data = await sendWhenAwaited('Test_DIC_1', 'Test_HRP', messageLike(dataTemplate, businessKey, correlationKey, undefined, dataSet));
    assert.equal(data.status, 'completed', 'the DMS took DIC 1\'s data set');
  });
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'failed', JSON.stringify(done.output));
  assert.equal(outputOf(done, 'error', BPMN_MESSAGE)[0]?.valueString, 'data management site: the merged data set could not be stored at the DMS');
  assert.equal(outputOf(done, 'error')[0]?.valueString, 'the merged data set could not be stored at the DMS');
  assert.deepEqual(outputOf(done, 'merged-data-set'), [], 'no merged set named');
  // Which set the DMS's FHIR server refused: that DIC's status says so, the other DIC's set was fine.
  assert.deepEqual(siteStatuses(done), {
    Test_DIC_1: { status: 'error', error: "data set refused by the DMS's FHIR server" },
    Test_DIC_2: { status: 'delivered', records: selected('Test_DIC_2').length },
  });
  assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
  t.diagnostic(`merged set refused at the DMS: researcher's Task failed ${took.toFixed(1)} s after the committee's answer`);
  // Nothing of the run's merge is readable at the DMS: no merged Bundle, and no Bundle holding a pseudonym of the sets.
  const merged = await hrp.fhir.searchAll<Bundle>('Bundle', { identifier: `http://dsf-ts.dev/sid/data-sharing-merged-data-set|unstorable-merge/${businessKeyOf(task)}` });
  assert.deepEqual(merged, [], 'no merged set stored');
  const bundles = await hrp.fhir.searchAll<Bundle>('Bundle', {});
  assert.ok(!JSON.stringify(bundles).includes('psn-00000000000000000000000000000001'), 'no stored Bundle holds a pseudonym of the run');
  assertNoPersonalData(JSON.stringify(done.output));
});

test('a DIC that cannot be reached: the research platform tells the TTP and the DMS at once, the researcher sees it not reachable, the other DIC delivers', async (t) => {
  const dic2 = network.site('Test_DIC_2');
  await dic2.stop();
  try {
    const { task, decidedAt } = await approvedRequest('dic-unreachable');
    const done = await finished(task);
    const took = seconds(decidedAt);
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    const statuses = siteStatuses(done);
    assert.equal(statuses.Test_DIC_2?.status, 'not-reachable');
    assert.deepEqual(statuses.Test_DIC_1, { status: 'delivered', records: selected('Test_DIC_1').length });
    assert.equal(outputOf(done, 'persons')[0]?.valueInteger, selected('Test_DIC_1').length);
    assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by the TTP's or the DMS's timer (${TIMERS_S} s)`);
    t.diagnostic(`DIC 2 not reachable: researcher's Task completed ${took.toFixed(1)} s after the committee's answer`);
    // The TTP and the DMS heard it from the research platform: the kind of failure only, no data.
    for (const [site, message] of [
      ['Test_TTP', 'recordLinkageRecords'],
      ['Test_HRP', 'dataSharingData'],
    ] as const) {
      const told = (await nonDraftTasks(site)).filter((m) => businessKeyOf(m) === businessKeyOf(task) && messageOf(m) === message && m.requester?.identifier?.value === 'Test_HRP');
      // Sent once, after the site's instance waits for DIC 2 (it did from its start message on): taken.
      assert.deepEqual(told.map((m) => m.status), ['completed'], `${site}: the waiting instance took the one ${message} from the research platform`);
      for (const m of told) {
        assert.equal(inputOf(m, 'error')?.valueString, 'not reachable from the research platform');
        assert.equal(inputOf(m, 'records') ?? inputOf(m, 'data-set') ?? inputOf(m, 'record-count'), undefined, 'no data in a notice');
      }
    }
    const report = (await nonDraftTasks('Test_HRP')).find((m) => businessKeyOf(m) === businessKeyOf(task) && messageOf(m) === 'recordLinkageReport')!;
    assert.deepEqual(siteStatuses({ resourceType: 'Task', output: report.input } as Task).Test_DIC_2, { status: 'not-reachable', error: 'not reachable from the research platform' }, 'the TTP reports DIC 2 not reachable');
    assertNoPersonalData(JSON.stringify(done.output));
  } finally {
    await dic2.start();
  }
});

test('a report that reaches the research platform while it still tells the TTP of an unreachable DIC is taken: the run completes with it', async (t) => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const template = (await nonDraftTasks('Test_HRP')).find((m) => businessKeyOf(m) === businessKeyOf(repositoryDownRun!.task) && messageOf(m) === 'recordLinkageReport')!;
  const hrp = network.site('Test_HRP');
  const ttp = network.site('Test_TTP');
  const dic2 = network.site('Test_DIC_2');
  // DIC 2 cannot be reached; the TTP's BPE is stopped, so the research platform's notice for DIC 2 stays
  // untaken while the test, in the TTP's name, sends the report the research platform waits for.
  await dic2.stop();
  await ttp.bpe.stop();
  let ttpStopped = true;
  try {
    const { task, decidedAt } = await approvedRequest('report-while-telling');
    const businessKey = businessKeyOf(task)!;
    const atTtp = (from: string) => nonDraftTasks('Test_TTP').then((ms) => ms.find((m) => businessKeyOf(m) === businessKey && messageOf(m) === 'recordLinkageRecords' && m.requester?.identifier?.value === from));
    const notice = await poll('the research platform\'s notice at the TTP', () => atTtp('Test_HRP'));
    const report = messageLike(template, businessKey, '');
    report.input = report.input!.map((i) => (i.type?.coding?.some((c) => c.system === SYSTEM && c.code === 'persons-at-several-sites') ? { ...i, valueInteger: 5 } : i));
    const sent = await clients.as('Test_TTP', 'Test_HRP').create<Task>(report);
    await hrp.waitForTask(sent.id!, (m) => m.status !== 'requested', { timeoutMs: 60_000 });
    assert.equal((await ttp.fhir.read<Task>('Task', notice.id!)).status, 'requested', 'the notice was not taken yet when the report came');
    await ttp.bpe.start();
    ttpStopped = false;
    const done = await finished(task);
    const took = seconds(decidedAt);
    assert.equal((await hrp.fhir.read<Task>('Task', sent.id!)).status, 'completed', 'the report that came while the notices were sent was taken');
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    assert.equal(outputOf(done, 'persons-at-several-sites')[0]?.valueInteger, 5, 'the researcher sees that report');
    const statuses = siteStatuses(done);
    assert.equal(statuses.Test_DIC_2?.status, 'not-reachable');
    assert.deepEqual(statuses.Test_DIC_1, { status: 'delivered', records: selected('Test_DIC_1').length });
    assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
    t.diagnostic(`report before the TTP took its notice: researcher's Task completed ${took.toFixed(1)} s after the committee's answer (the TTP's BPE restarted in between)`);
    // The restarted TTP's own report came second: nothing waits for a report any more.
    const second = await poll('the restarted TTP\'s report at the research platform, handled', async () =>
      (await nonDraftTasks('Test_HRP')).find((m) => businessKeyOf(m) === businessKey && messageOf(m) === 'recordLinkageReport' && m.id !== sent.id && m.status !== 'requested' && m.status !== 'in-progress'),
    );
    assert.equal(second.status, 'failed');
  } finally {
    if (ttpStopped) await ttp.bpe.start();
    await dic2.start();
  }
});

test('messages for a DIC that the DIC did not send are refused one by one (wrong sender, a notice with data): the run goes on and completes with that DIC\'s data', async (t) => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const run = businessKeyOf(repositoryDownRun.task);
  const { recordsTemplate, dataTemplate } = await dic1Messages(run);
  const hrp = network.site('Test_HRP');
  // DIC 1's BPE is stopped until the foreign messages are refused: the TTP and the DMS wait for DIC 1 meanwhile.
  const refused: { site: string; id: string; reason: string }[] = [];
  const { task, decidedAt } = await withDic1Stopped('foreign-messages', async ({ businessKey, correlationKey }) => {
    await poll('the DMS\'s key (the DMS waits)', async () => (await hrp.fhir.searchAll<DocumentReference>('DocumentReference', { identifier: `${RECIPIENT_KEY_SID}|${businessKey}` }))[0]);
    // DIC 2 sends records in DIC 1's name (its own correlation key is another).
    const wrongSender = await sendWhenAwaited('Test_DIC_2', 'Test_TTP', messageLike(recordsTemplate, businessKey, correlationKey, 'Test_DIC_2', await binaryFor('Test_DIC_2', 'Test_TTP', '[]')));
    refused.push({ site: 'Test_TTP', id: wrongSender.id!, reason: 'refused: not sent by the organisation this message is for' });
    // The research platform's "not reachable" notice for DIC 1, but with a data set.
    const withData = messageLike(dataTemplate, businessKey, correlationKey, 'Test_HRP', await binaryFor('Test_HRP', 'Test_HRP', 'x', 'application/octet-stream'));
    withData.input = [...withData.input!, input('error', { valueString: 'not reachable from the research platform' })];
    const notice = await sendWhenAwaited('Test_HRP', 'Test_HRP', withData);
    refused.push({ site: 'Test_HRP', id: notice.id!, reason: 'refused: a notice that a site is not reachable must carry no data' });
    for (const r of refused) {
      const m = await network.site(r.site).waitForTask(r.id, ['failed', 'completed'], { timeoutMs: 60_000 });
      assert.equal(m.status, 'failed', `${r.site}: refused`);
      assert.deepEqual(outputOf(m, 'error', BPMN_MESSAGE).map((o) => o.valueString), [r.reason], `${r.site}: refused by the waiting instance with the fixed reason`);
    }
  });
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const statuses = siteStatuses(done);
  assert.deepEqual(statuses.Test_DIC_1, { status: 'delivered', records: selected('Test_DIC_1').length }, 'DIC 1\'s genuine data was still taken');
  assert.deepEqual(statuses.Test_DIC_2, { status: 'delivered', records: selected('Test_DIC_2').length });
  assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
  t.diagnostic(`foreign messages refused: researcher's Task completed ${took.toFixed(1)} s after the committee's answer (DIC 1's BPE restarted in between)`);
  for (const r of refused) assert.equal((await network.site(r.site).fhir.read<Task>('Task', r.id)).status, 'failed', 'still failed after the run ended');
});

test('a DIC\'s genuine records after the research platform\'s notice that it is not reachable: refused (no instance waits for them), the run completes with the DIC not-reachable', async (t) => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const run = businessKeyOf(repositoryDownRun.task);
  const { recordsTemplate, dataTemplate } = await dic1Messages(run);
  const hrp = network.site('Test_HRP');
  // As when the HRP's send of dataSharingExecute failed after DIC 1 had it: the notices come first.
  const { task, decidedAt } = await withDic1Stopped('late-after-notice', async ({ businessKey, correlationKey }) => {
    await poll('the DMS\'s key (the DMS waits)', async () => (await hrp.fhir.searchAll<DocumentReference>('DocumentReference', { identifier: `${RECIPIENT_KEY_SID}|${businessKey}` }))[0]);
    const noticeLike = (template: Task) => {
      const m = messageLike(template, businessKey, correlationKey, 'Test_HRP');
      const data = new Set(['records', 'data-set', 'record-count']);
      m.input = [...m.input!.filter((i) => !i.type?.coding?.some((c) => c.system === SYSTEM && data.has(c.code!))), input('error', { valueString: 'not reachable from the research platform' })];
      return m;
    };
    for (const [site, template] of [['Test_TTP', recordsTemplate], ['Test_HRP', dataTemplate]] as const) {
      assert.equal((await sendWhenAwaited('Test_HRP', site, noticeLike(template))).status, 'completed', `${site}: notice taken`);
    }
  });
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const statuses = siteStatuses(done);
  assert.equal(statuses.Test_DIC_1?.status, 'not-reachable');
  assert.deepEqual(statuses.Test_DIC_2, { status: 'delivered', records: selected('Test_DIC_2').length });
  assert.ok(took < TIMERS_S / 2, `the run ended ${took} s after the decision, not by a timer (${TIMERS_S} s)`);
  // DIC 1, restarted, sent its records anyway: refused at the TTP, where nothing waits for them any more.
  const late = await poll('DIC 1\'s records at the TTP, handled', async () =>
    (await nonDraftTasks('Test_TTP')).find((m) => businessKeyOf(m) === businessKeyOf(task) && messageOf(m) === 'recordLinkageRecords' && m.requester?.identifier?.value === 'Test_DIC_1' && m.status !== 'requested' && m.status !== 'in-progress'),
  );
  assert.equal(late.status, 'failed');
  // Nothing waits: the TTP's wait for DIC 1 ended with the notice, or its whole run has ended by now.
  const reason = outputOf(late, 'error', BPMN_MESSAGE).map((o) => o.valueString).join();
  assert.ok(['Unable to correlate Task', "Process with start message-name 'recordLinkageRecords' not found"].includes(reason), reason);
  t.diagnostic(`genuine records after the notice: refused; researcher's Task completed ${took.toFixed(1)} s after the committee's answer`);
});

test('pseudonyms from a TTP that is not the run\'s, even with the run\'s keys, are not used: the DIC reports the refusal to the DMS', async () => {
  assert.ok(repositoryDownRun, 'the repository-down run completed');
  const template = (await nonDraftTasks('Test_DIC_1')).find((t) => businessKeyOf(t) === businessKeyOf(repositoryDownRun!.task) && messageOf(t) === 'recordLinkagePseudonyms')!;
  // The run's TTP takes no messages now: DIC 1 sends its records and waits for pseudonyms.
  await network.site('Test_TTP').bpe.stop();
  const { task } = await approvedRequest('foreign-ttp');
  const businessKey = businessKeyOf(task)!;
  const records = await poll('records of DIC 1 at the TTP', async () =>
    (await nonDraftTasks('Test_TTP')).find((t) => businessKeyOf(t) === businessKey && messageOf(t) === 'recordLinkageRecords' && t.requester?.identifier?.value === 'Test_DIC_1'),
  );
  const correlationKey = inputOf(records, 'correlation-key', BPMN_MESSAGE)!.valueString!;
  // Test_TTP_2 offers its own pseudonyms, readable by DIC 1, as a TTP would.
  const rogue = messageLike(template, businessKey, correlationKey, 'Test_TTP_2', await binaryFor('Test_TTP_2', 'Test_DIC_1', '[]'));
  await clients.as('Test_TTP_2', 'Test_DIC_1').create<Task>(rogue);
  const refusal = await poll('DIC 1\'s answer at the DMS', async () =>
    (await nonDraftTasks('Test_HRP')).find((t) => businessKeyOf(t) === businessKey && messageOf(t) === 'dataSharingData' && t.requester?.identifier?.value === 'Test_DIC_1'),
  );
  assert.equal(inputOf(refusal, 'error')?.valueString, 'pseudonyms not sent by the TTP of the run');
  assert.equal(inputOf(refusal, 'data-set'), undefined, 'no data set built from them');
  // This run stays open (its TTP is stopped); the next test takes the TTP down completely.
});

test('the TTP is down: the researcher\'s Task fails at once with the reason, and neither the DMS nor any DIC was asked', async (t) => {
  const before = { dic1: (await nonDraftTasks('Test_DIC_1')).length, dic2: (await nonDraftTasks('Test_DIC_2')).length };
  await network.site('Test_TTP').stop();
  const { task, decidedAt } = await approvedRequest('ttp-down');
  const done = await finished(task);
  const took = seconds(decidedAt);
  assert.equal(done.status, 'failed', JSON.stringify(done.output));
  const reason = outputOf(done, 'error', BPMN_MESSAGE)[0]?.valueString ?? '';
  assert.match(reason, /^trusted third party Test_TTP not reachable; no DIC was asked for data/);
  assert.ok(took < 30, `failed ${took} s after the decision`);
  t.diagnostic(`TTP down: researcher's Task failed ${took.toFixed(1)} s after the committee's answer`);
  assert.deepEqual({ dic1: (await nonDraftTasks('Test_DIC_1')).length, dic2: (await nonDraftTasks('Test_DIC_2')).length }, before, 'no Task at any DIC');
  const atHrp = (await nonDraftTasks('Test_HRP')).filter((t) => businessKeyOf(t) === businessKeyOf(task));
  assert.deepEqual(atHrp.map(messageOf), ['dataSharingRequest'], 'no merge started at the DMS');
});
