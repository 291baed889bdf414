// Deterministic synthetic patients of one site's data repository: a Patient with name, sex, birth date
// and postal code; Conditions (ICD-10-GM) drawn by prevalence, age and sex; Observations (LOINC, UCUM
// quantities) whose values depend on the related diagnosis; a broad-consent-like Consent that permits or
// denies research use, or none at all. Same site + seed + count: the same resources, byte for byte.
import type { Condition, Consent, Observation, Patient } from '@medplum/fhirtypes';
import {
  DIAGNOSES,
  FAMILY_NAMES,
  GIVEN_NAMES_FEMALE,
  GIVEN_NAMES_MALE,
  ICD10GM_SYSTEM,
  ICD10GM_VERSION,
  LOINC_SYSTEM,
  MEASUREMENTS,
  MII_CONSENT,
  PATIENT_ID_SYSTEM,
  READ_ACCESS_TAG_SYSTEM,
  UCUM_SYSTEM,
} from './clinical-codes.ts';
import { SeededRandom } from './seeded-random.ts';
import { withRegistrationError } from './registration-errors.ts';

export type ConsentState = 'permit' | 'deny' | 'none';

export interface SyntheticPatient {
  /** `<site>-<number>`, the Patient's identifier value (PATIENT_ID_SYSTEM). */
  id: string;
  /** urn:uuid full URL of the Patient in a transaction; the other resources reference it. */
  fullUrl: string;
  patient: Patient;
  conditions: Condition[];
  observations: Observation[];
  consent?: Consent;
  consentState: ConsentState;
  /** Set when this patient is a person also registered at another site: that site's patient id. */
  sameAs?: string;
}

/** A share of a site's patients who are persons of another site too (the other site's generator settings). */
export interface SharedPatientsOptions {
  /** The other site, its patient count and seed, as generated there. */
  site: string;
  count: number;
  seed?: string;
  /** Share of this site's patients taken over from the other site (0..1). */
  share: number;
  /** Probability that the copy has one registration error (typo, swapped names, swapped day and month, postal code); default 0.3. */
  errorRate?: number;
}

export interface SyntheticDataOptions {
  /** Names the site in identifiers; part of the seed. */
  site: string;
  count: number;
  /** Default 'dsf-ts'. */
  seed?: string;
  /** The date the data is "as of" (birth dates and ages are relative to it); default 2026-01-01. */
  asOf?: string;
  /** Shares of consent states; default permit 0.7, deny 0.1, none 0.2. */
  consent?: { permit: number; deny: number };
  /** Some patients are persons of another site (same name, sex, birth date and postal code, sometimes with an error). */
  sharedWith?: SharedPatientsOptions;
}

/** Only the site itself reads its repository (the read-access tag LOCAL). */
const META = { tag: [{ system: READ_ACCESS_TAG_SYSTEM, code: 'LOCAL' }] };

const round = (v: number, decimals: number) => Number(v.toFixed(decimals));
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

function dateBetween(random: SeededRandom, from: Date, to: Date): Date {
  return new Date(from.getTime() + Math.floor(random.next() * (to.getTime() - from.getTime())));
}

/** Ages of a hospital population: more old than young. */
function age(random: SeededRandom): number {
  return Math.round(random.normal(52, 22, 0, 101));
}

export function* syntheticPatients(options: SyntheticDataOptions): Generator<SyntheticPatient> {
  const random = new SeededRandom(`${options.seed ?? 'dsf-ts'}/${options.site}`);
  const asOf = new Date(`${options.asOf ?? '2026-01-01'}T00:00:00Z`);
  const permit = options.consent?.permit ?? 0.7;
  const deny = options.consent?.deny ?? 0.1;
  const width = Math.max(6, String(options.count).length);
  const shared = options.sharedWith ? sharedIdentities(options, options.sharedWith) : undefined;
  for (let n = 1; n <= options.count; n++) {
    const id = `${options.site}-${pad(n, width)}`;
    const fullUrl = `urn:uuid:${uuidOf(random)}`;
    const subject = { reference: fullUrl };
    const sex = random.chance(0.505) ? 'female' : 'male';
    const years = age(random);
    const birth = new Date(Date.UTC(asOf.getUTCFullYear() - years - 1, 0, 1) + Math.floor(random.next() * 365) * 86_400_000);
    const patient: Patient = {
      resourceType: 'Patient',
      meta: META,
      identifier: [{ system: PATIENT_ID_SYSTEM, value: id }],
      name: [{ use: 'official', family: random.pick(FAMILY_NAMES), given: [random.pick(sex === 'female' ? GIVEN_NAMES_FEMALE : GIVEN_NAMES_MALE)] }],
      gender: random.chance(0.002) ? 'other' : sex,
      birthDate: isoDate(birth),
      address: [{ type: 'both', postalCode: pad(random.int(1067, 99998), 5), country: 'DE' }],
    };

    const diagnoses = DIAGNOSES.filter((d) => (d.onlySex === undefined || d.onlySex === sex) && years >= (d.minAge ?? 0) && random.chance(d.prevalence * (years > 60 ? 1.6 : 1)));
    const conditions: Condition[] = diagnoses.map((d, i) => {
      const onset = dateBetween(random, new Date(Math.max(birth.getTime(), asOf.getTime() - 15 * 365 * 86_400_000)), asOf);
      return {
        resourceType: 'Condition',
        meta: META,
        identifier: [{ system: `${PATIENT_ID_SYSTEM}/condition`, value: `${id}-c${i + 1}` }],
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        code: { coding: [{ system: ICD10GM_SYSTEM, version: ICD10GM_VERSION, code: d.code, display: d.display }] },
        subject,
        onsetDateTime: isoDate(onset),
        recordedDate: isoDate(onset),
      };
    });

    const codes = new Set(diagnoses.map((d) => d.code));
    const observations: Observation[] = MEASUREMENTS.filter((m) => years >= 2 && random.chance(m.share)).map((m, i) => {
      const dist = m.affected && codes.has(m.affected.diagnosis) ? m.affected : m.normal;
      const effective = dateBetween(random, new Date(asOf.getTime() - 3 * 365 * 86_400_000), asOf);
      return {
        resourceType: 'Observation',
        meta: META,
        identifier: [{ system: `${PATIENT_ID_SYSTEM}/observation`, value: `${id}-o${i + 1}` }],
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: m.category }] }],
        code: { coding: [{ system: LOINC_SYSTEM, code: m.code, display: m.display }] },
        subject,
        effectiveDateTime: effective.toISOString().replace('.000Z', 'Z'),
        valueQuantity: { value: round(random.normal(dist.mean, dist.sd, m.min, m.max), m.decimals), unit: m.unit, system: UCUM_SYSTEM, code: m.unit },
      };
    });

    const draw = random.next();
    const consentState: ConsentState = draw < permit ? 'permit' : draw < permit + deny ? 'deny' : 'none';
    const consent: Consent | undefined =
      consentState === 'none'
        ? undefined
        : {
            resourceType: 'Consent',
            meta: META,
            identifier: [{ system: `${PATIENT_ID_SYSTEM}/consent`, value: `${id}-consent` }],
            status: 'active',
            scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
            category: [{ coding: [{ system: LOINC_SYSTEM, code: '57016-8', display: 'Privacy policy acknowledgment Document' }] }],
            patient: subject,
            dateTime: isoDate(dateBetween(random, new Date(asOf.getTime() - 5 * 365 * 86_400_000), asOf)),
            policy: [{ uri: MII_CONSENT.policyUri }],
            provision: {
              type: consentState,
              period: { start: isoDate(asOf), end: `${asOf.getUTCFullYear() + 5}-12-31` },
              provision: [
                {
                  type: consentState,
                  code: [{ coding: [{ system: MII_CONSENT.provisionSystem, code: MII_CONSENT.researchUseCode, display: MII_CONSENT.researchUseDisplay }] }],
                },
              ],
            },
          };
    const sameAs = shared?.(patient);
    yield { id, fullUrl, patient, conditions, observations, consent, consentState, ...(sameAs ? { sameAs } : {}) };
  }
}

/** A random (seeded) version 4 UUID, for the transaction's full URLs. */
function uuidOf(random: SeededRandom): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = ((random.int(0, 3) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/**
 * Takes over, for a share of this site's patients, the identity of a patient of the other site of the
 * same sex (each at most once), sometimes with one registration error. Its own random stream, so the
 * rest of the generated data is the same with or without sharing.
 */
function sharedIdentities(options: SyntheticDataOptions, other: SharedPatientsOptions): (patient: Patient) => string | undefined {
  const random = new SeededRandom(`${options.seed ?? 'dsf-ts'}/${options.site}/shared-with/${other.site}`);
  const unused = [...syntheticPatients({ site: other.site, count: other.count, seed: other.seed ?? options.seed, asOf: options.asOf })];
  return (patient) => {
    if (!random.chance(other.share)) return undefined;
    const index = unused.findIndex((p) => p.patient.gender === patient.gender);
    if (index < 0) return undefined;
    const source = unused.splice(index, 1)[0]!;
    const name = source.patient.name![0]!;
    const fields = { given: name.given![0]!, family: name.family!, birthDate: source.patient.birthDate!, sex: source.patient.gender!, postalCode: source.patient.address![0]!.postalCode! };
    const copy = random.chance(other.errorRate ?? 0.3) ? withRegistrationError(random, fields) : fields;
    patient.name = [{ use: 'official', family: copy.family, given: [copy.given] }];
    patient.birthDate = copy.birthDate;
    patient.address = copy.postalCode ? [{ type: 'both', postalCode: copy.postalCode, country: 'DE' }] : undefined;
    if (!patient.address) delete patient.address;
    return source.id;
  };
}
