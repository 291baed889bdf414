// The data-sharing plugin's pure parts: consent filtering, the TTP's keyed pseudonyms, the pseudonymised
// data set and the merge by pseudonym; and the synthetic data's persons registered at two sites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Consent, Patient } from '@medplum/fhirtypes';
import { consentPermits, MII_BROAD_CONSENT_POLICY, MII_PROVISION_SYSTEM, MII_RESEARCH_USE_CODE } from '../../plugins/data-sharing/src/consent.ts';
import { pseudonymOf } from '../../plugins/data-sharing/src/pseudonym.ts';
import { mergeDataSets, pseudonymisedDataSet } from '../../plugins/data-sharing/src/data-set.ts';
import { durationMs } from '../../plugins/data-sharing/src/refused-message.ts';
import { syntheticPatients } from '../../src/research-data/synthetic-patients.ts';
import { MII_CONSENT } from '../../src/research-data/clinical-codes.ts';

const RESEARCH = { system: MII_PROVISION_SYSTEM, code: MII_RESEARCH_USE_CODE };
const AT = '2026-06-01';

function consent(type: 'permit' | 'deny', changes: Partial<Consent> = {}, code = MII_RESEARCH_USE_CODE): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '57016-8' }] }],
    patient: { reference: 'Patient/1' },
    policy: [{ uri: MII_BROAD_CONSENT_POLICY }],
    provision: { type: 'deny', period: { start: '2026-01-01', end: '2030-12-31' }, provision: [{ type, code: [{ coding: [{ system: MII_PROVISION_SYSTEM, code }] }] }] },
    ...changes,
  };
}

test('consent: only an active MII broad consent permitting the purpose on the date lets a patient in', () => {
  assert.equal(MII_BROAD_CONSENT_POLICY, MII_CONSENT.policyUri, 'the plugin and the synthetic data agree on the policy');
  assert.equal(consentPermits(consent('permit'), RESEARCH, AT), true);
  assert.equal(consentPermits(consent('deny'), RESEARCH, AT), false, 'deny');
  assert.equal(consentPermits(consent('permit', { status: 'inactive' }), RESEARCH, AT), false, 'inactive');
  assert.equal(consentPermits(consent('permit', { policy: [{ uri: 'urn:oid:1.2.3' }] }), RESEARCH, AT), false, 'another policy');
  assert.equal(consentPermits(consent('permit'), RESEARCH, '2031-01-01'), false, 'after the period');
  assert.equal(consentPermits(consent('permit', {}, '2.16.840.1.113883.3.1937.777.24.5.3.1'), RESEARCH, AT), false, 'permits something else only');
  const both = consent('permit');
  both.provision!.provision!.push({ type: 'deny', code: [{ coding: [RESEARCH] }] });
  assert.equal(consentPermits(both, RESEARCH, AT), false, 'a deny of the purpose wins');
});

test('consent: the synthetic consents are permitted exactly when generated as permit', () => {
  for (const p of syntheticPatients({ site: 'units', count: 200 })) {
    assert.equal(p.consent ? consentPermits(p.consent, RESEARCH, AT) : false, p.consentState === 'permit', p.id);
  }
});

test('pseudonyms: keyed, per project, independent of the order of the records, unknown without the key', () => {
  const a = pseudonymOf('ttp secret', 'project-1', ['DIC_1|t1', 'DIC_2|t2']);
  assert.match(a, /^psn-[0-9a-f]{32}$/);
  assert.equal(pseudonymOf('ttp secret', 'project-1', ['DIC_2|t2', 'DIC_1|t1']), a);
  assert.notEqual(pseudonymOf('ttp secret', 'project-2', ['DIC_1|t1', 'DIC_2|t2']), a);
  assert.notEqual(pseudonymOf('another key', 'project-1', ['DIC_1|t1', 'DIC_2|t2']), a);
  assert.notEqual(pseudonymOf('ttp secret', 'project-1', ['DIC_1|t1']), a);
  assert.throws(() => pseudonymOf('', 'project-1', ['x']), /key/);
});

test('data set: pseudonym, sex and birth year only; clinical resources without local ids; merge gives one Patient per pseudonym', () => {
  const [p1, p2, p3] = [...syntheticPatients({ site: 'units', count: 40 })].filter((p) => p.conditions.length > 0);
  const data = (p: typeof p1, pseudonym: string) => ({ pseudonym, patient: { ...p!.patient, id: p!.id }, conditions: p!.conditions.map((c) => ({ ...c, id: 'local-1', subject: { reference: 'Patient/x' } })), observations: p!.observations });
  const setA = pseudonymisedDataSet([data(p1, 'psn-a'), data(p2, 'psn-b')]);
  const setB = pseudonymisedDataSet([data(p3, 'psn-a')]);
  const text = JSON.stringify(setA);
  for (const p of [p1!, p2!]) {
    assert.ok(!text.includes(p.id) && !text.includes(p.patient.birthDate!) && !text.includes(p.patient.name![0]!.family!), 'no identifier, birth date or name');
  }
  assert.doesNotMatch(text, /"id"|"meta"|"identifier":\[\{"system":"http:\/\/dsf-ts\.dev\/sid\/synthetic/);
  const patient = setA.entry![0]!.resource as Patient;
  assert.deepEqual(patient, { resourceType: 'Patient', identifier: [{ system: 'http://dsf-ts.dev/sid/data-sharing-pseudonym', value: 'psn-a' }], gender: p1!.patient.gender, birthDate: p1!.patient.birthDate!.slice(0, 4) });

  const { bundle, persons } = mergeDataSets([setA, setB]);
  assert.equal(persons, 2);
  const patients = bundle.entry!.filter((e) => e.resource?.resourceType === 'Patient');
  assert.equal(patients.length, 2);
  const a = patients.find((e) => (e.resource as Patient).identifier![0]!.value === 'psn-a')!;
  const ofA = bundle.entry!.filter((e) => e.resource?.resourceType === 'Condition' && (e.resource as { subject: { reference: string } }).subject.reference === a.fullUrl);
  assert.equal(ofA.length, p1!.conditions.length + p3!.conditions.length, 'psn-a has the Conditions from both sets');
  const orphan: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:2' } } as never }] };
  assert.throws(() => mergeDataSets([orphan]), /subject/);
});

test('merge: a Patient a DIC sent with more than pseudonym, sex and birth year is stored with those only', () => {
  const set: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:p',
        resource: {
          resourceType: 'Patient',
          id: 'local-17',
          identifier: [{ system: 'http://dsf-ts.dev/sid/data-sharing-pseudonym', value: 'psn-1' }, { system: 'http://hospital.example/mrn', value: '4711' }],
          name: [{ family: 'Mustermann', given: ['Erika'] }],
          birthDate: '1964-08-12',
          gender: 'female',
          address: [{ postalCode: '12345' }],
        },
      },
    ],
  };
  const { bundle } = mergeDataSets([set]);
  assert.deepEqual(bundle.entry![0]!.resource, { resourceType: 'Patient', identifier: [{ system: 'http://dsf-ts.dev/sid/data-sharing-pseudonym', value: 'psn-1' }], gender: 'female', birthDate: '1964' });
});

test('synthetic data: a share of a site\'s patients are persons of another site, same sex, known by sameAs, some with an error', () => {
  const other = [...syntheticPatients({ site: 'A', count: 100 })];
  const shared = [...syntheticPatients({ site: 'B', count: 40, sharedWith: { site: 'A', count: 100, share: 1, errorRate: 0.5 } })];
  const plain = [...syntheticPatients({ site: 'B', count: 40 })];
  assert.ok(shared.every((p) => p.sameAs));
  assert.equal(new Set(shared.map((p) => p.sameAs)).size, shared.length, 'each person of A at most once');
  let exact = 0;
  for (const p of shared) {
    const source = other.find((o) => o.id === p.sameAs)!;
    assert.equal(p.patient.gender, source.patient.gender);
    if (JSON.stringify([p.patient.name, p.patient.birthDate, p.patient.address?.[0]?.postalCode]) === JSON.stringify([source.patient.name, source.patient.birthDate, source.patient.address?.[0]?.postalCode])) exact++;
  }
  assert.ok(exact > 5 && exact < shared.length, `some copies exact, some with an error (${exact}/${shared.length})`);
  // Clinical data and consents are the site's own, the same as without sharing.
  assert.deepEqual(shared.map((p) => p.consentState), plain.map((p) => p.consentState));
  assert.equal([...syntheticPatients({ site: 'B', count: 40, sharedWith: { site: 'A', count: 100, share: 0.3 } })].filter((p) => p.sameAs).length > 3, true);
});

test('waiting deadline: the TTP\'s and the DMS\'s timeouts as ISO durations of days, hours, minutes and seconds', () => {
  assert.equal(durationMs('PT2H'), 7_200_000);
  assert.equal(durationMs('PT1H'), 3_600_000);
  assert.equal(durationMs('PT120S'), 120_000);
  assert.equal(durationMs('P1DT30M'), 88_200_000);
  assert.equal(durationMs('PT0.5S'), 500);
  for (const bad of ['', 'P', 'PT', '2H', 'P1M', 'PT1H ago']) assert.throws(() => durationMs(bad), Error, bad);
});

test('default waits: each site waits longer than the one it waits for (TTP < DIC, DMS < HRP), so the HRP\'s timer does not beat the DMS\'s late result', () => {
  const bpe = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/data-sharing/bpe');
  const defaults = new Map<string, Set<string>>();
  for (const file of readdirSync(bpe).filter((f) => f.endsWith('.bpmn'))) {
    for (const m of readFileSync(join(bpe, file), 'utf8').matchAll(/#\{dev\.dsf\.data\.sharing\.(\w+)\.timeout:([^}]+)\}/g)) {
      (defaults.get(m[1]!) ?? defaults.set(m[1]!, new Set()).get(m[1]!)!).add(m[2]!);
    }
  }
  assert.deepEqual([...defaults.keys()].sort(), ['data', 'linkage', 'pseudonyms', 'result']);
  for (const [name, values] of defaults) assert.equal(values.size, 1, `one default for ${name}: ${[...values]}`);
  const ms = (name: string) => durationMs([...defaults.get(name)!][0]!);
  assert.ok(ms('linkage') < ms('pseudonyms'), 'a DIC waits for pseudonyms longer than the TTP waits for records');
  assert.ok(ms('linkage') < ms('data'), 'the DMS waits longer than the TTP (data sets come after the pseudonyms)');
  assert.ok(ms('data') < ms('result'), "the HRP waits longer than the DMS, whose result comes after its own wait and the merge");
  // The DMS's result, sent again while the HRP's FHIR server is down, still comes within the HRP's wait.
  const retries = new Set<string>();
  for (const file of readdirSync(bpe).filter((f) => f.endsWith('.bpmn'))) {
    for (const m of readFileSync(join(bpe, file), 'utf8').matchAll(/#\{dev\.dsf\.data\.sharing\.result\.retry:([^}]+)\}/g)) retries.add(m[1]!);
  }
  assert.equal(retries.size, 1, `one default retry cycle: ${[...retries]}`);
  const waits = [...retries][0]!.split(',').map(durationMs);
  assert.ok(waits.length >= 5 && waits.every((w, i) => i === 0 || w >= waits[i - 1]!), `several growing waits: ${[...retries]}`);
  // n attempts wait the first n - 1 durations.
  assert.ok(ms('data') + waits.slice(0, -1).reduce((a, b) => a + b, 0) < ms('result'), 'the DMS stops sending before the HRP stops waiting');
});

test('merge: each entry of the merged set names the set it came from (a Patient: the first set naming the pseudonym)', () => {
  const patient = (gender: 'female' | 'male') => ({ resourceType: 'Patient', gender, birthDate: '1970-01-01' }) as Patient;
  const condition = { resourceType: 'Condition', subject: { reference: 'Patient/1' } } as const;
  const a = pseudonymisedDataSet([{ pseudonym: 'p1', patient: patient('female'), conditions: [condition], observations: [] }]);
  const b = pseudonymisedDataSet([
    { pseudonym: 'p2', patient: patient('male'), conditions: [], observations: [] },
    { pseudonym: 'p1', patient: patient('female'), conditions: [condition, condition], observations: [] },
  ]);
  const { bundle, origins } = mergeDataSets([a, b]);
  // p1: Patient (from a), its Condition from a, two from b; then p2's Patient from b.
  assert.deepEqual(bundle.entry!.map((e) => e.resource!.resourceType), ['Patient', 'Condition', 'Condition', 'Condition', 'Patient']);
  assert.deepEqual(origins, [0, 0, 1, 1, 1]);
});
