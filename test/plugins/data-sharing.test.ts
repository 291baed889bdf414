// The data-sharing plugin across four sites (FHIR server + BPE each as child processes, mTLS, real
// PostgreSQL): the research platform Test_HRP (roles HRP and DMS) asks, its use-and-access committee
// decides in a user task, two DICs with synthetic data repositories (some persons registered at both, a
// few with typos) take part, the TTP links their Bloom-filter records and hands out keyed pseudonyms, the
// DMS decrypts and merges. Refusal, consent, the boundary of every site and a DIC that is down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Patient, QuestionnaireResponse, Task, TaskOutput } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { loadSyntheticData } from '../../src/research-data/repository-bundles.ts';
import { syntheticPatients, type SyntheticDataOptions, type SyntheticPatient } from '../../src/research-data/synthetic-patients.ts';
import { createCryptoService } from '../../src/bpe/api-services/crypto/crypto-service.ts';
import { encodeRecord, toBase64 } from '../../plugins/data-sharing/src/linkage/bloom-filter-encoding.ts';
import { linkRecords } from '../../plugins/data-sharing/src/linkage/record-linkage.ts';
import { OrganizationClients, outputOf, DATA_SHARING as SYSTEM, SITE_STATUS } from './support/data-sharing-tasks.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing');
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/dataSharingRequest', '0.1', 'task-data-sharing-request');
const JSON_TYPE = 'application/vnd.dsf-ts.data-sharing+json';
const COMMITTEE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
const PATIENTS = 250;
const LINKAGE_KEY = 'test linkage key shared by the DICs';
const CRITERION = 'Patient?gender=female';
/** Persons of DIC 1 also registered at DIC 2 (loaded into DIC 2's repository in before()). */
const SHARED: SyntheticDataOptions = { site: 'Test_DIC_2-shared', count: 50, sharedWith: { site: 'Test_DIC_1', count: PATIENTS, share: 1, errorRate: 0.2 } };

let network: TestNetwork;
const clients = new OrganizationClients(() => network);

before(async () => {
  const dic = { DEV_DSF_DATA_SHARING_LINKAGE_KEY: LINKAGE_KEY };
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', env: { DEV_DSF_DATA_SHARING_DATA_TIMEOUT: 'PT60S', DEV_DSF_DATA_SHARING_RESULT_TIMEOUT: 'PT3M' } },
      { organization: 'Test_TTP', env: { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: 'test pseudonym key of the TTP', DEV_DSF_DATA_SHARING_LINKAGE_TIMEOUT: 'PT30S' } },
      { organization: 'Test_DIC_1', dataRepository: { patients: PATIENTS }, env: dic },
      { organization: 'Test_DIC_2', dataRepository: { patients: PATIENTS }, env: dic },
    ],
    plugins: [PLUGIN],
  });
  const repository = network.site('Test_DIC_2').dataRepository!;
  await loadSyntheticData((bundle) => repository.fhir.postBundle(bundle), SHARED);
});

after(async () => {
  clients.close();
  await network?.stop();
});

const input = (code: string, value: Record<string, unknown>) => ({ type: { coding: [{ system: SYSTEM, code }] }, ...value });

function siteStatuses(task: Task): Record<string, { status: string; records?: number }> {
  return Object.fromEntries(
    outputOf(task, 'site-status').map((o: TaskOutput) => {
      const parts = o.extension?.find((e) => e.url === SITE_STATUS)?.extension ?? [];
      const records = parts.find((p) => p.url === 'records')?.valueInteger;
      return [parts.find((p) => p.url === 'organization-identifier')!.valueIdentifier!.value!, { status: o.valueCoding!.code!, ...(records !== undefined ? { records } : {}) }];
    }),
  );
}

async function request(project: string, approve: boolean, comment: string, criterion = CRITERION): Promise<Task> {
  const hrp = network.site('Test_HRP');
  const started = await hrp.startProcess(REQUEST, { inputs: [input('project-identifier', { valueString: project }), input('criterion', { valueString: criterion })] });
  const answered: QuestionnaireResponse = await hrp.answerUserTask({ task: started, questionnaire: COMMITTEE, answers: { approve, comment }, timeoutMs: 60_000 });
  assert.ok(JSON.stringify(answered.item).includes(`Criteria: ${criterion}`), 'the committee sees the criteria');
  return hrp.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 240_000 });
}

// What the test knows of the generated data: who is in the cohort with a permitting consent, and who is the same person.
const dic1 = [...syntheticPatients({ site: 'Test_DIC_1', count: PATIENTS })];
const dic2 = [...syntheticPatients({ site: 'Test_DIC_2', count: PATIENTS }), ...syntheticPatients(SHARED)];
const selected = (ps: SyntheticPatient[]) => ps.filter((p) => p.patient.gender === 'female' && p.consentState === 'permit');
const fields = (p: SyntheticPatient) => ({ given: p.patient.name![0]!.given!.join(' '), family: p.patient.name![0]!.family, birthDate: p.patient.birthDate, sex: p.patient.gender, postalCode: p.patient.address?.[0]?.postalCode });

const nonDraftTasks = async (site: string) => (await network.site(site).fhir.searchAll<Task>('Task', {})).filter((t) => t.status !== 'draft');

test('the committee refuses: the researcher Task says rejected with the comment, and no DIC or TTP receives anything', async () => {
  const done = await request('refused-project', false, 'no ethics vote');
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.equal(outputOf(done, 'decision')[0]?.valueCoding?.code, 'rejected');
  assert.equal(outputOf(done, 'comment')[0]?.valueString, 'no ethics vote');
  assert.deepEqual(outputOf(done, 'site-status'), []);
  for (const site of ['Test_TTP', 'Test_DIC_1', 'Test_DIC_2']) assert.deepEqual(await nonDraftTasks(site), [], `Tasks at ${site}`);
  assert.equal((await nonDraftTasks('Test_HRP')).length, 1, 'only the request itself at the HRP (no merge started)');
});

let approved: Task;

test('approved: each DIC sends its consenting cohort, the TTP links, the DMS merges one Patient per person', async () => {
  approved = await request('diabetes-2026', true, 'approved with ethics vote 2026-17');
  assert.equal(approved.status, 'completed', JSON.stringify(approved.output));
  assert.equal(outputOf(approved, 'decision')[0]?.valueCoding?.code, 'approved');
  const expected1 = selected(dic1);
  const expected2 = selected(dic2);
  assert.deepEqual(siteStatuses(approved), {
    Test_DIC_1: { status: 'delivered', records: expected1.length },
    Test_DIC_2: { status: 'delivered', records: expected2.length },
  });
  // Ground truth: persons of DIC 1 registered at DIC 2 too, both with a permitting consent.
  const selectedIds1 = new Set(expected1.map((p) => p.id));
  const truePairs = expected2.filter((p) => p.sameAs && selectedIds1.has(p.sameAs)).length;
  assert.ok(truePairs >= 5, `enough shared persons in the test data (${truePairs})`);
  const truePersons = expected1.length + expected2.length - truePairs;
  // The same linkage over the same encodings, here: what the TTP must have found.
  const encoded = [...expected1.map((p) => ({ site: '1', handle: p.id, filter: encodeRecord(fields(p), { key: LINKAGE_KEY }) })), ...expected2.map((p) => ({ site: '2', handle: p.id, filter: encodeRecord(fields(p), { key: LINKAGE_KEY }) }))];
  const linkedPersons = new Set(linkRecords(encoded, 0.8).pseudonyms.values()).size;
  const persons = outputOf(approved, 'persons')[0]?.valueInteger;
  assert.equal(persons, linkedPersons);
  assert.ok(Math.abs(persons! - truePersons) <= Math.max(2, truePairs * 0.2), `persons ${persons}, true ${truePersons}`);
  assert.equal(outputOf(approved, 'persons-at-several-sites')[0]?.valueInteger, expected1.length + expected2.length - linkedPersons);

  // The merged set at the DMS: one Patient per person with pseudonym, sex and birth year only, every Condition and Observation of the consenting patients.
  const reference = outputOf(approved, 'merged-data-set')[0]!.valueReference!.reference!;
  const merged = await network.site('Test_HRP').fhir.read<Bundle>('Bundle', reference.split('/').pop()!);
  const patients = merged.entry!.filter((e) => e.resource?.resourceType === 'Patient').map((e) => e.resource as Patient);
  assert.equal(patients.length, persons);
  for (const p of patients) assert.deepEqual(Object.keys(p).sort(), ['birthDate', 'gender', 'identifier', 'resourceType'].filter((k) => k !== 'gender' || p.gender));
  assert.ok(patients.every((p) => /^\d{4}$/.test(p.birthDate!)), 'birth year only');
  assert.equal(new Set(patients.map((p) => p.identifier![0]!.value)).size, patients.length, 'one Patient per pseudonym');
  const count = (type: string) => merged.entry!.filter((e) => e.resource?.resourceType === type).length;
  const all = [...expected1, ...expected2];
  assert.equal(count('Condition'), all.reduce((n, p) => n + p.conditions.length, 0), 'the consenting patients\' Conditions, no one else\'s');
  assert.equal(count('Observation'), all.reduce((n, p) => n + p.observations.length, 0));
  assert.equal(count('Consent'), 0);
  assert.equal(merged.meta?.tag?.[0]?.code, 'LOCAL');
  const text = JSON.stringify(merged.entry);
  for (const p of [...dic1, ...dic2]) assert.ok(!text.includes(p.id) && !text.includes(`"${p.patient.name![0]!.family}"`), `${p.id} or its name in the merged set`);
  assert.doesNotMatch(text, /"id"|"family"|"given"|postalCode|synthetic-patient-id|Patient\//);
});

test('consent: a patient of the cohort without Consent and one with a deny are in no record the TTP received and not in the merged set', async () => {
  assert.ok(approved, 'the approve test ran');
  const cohort = dic1.filter((p) => p.patient.gender === 'female');
  const none = cohort.find((p) => p.consentState === 'none')!;
  const deny = cohort.find((p) => p.consentState === 'deny')!;
  const permit = cohort.find((p) => p.consentState === 'permit')!;
  assert.ok(none && deny && permit);
  const clk = (p: SyntheticPatient) => toBase64(encodeRecord(fields(p), { key: LINKAGE_KEY }));
  const message = (await nonDraftTasks('Test_TTP')).find((t) => t.input?.some((i) => i.valueString === 'recordLinkageRecords') && t.requester?.identifier?.value === 'Test_DIC_1')!;
  assert.equal(message.input!.find((i) => i.type?.coding?.[0]?.code === 'record-count')?.valueInteger, selected(dic1).length);
  const url = message.input!.find((i) => i.type?.coding?.[0]?.code === 'records')!.valueReference!.reference!;
  const records = JSON.parse((await (await clients.as('Test_TTP', 'Test_DIC_1').readBinary(url.split('/').pop()!, JSON_TYPE)).readAll()).toString()) as { clk: string }[];
  const clks = new Set(records.map((r) => r.clk));
  assert.ok(clks.has(clk(permit)), 'a consenting patient is among the records (the check can see one)');
  assert.ok(!clks.has(clk(none)), 'no Consent: not sent');
  assert.ok(!clks.has(clk(deny)), 'deny: not sent');
  // In the merged set: the Conditions counted in the approve test are exactly the consenting patients'.
});

/** Plain identifiers of every generated patient of both DICs (consenting or not). */
function assertNoIdentifiers(text: string, where: string) {
  for (const p of [...dic1, ...dic2]) {
    assert.ok(!text.includes(p.id), `local patient identifier ${p.id} ${where}`);
    assert.ok(!text.includes(`"${p.patient.birthDate}"`), `a birth date ${where}`);
    const postal = p.patient.address?.[0]?.postalCode;
    if (postal) assert.ok(!text.includes(`"${postal}"`), `a postal code ${where}`);
  }
  assert.doesNotMatch(text, /"family"|"given"|postalCode|synthetic-patient-id|Patient\//, where);
}

test('boundary: the TTP holds only tokens and CLKs; the DMS-bound data is ciphertext only the DMS can decrypt; no plain identifier crosses', async () => {
  assert.ok(approved, 'the approve test ran');
  const ttpTasks = await nonDraftTasks('Test_TTP');
  assertNoIdentifiers(JSON.stringify(ttpTasks), 'at the TTP');
  const recordMessages = ttpTasks.filter((t) => t.input?.some((i) => i.valueString === 'recordLinkageRecords'));
  assert.equal(recordMessages.length, 2);
  for (const t of recordMessages) {
    const url = t.input!.find((i) => i.type?.coding?.[0]?.code === 'records')!.valueReference!.reference!;
    const sender = t.requester!.identifier!.value!;
    const id = url.split('/').pop()!;
    const content = (await clients.as('Test_TTP', sender).readBinary(id, JSON_TYPE)).readAll();
    const records = JSON.parse((await content).toString()) as Record<string, string>[];
    assert.ok(records.length > 0);
    for (const r of records) {
      assert.deepEqual(Object.keys(r).sort(), ['clk', 'token']);
      assert.match(r.token!, /^[0-9a-f]{32}$/);
    }
    assertNoIdentifiers(JSON.stringify(records), `in ${sender}'s records for the TTP`);
    // Only the TTP may read it: the DMS may not.
    await assert.rejects(clients.as('Test_HRP', sender).readBinary(id, JSON_TYPE), /HTTP (403|404)/);
  }

  const hrpTasks = await nonDraftTasks('Test_HRP');
  assertNoIdentifiers(JSON.stringify(hrpTasks), 'at the HRP/DMS');
  const dataMessages = hrpTasks.filter((t) => t.input?.some((i) => i.valueString === 'dataSharingData'));
  assert.equal(dataMessages.length, 2);
  const wrongKey = await createCryptoService().createKeyPairGeneratorSecp384r1AndInitialize().generateKeyPair();
  for (const t of dataMessages) {
    const url = t.input!.find((i) => i.type?.coding?.[0]?.code === 'data-set')!.valueReference!.reference!;
    const sender = t.requester!.identifier!.value!;
    const id = url.split('/').pop()!;
    const ciphertext = await (await clients.as('Test_HRP', sender).readBinary(id, 'application/octet-stream')).readAll();
    assert.throws(() => JSON.parse(ciphertext.toString()), 'not JSON');
    assert.doesNotMatch(ciphertext.toString('latin1'), /resourceType|Patient|Condition/);
    assert.throws(() => createCryptoService().createEcDhKem().decrypt(ciphertext, wrongKey.privateKey), /DecryptionError|decrypt/i);
    await assert.rejects(clients.as('Test_TTP', sender).readBinary(id, 'application/octet-stream'), /HTTP (403|404)/);
  }
  // The DICs received only the request (criteria, project, purpose, TTP and DMS) and token -> pseudonym pairs.
  for (const dic of ['Test_DIC_1', 'Test_DIC_2']) {
    const tasks = await nonDraftTasks(dic);
    const pseudonyms = tasks.find((t) => t.input?.some((i) => i.valueString === 'recordLinkagePseudonyms'))!;
    const url = pseudonyms.input!.find((i) => i.type?.coding?.[0]?.code === 'pseudonyms')!.valueReference!.reference!;
    const pairs = JSON.parse((await (await clients.as(dic, 'Test_TTP').readBinary(url.split('/').pop()!, JSON_TYPE)).readAll()).toString()) as Record<string, string>[];
    for (const p of pairs) assert.deepEqual(Object.keys(p).sort(), ['pseudonym', 'token']);
    const other = dic === 'Test_DIC_1' ? 'Test_DIC_2' : 'Test_DIC_1';
    await assert.rejects(clients.as(other, 'Test_TTP').readBinary(url.split('/').pop()!, JSON_TYPE), /HTTP (403|404)/, 'a DIC cannot read another DIC\'s pseudonyms');
  }
});

test('a cohort nobody is in: every DIC reported as no-consenting-patients, an empty merged set', async () => {
  const done = await request('empty-cohort', true, 'approved', 'Patient?birthdate=lt1800-01-01');
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteStatuses(done), { Test_DIC_1: { status: 'no-consenting-patients', records: 0 }, Test_DIC_2: { status: 'no-consenting-patients', records: 0 } });
  assert.equal(outputOf(done, 'persons')[0]?.valueInteger, 0);
});

test('a DIC that is down is reported as not reachable; the other delivers', async () => {
  await network.site('Test_DIC_2').stop();
  const done = await request('down-site', true, 'approved');
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const statuses = siteStatuses(done);
  assert.equal(statuses.Test_DIC_2?.status, 'not-reachable');
  assert.deepEqual(statuses.Test_DIC_1, { status: 'delivered', records: selected(dic1).length });
  assert.equal(outputOf(done, 'persons')[0]?.valueInteger, selected(dic1).length);
});
