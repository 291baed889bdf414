// The feasibility plugin across four sites (FHIR server + BPE each as child processes, mTLS, real
// PostgreSQL): a research platform (HRP) asks; two DICs count in their own data repositories (synthetic
// patients) and answer with obfuscated counts (one below its threshold); a third DIC's BPE is down and
// is reported as timeout. Nothing that identifies a patient reaches the research platform.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { syntheticPatients, type SyntheticPatient } from '../../src/research-data/synthetic-patients.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/feasibility');
const SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility';
const SITE_RESULT = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-feasibility-site-result';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/feasibilityRequest', '0.1', 'task-feasibility-request');
const PATIENTS = 400;

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({
    sites: [
      // Every request waits this long for DIC 3 (down), so it is short; the DICs that are up answer in
      // well under a second, more than ten times inside it.
      { organization: 'Test_HRP', env: { DEV_DSF_FEASIBILITY_TIMEOUT: 'PT8S' } },
      { organization: 'Test_DIC_1', dataRepository: { patients: PATIENTS }, env: { DEV_DSF_FEASIBILITY_THRESHOLD: '5', DEV_DSF_FEASIBILITY_ROUNDING: '10' } },
      { organization: 'Test_DIC_2', dataRepository: { patients: PATIENTS }, env: { DEV_DSF_FEASIBILITY_THRESHOLD: '100000' } },
      'Test_DIC_3',
    ],
    plugins: [PLUGIN],
  });
  // DIC 3 has the plugin deployed (its FHIR server accepts the query) but its BPE is down: nobody answers.
  await network.site('Test_DIC_3').bpe.stop();
});

after(async () => {
  await network?.stop();
});

interface SiteResult {
  organization: string;
  status: string;
  reported?: string;
  count?: number;
}

function siteResults(task: Task): SiteResult[] {
  return (task.output ?? [])
    .filter((o) => o.type?.coding?.some((c) => c.system === SYSTEM && c.code === 'site-result'))
    .map((o) => {
      const parts = o.extension?.find((e) => e.url === SITE_RESULT)?.extension ?? [];
      const part = (url: string) => parts.find((p) => p.url === url);
      const r: SiteResult = { organization: part('organization-identifier')!.valueIdentifier!.value!, status: o.valueCoding!.code! };
      if (part('reported')) r.reported = part('reported')!.valueString!;
      if (part('count')) r.count = part('count')!.valueInteger!;
      return r;
    });
}

const total = (task: Task) => task.output?.find((o) => o.type?.coding?.some((c) => c.code === 'total'))?.valueInteger;
const criterion = (value: string) => ({ type: { coding: [{ system: SYSTEM, code: 'criterion' }] }, valueString: value });
const roundedTo10 = (n: number) => Math.max(Math.round(n / 10) * 10, 10);

const patientsOf = (site: string): SyntheticPatient[] => [...syntheticPatients({ site, count: PATIENTS })];
const hasCondition = (p: SyntheticPatient, code: string) => p.conditions.some((c) => c.code!.coding![0]!.code === code);
const hasObservation = (p: SyntheticPatient, code: string, min: number) => p.observations.some((o) => o.code!.coding![0]!.code === code && o.valueQuantity!.value! >= min);

async function runFeasibility(inputs?: ReturnType<typeof criterion>[]): Promise<Task> {
  const hrp = network.site('Test_HRP');
  const started = await hrp.startProcess(REQUEST, inputs ? { inputs } : {});
  return hrp.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 120_000 });
}

let first: Task;

test('diabetes with HbA1c >= 6.5 %: per-site obfuscated counts, a DIC below its threshold, a DIC down as timeout, and the total', async () => {
  first = await runFeasibility(); // the draft Task's criteria: E11.9 and LOINC 4548-4 >= 6.5
  assert.equal(first.status, 'completed', JSON.stringify(first.output));
  const expected = patientsOf('Test_DIC_1').filter((p) => hasCondition(p, 'E11.9') && hasObservation(p, '4548-4', 6.5)).length;
  assert.ok(expected >= 5, `enough diabetics with a high HbA1c in the synthetic data (${expected})`);
  assert.deepEqual(siteResults(first), [
    { organization: 'Test_DIC_1', status: 'answered', reported: String(roundedTo10(expected)), count: roundedTo10(expected) },
    { organization: 'Test_DIC_2', status: 'below-threshold', reported: '<100000' },
    { organization: 'Test_DIC_3', status: 'timeout' },
  ]);
  assert.equal(total(first), roundedTo10(expected));
});

test('a single Patient criterion is counted with _summary=count', async () => {
  const done = await runFeasibility([criterion('Patient?gender=female&birthdate=lt1970-01-01')]);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const expected = patientsOf('Test_DIC_1').filter((p) => p.patient.gender === 'female' && p.patient.birthDate! < '1970-01-01').length;
  assert.deepEqual(siteResults(done)[0], { organization: 'Test_DIC_1', status: 'answered', reported: String(roundedTo10(expected)), count: roundedTo10(expected) });
});

test('no patient identifier, name, birth date or reference crosses to the research platform; the DICs only received criteria', async () => {
  assert.ok(first, 'the first test ran');
  const hrpTasks = await network.site('Test_HRP').fhir.searchAll<Task>('Task', {});
  assert.ok(hrpTasks.length >= 3, 'the request and the results are stored at the HRP');
  const stored = JSON.stringify(hrpTasks);
  const dic1 = patientsOf('Test_DIC_1');
  for (const p of dic1) {
    assert.ok(!stored.includes(p.id), `patient identifier ${p.id} at the HRP`);
    assert.ok(!stored.includes(`"${p.patient.birthDate}"`), 'a birth date at the HRP');
  }
  assert.doesNotMatch(stored, /Patient\/|urn:uuid|"family"|postalCode/);
  // The result Tasks the DICs sent: message name, keys, result and count only.
  const results = hrpTasks.filter((t) => t.input?.some((i) => i.valueString === 'feasibilityResult'));
  assert.ok(results.length >= 2);
  for (const t of results) for (const i of t.input!) assert.match(i.type!.coding![0]!.code!, /^(message-name|business-key|correlation-key|result|count)$/);
  // At a DIC: the query carries the criteria, nothing else of the researcher's.
  const queries = (await network.site('Test_DIC_1').fhir.searchAll<Task>('Task', {})).filter((t) => t.input?.some((i) => i.valueString === 'feasibilityQuery'));
  assert.ok(queries.length >= 1);
  for (const t of queries) for (const i of t.input!) assert.match(i.type!.coding![0]!.code!, /^(message-name|business-key|correlation-key|criterion)$/);
});

test('a criterion on a type the repository does not count fails the request before anything is sent', async () => {
  const done = await runFeasibility([criterion('Encounter?class=IMP')]);
  assert.equal(done.status, 'failed');
});
