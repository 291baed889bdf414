// The feasibility plugin when things go wrong, across three sites (FHIR server + BPE each as child
// processes, mTLS, real PostgreSQL): a DIC whose data repository is down answers with an error result
// at once (no hang, no 500 at the research platform); two requests at once each get their own results;
// criteria that reach beyond the counted type are refused before anything is sent; a result Task
// replayed by a DIC does not change the total.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, waitFor, type TestNetwork } from '../../src/testkit/index.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { HttpFhirClient } from '../../src/bpe/client/http-fhir-client.ts';
import { syntheticPatients } from '../../src/research-data/synthetic-patients.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/feasibility');
const SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility';
const SITE_RESULT = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-feasibility-site-result';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/feasibilityRequest', '0.1', 'task-feasibility-request');
const PATIENTS = 60;
/** Long enough that an answer that is not a timeout is told apart from one. */
const TIMEOUT_SECONDS = 120;
const DICS = ['Test_DIC_1', 'Test_DIC_2'];
// Exact counts (threshold 1, rounding 1): each answer is checkable against the generated patients.
const EXACT = { DEV_DSF_FEASIBILITY_THRESHOLD: '1', DEV_DSF_FEASIBILITY_ROUNDING: '1' };

let network: TestNetwork;
const closers: (() => void)[] = [];

before(async () => {
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', env: { DEV_DSF_FEASIBILITY_TIMEOUT: `PT${TIMEOUT_SECONDS}S` } },
      ...DICS.map((organization) => ({ organization, dataRepository: { patients: PATIENTS }, env: EXACT })),
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  for (const close of closers) close();
  await network?.stop();
});

interface SiteResult {
  organization: string;
  status: string;
  count?: number;
  errorMessage?: string;
}

function siteResults(task: Task): SiteResult[] {
  return (task.output ?? [])
    .filter((o) => o.type?.coding?.some((c) => c.system === SYSTEM && c.code === 'site-result'))
    .map((o) => {
      const parts = o.extension?.find((e) => e.url === SITE_RESULT)?.extension ?? [];
      const part = (url: string) => parts.find((p) => p.url === url);
      const r: SiteResult = { organization: part('organization-identifier')!.valueIdentifier!.value!, status: o.valueCoding!.code! };
      if (part('count')) r.count = part('count')!.valueInteger!;
      if (part('error-message')) r.errorMessage = part('error-message')!.valueString!;
      return r;
    });
}

const total = (task: Task) => task.output?.find((o) => o.type?.coding?.some((c) => c.code === 'total'))?.valueInteger;
const criterion = (value: string) => ({ type: { coding: [{ system: SYSTEM, code: 'criterion' }] }, valueString: value });
const businessKeyOf = (task: Task) => task.input?.find((i) => i.type?.coding?.some((c) => c.code === 'business-key'))?.valueString;
const messageNameOf = (task: Task) => task.input?.find((i) => i.type?.coding?.some((c) => c.code === 'message-name'))?.valueString;
const females = (site: string) => [...syntheticPatients({ site, count: PATIENTS })].filter((p) => p.patient.gender === 'female').length;
const males = (site: string) => [...syntheticPatients({ site, count: PATIENTS })].filter((p) => p.patient.gender === 'male').length;

function request(inputs: ReturnType<typeof criterion>[]): Promise<Task> {
  return network.site('Test_HRP').startProcess(REQUEST, { inputs });
}

function finished(task: Task, timeoutMs = 120_000): Promise<Task> {
  return network.site('Test_HRP').waitForTask(task.id!, ['completed', 'failed'], { timeoutMs });
}

/** The feasibilityQuery Tasks a DIC has received so far. */
async function queriesAt(organization: string): Promise<Task[]> {
  return (await network.site(organization).fhir.searchAll<Task>('Task', {})).filter((t) => messageNameOf(t) === 'feasibilityQuery');
}

test('two requests at once: each gets its own sites\' results', { timeout: 180_000 }, async () => {
  const [a, b] = await Promise.all([request([criterion('Patient?gender=female')]), request([criterion('Patient?gender=male')])]);
  const [doneA, doneB] = await Promise.all([finished(a), finished(b)]);
  assert.equal(doneA.status, 'completed', JSON.stringify(doneA.output));
  assert.equal(doneB.status, 'completed', JSON.stringify(doneB.output));
  assert.deepEqual(siteResults(doneA), DICS.map((o) => ({ organization: o, status: 'answered', count: females(o) })));
  assert.deepEqual(siteResults(doneB), DICS.map((o) => ({ organization: o, status: 'answered', count: males(o) })));
  assert.notEqual(females('Test_DIC_1'), males('Test_DIC_1'), 'the generated data tells the two questions apart');
  assert.equal(total(doneA), DICS.reduce((n, o) => n + females(o), 0));
  assert.equal(total(doneB), DICS.reduce((n, o) => n + males(o), 0));
});

test('a DIC whose data repository is down answers with an error result at once; the other DIC still counts', { timeout: 180_000 }, async () => {
  const repository = network.site('Test_DIC_2').dataRepository!.server;
  await repository.stop();
  try {
    const started = performance.now();
    const done = await finished(await request([criterion('Patient?gender=female')]));
    const seconds = (performance.now() - started) / 1000;
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    // A bound far below the timeout (0.2-0.6 s measured; node:test charges the network's start-up in the
    // top-level before hook to the first test's reported duration, not to the request).
    assert.ok(seconds < TIMEOUT_SECONDS / 3, `answered in ${seconds.toFixed(1)} s, long before the ${TIMEOUT_SECONDS} s timeout`);
    assert.deepEqual(siteResults(done), [
      { organization: 'Test_DIC_1', status: 'answered', count: females('Test_DIC_1') },
      { organization: 'Test_DIC_2', status: 'error', errorMessage: 'local data repository not reachable' },
    ]);
    assert.equal(total(done), females('Test_DIC_1'));
    // The error result the DIC sent was accepted and processed at the research platform (no 500, no failed Task).
    const results = (await network.site('Test_HRP').fhir.searchAll<Task>('Task', {})).filter((t) => messageNameOf(t) === 'feasibilityResult' && businessKeyOf(t) === businessKeyOf(done));
    assert.deepEqual(results.map((t) => t.status).sort(), ['completed', 'completed']);
  } finally {
    await repository.start();
  }
});

for (const refused of [
  'Observation?subject.gender=female', // chain
  'Patient?_has:Observation:subject:code=http://loinc.org|4548-4', // reverse chain
  'Condition?code=http://fhir.de/CodeSystem/bfarm/icd-10-gm|E11.9&_include=Condition:subject', // included resources
  'Patient?favourite-colour=blue', // unknown parameter
  'Condition?subject:Patient.gender=female', // typed chain
]) {
  test(`refused before anything is sent: ${refused}`, { timeout: 120_000 }, async () => {
    const before = await Promise.all(DICS.map(async (o) => (await queriesAt(o)).length));
    const done = await finished(await request([criterion('Patient?gender=female'), criterion(refused)]));
    assert.equal(done.status, 'failed', JSON.stringify(done.output));
    assert.equal(siteResults(done).length, 0);
    const afterwards = await Promise.all(DICS.map(async (o) => (await queriesAt(o)).length));
    assert.deepEqual(afterwards, before, 'no query reached a DIC');
  });
}

test('a result Task replayed by a DIC does not change the total', { timeout: 240_000 }, async () => {
  // DIC 2 answers late (its BPE is stopped), so the request is still waiting when DIC 1's result comes twice.
  const late = network.site('Test_DIC_2').bpe;
  await late.stop();
  let done: Task;
  try {
    const started = await request([criterion('Patient?gender=female')]);
    const key = businessKeyOf(await network.site('Test_HRP').waitForTask(started.id!, (t) => businessKeyOf(t) !== undefined));
    const hrp = network.site('Test_HRP');
    const first = await waitFor(
      "DIC 1's result at the research platform",
      async () => (await hrp.fhir.searchAll<Task>('Task', {})).find((t) => messageNameOf(t) === 'feasibilityResult' && businessKeyOf(t) === key && t.status === 'completed'),
      60_000,
    );
    // The replay: the same result Task created again at the HRP with DIC 1's own certificate.
    const dic1 = network.certificates.organizations['Test_DIC_1']!.client;
    const http = new HttpsClient({ cert: readFileSync(dic1.certPath, 'utf8'), key: readFileSync(dic1.keyPath, 'utf8'), ca: readFileSync(network.certificates.ca.certPath, 'utf8') });
    closers.push(() => http.close());
    const asDic1 = new HttpFhirClient({ http, baseUrl: hrp.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 30_000 });
    const { id: _id, meta: _meta, output: _output, ...content } = first;
    const replayed = await asDic1.create<Task>({ ...content, meta: { profile: first.meta?.profile }, status: 'requested' });
    const handled = await hrp.waitForTask(replayed.id!, (t) => t.status !== 'requested' && t.status !== 'in-progress', { timeoutMs: 60_000 });
    assert.equal(handled.status, 'failed', 'the replay found no waiting request');
    await late.start();
    done = await finished(started);
  } finally {
    if (!late.running) await late.start();
  }
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(siteResults(done), DICS.map((o) => ({ organization: o, status: 'answered', count: females(o) })));
  assert.equal(total(done), DICS.reduce((n, o) => n + females(o), 0));
});
