// Records with known duplicates for measuring linkage: persons drawn from the synthetic patients, some of
// them registered at several sites, each copy possibly with the errors real registrations have (a typo,
// given and family name swapped, day and month of the birth date swapped, a wrong postal code digit, a
// missing value). The person each record belongs to is the ground truth.
import { SeededRandom } from '../seeded-random.ts';
import { syntheticPatients } from '../synthetic-patients.ts';
import { withRegistrationError } from '../registration-errors.ts';

export interface LinkageRecord {
  site: string;
  handle: string;
  /** Ground truth: which person (never given to the linking party). */
  person: string;
  fields: { given: string; family: string; birthDate: string; sex: string; postalCode: string };
}

export interface DuplicateOptions {
  sites: readonly string[];
  /** Distinct persons. */
  persons: number;
  /** Share of persons registered at a second site (default 0.3). */
  overlap?: number;
  /** Probability that a copy has an error (default 0.4). */
  errorRate?: number;
  seed?: string;
}

export function duplicateRecords(options: DuplicateOptions): LinkageRecord[] {
  const random = new SeededRandom(`${options.seed ?? 'dsf-ts'}/linkage`);
  const overlap = options.overlap ?? 0.3;
  const errorRate = options.errorRate ?? 0.4;
  const records: LinkageRecord[] = [];
  const counters = new Map<string, number>(options.sites.map((s) => [s, 0]));
  const add = (site: string, person: string, fields: LinkageRecord['fields']) => {
    const n = counters.get(site)! + 1;
    counters.set(site, n);
    records.push({ site, handle: `${site}-r${n}`, person, fields });
  };
  for (const p of syntheticPatients({ site: 'linkage-population', count: options.persons, seed: options.seed })) {
    const fields = { given: p.patient.name![0]!.given![0]!, family: p.patient.name![0]!.family!, birthDate: p.patient.birthDate!, sex: p.patient.gender!, postalCode: p.patient.address![0]!.postalCode! };
    const first = random.pick(options.sites);
    add(first, p.id, fields);
    if (options.sites.length > 1 && random.chance(overlap)) {
      const others = options.sites.filter((s) => s !== first);
      add(random.pick(others), p.id, random.chance(errorRate) ? withRegistrationError(random, fields) : fields);
    }
  }
  // Sites would not send in population order.
  for (let i = records.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [records[i], records[j]] = [records[j]!, records[i]!];
  }
  return records;
}
