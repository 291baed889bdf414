// The pseudonymised data set a DIC sends to the data management site, and the merge there. A DIC's set
// holds, per patient, a Patient with only the pseudonym, sex and birth year, and the patient's Conditions
// and Observations pointing at it: no name, address, birth date, local identifier or local id. The DMS
// merges the sets of all DICs into one Patient per pseudonym.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Condition, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { PSEUDONYM_SID } from './constants.ts';

export interface PatientData {
  pseudonym: string;
  patient: Patient;
  conditions: Condition[];
  observations: Observation[];
}

const urn = () => `urn:uuid:${randomUUID()}`;

function pseudonymousPatient(pseudonym: string, source: Patient): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: PSEUDONYM_SID, value: pseudonym }],
    ...(source.gender ? { gender: source.gender } : {}),
    ...(source.birthDate ? { birthDate: source.birthDate.slice(0, 4) } : {}),
  };
}

/** The clinical resource without id, meta, text, identifiers and local references, pointing at `subject`. */
function clinical<R extends Condition | Observation>(resource: R, subject: string): R {
  const copy = { ...resource } as Record<string, unknown>;
  for (const local of ['id', 'meta', 'text', 'identifier', 'encounter']) delete copy[local];
  return { ...(copy as R), subject: { reference: subject } };
}

function entries(patient: Patient, resources: readonly (Condition | Observation)[]): BundleEntry[] {
  const fullUrl = urn();
  return [{ fullUrl, resource: patient }, ...resources.map((r) => ({ fullUrl: urn(), resource: clinical(r, fullUrl) as Resource }))];
}

export function pseudonymisedDataSet(patients: readonly PatientData[]): Bundle {
  const entry = patients.flatMap((p) => entries(pseudonymousPatient(p.pseudonym, p.patient), [...p.conditions, ...p.observations]));
  return { resourceType: 'Bundle', type: 'collection', ...(entry.length ? { entry } : {}) };
}

const pseudonymOfPatient = (p: Patient) => p.identifier?.find((i) => i.system === PSEUDONYM_SID)?.value;

/**
 * One Patient per pseudonym with every Condition and Observation of that person from every set.
 * `origins[i]`: the index of the set that entry i of the merged Bundle came from (a Patient: the first
 * set that named the pseudonym, whose sex and birth year it holds), so a refused entry names its DIC.
 */
export function mergeDataSets(sets: readonly Bundle[]): { bundle: Bundle; persons: number; origins: number[] } {
  type Clinical = { resource: Condition | Observation; origin: number };
  const persons = new Map<string, { patient: Patient; origin: number; clinical: Clinical[] }>();
  sets.forEach((set, origin) => {
    const byFullUrl = new Map<string, string>();
    for (const e of set.entry ?? []) {
      if (e.resource?.resourceType !== 'Patient') continue;
      const pseudonym = pseudonymOfPatient(e.resource);
      if (!pseudonym || !e.fullUrl) throw new Error('a Patient of a data set without pseudonym or fullUrl');
      byFullUrl.set(e.fullUrl, pseudonym);
      // Rebuilt from pseudonym, sex and birth year: whatever else a DIC's Patient holds is not stored at the DMS.
      if (!persons.has(pseudonym)) persons.set(pseudonym, { patient: pseudonymousPatient(pseudonym, e.resource), origin, clinical: [] });
    }
    for (const e of set.entry ?? []) {
      const r = e.resource;
      if (r?.resourceType !== 'Condition' && r?.resourceType !== 'Observation') continue;
      const pseudonym = byFullUrl.get(r.subject?.reference ?? '');
      if (!pseudonym) throw new Error(`a ${r.resourceType} of a data set whose subject is not a Patient of the set`);
      persons.get(pseudonym)!.clinical.push({ resource: r, origin });
    }
  });
  const entry: BundleEntry[] = [];
  const origins: number[] = [];
  for (const p of persons.values()) {
    // Conditions first, then Observations, as the sets are built.
    const clinical = [...p.clinical.filter((c) => c.resource.resourceType === 'Condition'), ...p.clinical.filter((c) => c.resource.resourceType === 'Observation')];
    entry.push(...entries(p.patient, clinical.map((c) => c.resource)));
    origins.push(p.origin, ...clinical.map((c) => c.origin));
  }
  // FHIR has no empty arrays: a merge of nothing is a Bundle without entries.
  return { bundle: { resourceType: 'Bundle', type: 'collection', ...(entry.length ? { entry } : {}) }, persons: persons.size, origins };
}

const SHARED_TYPES = new Set(['Patient', 'Condition', 'Observation']);

/** A DIC's data set as the DMS accepts it: a collection of pseudonymous Patients and their Conditions and Observations only. */
export function checkDataSet(value: unknown): Bundle {
  const bundle = value as Bundle;
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'collection') throw new Error('not a collection Bundle');
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw new Error('entry is not a list');
  for (const e of bundle.entry ?? []) if (!e?.resource || !SHARED_TYPES.has(e.resource.resourceType)) throw new Error(`an entry that is not a ${[...SHARED_TYPES].join(', ')}`);
  // Pseudonyms, fullUrls and subjects as the merge needs them (throws otherwise).
  mergeDataSets([bundle]);
  return bundle;
}
