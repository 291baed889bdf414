// The data-sharing plugin with the data management site (DMS) as a site of its own, as in a real
// deployment: Test_HRP (role HRP only) asks, Test_DMS (role DMS only) publishes the run's key, receives
// the DICs' encrypted sets and merges them, Test_TTP links, two DICs deliver. The merged set stays at the
// DMS; the research platform that started the run may read it there, the TTP and the DICs may not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Patient, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { syntheticPatients, type SyntheticPatient } from '../../src/research-data/synthetic-patients.ts';
import { OrganizationClients, businessKeyOf, outputOf, DATA_SHARING as SYSTEM, SITE_STATUS } from './support/data-sharing-tasks.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing');
const READ_ACCESS = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
const RECIPIENT_KEY = 'http://dsf-ts.dev/sid/data-sharing-recipient-key';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/dataSharingRequest', '0.1', 'task-data-sharing-request');
const COMMITTEE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
const PATIENTS = 40;
const DICS = ['Test_DIC_1', 'Test_DIC_2'];

let network: TestNetwork;
const clients = new OrganizationClients(() => network);

before(async () => {
  const dic = { DEV_DSF_DATA_SHARING_LINKAGE_KEY: 'test linkage key shared by the DICs' };
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', roles: ['HRP'], env: { DEV_DSF_DATA_SHARING_RESULT_TIMEOUT: 'PT2M' } },
      { organization: 'Test_DMS', roles: ['DMS'], env: { DEV_DSF_DATA_SHARING_DATA_TIMEOUT: 'PT60S' } },
      { organization: 'Test_TTP', env: { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: 'test pseudonym key of the TTP', DEV_DSF_DATA_SHARING_LINKAGE_TIMEOUT: 'PT30S' } },
      ...DICS.map((organization) => ({ organization, dataRepository: { patients: PATIENTS }, env: dic })),
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  clients.close();
  await network?.stop();
});

const input = (code: string, value: Omit<TaskInput, 'type'>): TaskInput => ({ type: { coding: [{ system: SYSTEM, code }] }, ...value });
const dmsIdentifier = input('dms-identifier', { valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'Test_DMS' } });

function siteStatuses(task: Task): Record<string, string> {
  return Object.fromEntries(
    outputOf(task, 'site-status').map((o: TaskOutput) => {
      const parts = o.extension?.find((e) => e.url === SITE_STATUS)?.extension ?? [];
      return [parts.find((p) => p.url === 'organization-identifier')!.valueIdentifier!.value!, o.valueCoding!.code!];
    }),
  );
}

async function approvedRun(project: string, extra: TaskInput[]): Promise<Task> {
  const hrp = network.site('Test_HRP');
  const started = await hrp.startProcess(REQUEST, { inputs: [input('project-identifier', { valueString: project }), input('criterion', { valueString: 'Patient?gender=female' }), ...extra] });
  await hrp.answerUserTask({ task: started, questionnaire: COMMITTEE, answers: { approve: true, comment: 'approved' }, timeoutMs: 60_000 });
  return hrp.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 240_000 });
}

const consenting = (site: string) => [...syntheticPatients({ site, count: PATIENTS })].filter((p: SyntheticPatient) => p.patient.gender === 'female' && p.consentState === 'permit');
const nonDraftTasks = async (site: string) => (await network.site(site).fhir.searchAll<Task>('Task', {})).filter((t) => t.status !== 'draft');
const messagesNamed = (tasks: Task[], message: string) => tasks.filter((t) => t.input?.some((i) => i.valueString === message));

let firstMergedSet: string | undefined;

test('a separate DMS merges and delivers: the researcher gets the merged set at the DMS, which the HRP may read and the TTP and DICs may not', async () => {
  const done = await approvedRun('separate-dms', [dmsIdentifier]);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), { Test_DIC_1: 'delivered', Test_DIC_2: 'delivered' });
  const reference = outputOf(done, 'merged-data-set')[0]?.valueReference?.reference;
  assert.ok(reference, JSON.stringify(done.output));
  const dmsBase = network.site('Test_DMS').fhirBaseUrl;
  assert.ok(reference.startsWith(`${dmsBase}/Bundle/`), `${reference} is at the DMS (${dmsBase})`);
  const id = reference.split('/').pop()!;
  firstMergedSet = reference;

  // The organisation that started the run reads the merged set at the DMS with its own certificate.
  const merged = await clients.as('Test_HRP', 'Test_DMS').read<Bundle>('Bundle', id);
  const patients = merged.entry!.filter((e) => e.resource?.resourceType === 'Patient') as { resource: Patient }[];
  assert.equal(patients.length, outputOf(done, 'persons')[0]?.valueInteger);
  const expected = consenting('Test_DIC_1').length + consenting('Test_DIC_2').length;
  assert.ok(patients.length > 0 && patients.length <= expected, `${patients.length} persons of ${expected} records`);
  const tags = merged.meta?.tag?.filter((t) => t.system === READ_ACCESS) ?? [];
  assert.deepEqual(tags.map((t) => t.code).sort(), ['LOCAL', 'ORGANIZATION']);
  assert.equal(tags.find((t) => t.code === 'ORGANIZATION')?.extension?.[0]?.valueIdentifier?.value, 'Test_HRP');

  // Nobody else: neither the TTP nor a DIC (not found for them, or refused).
  for (const other of ['Test_TTP', ...DICS]) await assert.rejects(clients.as(other, 'Test_DMS').read<Bundle>('Bundle', id), /HTTP (403|404)/, `${other} reads the merged set`);

  // The DICs' data went to the DMS only, encrypted to the key the DMS published; the HRP got no data set and
  // cannot read the DICs' sets, only the DMS's result.
  const keys = await network.site('Test_DMS').fhir.searchAll('DocumentReference', { identifier: `${RECIPIENT_KEY}|` });
  assert.equal(keys.length, 1, 'the run key is published at the DMS');
  assert.deepEqual(await network.site('Test_HRP').fhir.searchAll('DocumentReference', { identifier: `${RECIPIENT_KEY}|` }), []);
  const dataMessages = messagesNamed(await nonDraftTasks('Test_DMS'), 'dataSharingData');
  assert.equal(dataMessages.length, DICS.length);
  for (const t of dataMessages) {
    const url = t.input!.find((i) => i.type?.coding?.[0]?.code === 'data-set')!.valueReference!.reference!;
    const sender = t.requester!.identifier!.value!;
    await assert.rejects(clients.as('Test_HRP', sender).readBinary(url.split('/').pop()!, 'application/octet-stream'), /HTTP (403|404)/, `the HRP reads ${sender}'s data set`);
  }
  const atHrp = await nonDraftTasks('Test_HRP');
  assert.deepEqual(messagesNamed(atHrp, 'dataSharingData'), []);
  assert.equal(messagesNamed(atHrp, 'dataSharingMergeResult').length, 1);
  assert.equal(messagesNamed(atHrp, 'dataSharingMergeResult')[0]!.requester?.identifier?.value, 'Test_DMS');
});

test("without a dms-identifier the run goes to the consortium's only DMS", async () => {
  const done = await approvedRun('default-dms', []);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), { Test_DIC_1: 'delivered', Test_DIC_2: 'delivered' });
  const reference = outputOf(done, 'merged-data-set')[0]?.valueReference?.reference;
  assert.ok(reference?.startsWith(`${network.site('Test_DMS').fhirBaseUrl}/Bundle/`), reference);
  assert.notEqual(reference, firstMergedSet, "this run's own merged set");
  assert.ok(outputOf(done, 'persons')[0]!.valueInteger! > 0);
});

test('a dms-identifier naming a site without the DMS role: the Task fails before anything is sent', async () => {
  const before = await Promise.all(['Test_TTP', 'Test_DMS', ...DICS].map(async (site) => (await nonDraftTasks(site)).length));
  const notDms = input('dms-identifier', { valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'Test_DIC_1' } });
  const done = await approvedRun('not-a-dms', [notDms]);
  assert.equal(done.status, 'failed', JSON.stringify(done.output));
  assert.match(JSON.stringify(done.output), /Test_DIC_1 is not a DMS of Test_Consortium/);
  const after = await Promise.all(['Test_TTP', 'Test_DMS', ...DICS].map(async (site) => (await nonDraftTasks(site)).length));
  assert.deepEqual(after, before, 'no site received a message');
});

test('a DIC that is down: the HRP tells the separate DMS, which reports it not reachable instead of waiting for its timer', async () => {
  await network.site('Test_DIC_2').stop();
  const done = await approvedRun('separate-dms-down-site', [dmsIdentifier]);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), { Test_DIC_1: 'delivered', Test_DIC_2: 'not-reachable' });
  // The DMS's own result names the DIC not reachable: it took the HRP's notice (a timeout would say timeout).
  const result = messagesNamed(await nonDraftTasks('Test_HRP'), 'dataSharingMergeResult').find((t) => businessKeyOf(t) === businessKeyOf(done));
  assert.ok(result, 'the DMS result of this run');
  const atDms = Object.fromEntries(
    (result.input ?? [])
      .filter((i) => i.type?.coding?.some((c) => c.system === SYSTEM && c.code === 'site-status'))
      .map((i) => [i.extension?.find((e) => e.url === SITE_STATUS)?.extension?.find((p) => p.url === 'organization-identifier')?.valueIdentifier?.value, i.valueCoding?.code]),
  );
  assert.deepEqual(atDms, { Test_DIC_1: 'delivered', Test_DIC_2: 'not-reachable' });
});
