// A site's local data repository: a FHIR server of ours with DSF_FHIR_DATA_REPOSITORY, filled with the
// deterministic synthetic patients through transaction Bundles; the clinical types and the search
// parameters a research query needs are served.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '@medplum/fhirtypes';
import { startTestSite, type TestSite } from '../support/fhir-site.ts';
import { loadSyntheticData } from '../../src/research-data/repository-bundles.ts';
import { syntheticPatients } from '../../src/research-data/synthetic-patients.ts';
import { ICD10GM_SYSTEM, LOINC_SYSTEM } from '../../src/research-data/clinical-codes.ts';
import { readFhirServerConfig } from '../../src/fhir/config.ts';

const COUNT = 300;
let site: TestSite;
const generated = [...syntheticPatients({ site: 'DIC_A', count: COUNT })];

before(async () => {
  site = await startTestSite({ config: { dataRepository: true } });
  const summary = await loadSyntheticData(
    async (bundle) => {
      const r = await site.client.post('', bundle);
      if (r.status !== 200) throw new Error(`transaction failed: ${r.status} ${r.body.slice(0, 2000)}`);
    },
    { site: 'DIC_A', count: COUNT, patientsPerBundle: 50 },
  );
  assert.equal(summary.patients, COUNT);
  assert.equal(summary.bundles, COUNT / 50);
});

after(async () => {
  await site?.stop();
});

const total = async (query: string) => {
  const r = await site.client.get(`${query}${query.includes('?') ? '&' : '?'}_summary=count`);
  assert.equal(r.status, 200, r.body);
  return (r.json as Bundle).total!;
};

test('the generator is deterministic: same site and seed, same resources; another site, other data', () => {
  assert.deepEqual([...syntheticPatients({ site: 'DIC_A', count: COUNT })], generated);
  const other = [...syntheticPatients({ site: 'DIC_B', count: COUNT })];
  assert.notDeepEqual(other.map((p) => p.patient.birthDate), generated.map((p) => p.patient.birthDate));
  // Every kind of data is there, some patients without consent, some who deny.
  const states = new Set(generated.map((p) => p.consentState));
  assert.deepEqual([...states].sort(), ['deny', 'none', 'permit']);
  assert.ok(generated.some((p) => p.conditions.length === 0) && generated.some((p) => p.conditions.length >= 2));
  for (const p of generated) for (const o of p.observations) assert.ok(o.valueQuantity!.value! > 0, 'plausible values');
});

test('DSF_FHIR_DATA_REPOSITORY turns the mode on (default off)', () => {
  const org = site.certs.organizations.Test_Organization!;
  const base = {
    DEV_DSF_FHIR_SERVER_BASE_URL: 'https://localhost/fhir',
    DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'x',
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: site.certs.ca.certPath,
    DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
  };
  assert.equal(readFhirServerConfig(base).dataRepository, false);
  assert.equal(readFhirServerConfig({ ...base, DSF_FHIR_DATA_REPOSITORY: 'true' }).dataRepository, true);
});

test('every generated resource is stored: counts per type', async () => {
  assert.equal(await total('Patient'), COUNT);
  assert.equal(await total('Condition'), generated.reduce((n, p) => n + p.conditions.length, 0));
  assert.equal(await total('Observation'), generated.reduce((n, p) => n + p.observations.length, 0));
  assert.equal(await total('Consent'), generated.filter((p) => p.consent).length);
});

test('searches a research query needs: condition code, observation code with a value range, demographics, consent by patient', async () => {
  const diabetics = generated.filter((p) => p.conditions.some((c) => c.code!.coding![0]!.code === 'E11.9')).length;
  assert.ok(diabetics > 0);
  assert.equal(await total(`Condition?code=${encodeURIComponent(`${ICD10GM_SYSTEM}|E11.9`)}`), diabetics);

  const highHba1c = generated.flatMap((p) => p.observations).filter((o) => o.code!.coding![0]!.code === '4548-4' && o.valueQuantity!.value! >= 6.5).length;
  assert.ok(highHba1c > 0);
  assert.equal(await total(`Observation?code=${encodeURIComponent(`${LOINC_SYSTEM}|4548-4`)}&value-quantity=ge6.5`), highHba1c);

  const women = generated.filter((p) => p.patient.gender === 'female' && p.patient.birthDate! < '1960-01-01').length;
  assert.equal(await total('Patient?gender=female&birthdate=lt1960-01-01'), women);

  const first = await site.client.get(`Patient?identifier=${encodeURIComponent(generated.find((p) => p.consent)!.patient.identifier![0]!.system!)}|${generated.find((p) => p.consent)!.id}`);
  const patientId = (first.json as Bundle).entry![0]!.resource!.id!;
  assert.equal(await total(`Consent?patient=Patient/${patientId}`), 1);
  const r = await site.client.get(`Condition?subject=Patient/${patientId}&_elements=subject`);
  assert.equal(r.status, 200);
});

test('the CapabilityStatement lists the repository types', async () => {
  const r = await site.client.get('metadata');
  const types = r.json.rest[0].resource.map((x: { type: string }) => x.type);
  for (const t of ['Condition', 'Observation', 'Consent', 'Patient']) assert.ok(types.includes(t), t);
});
