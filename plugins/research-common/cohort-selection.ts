// Selects or counts a cohort in a data repository (shared by the feasibility and data-sharing plugins;
// imports only the plugin API): each criterion is a FHIR search on Patient, Condition,
// Observation or Consent; the cohort is the patients matching every criterion (a Condition, Observation
// or Consent matches its patient). One Patient criterion is answered by _summary=count; otherwise the
// patient references are collected page by page (only the reference element) and intersected.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirClient } from '../../src/plugin-api/index.ts';

/** The element that names the patient, per searchable type. */
const PATIENT_ELEMENT: Readonly<Record<string, string>> = { Patient: 'id', Condition: 'subject', Observation: 'subject', Consent: 'patient' };
const PAGE_SIZE = 1000;
/** A search that keeps announcing more results must still end (10 million matches). */
const MAX_PAGES = 10_000;

export interface Criterion {
  type: string;
  params: [string, string][];
}

export class CriterionError extends Error {}

/** 'Condition?code=http://...|E11.9' -> type and parameters; refuses other types and result parameters. */
export function parseCriterion(text: string): Criterion {
  const trimmed = text.trim();
  const q = trimmed.indexOf('?');
  const type = q < 0 ? trimmed : trimmed.slice(0, q);
  if (!Object.hasOwn(PATIENT_ELEMENT, type)) throw new CriterionError(`criterion '${text}': type must be one of ${Object.keys(PATIENT_ELEMENT).join(', ')}`);
  const params: [string, string][] = [];
  for (const part of (q < 0 ? '' : trimmed.slice(q + 1)).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    // Result parameters would change what is counted (or include other resources).
    if (name.startsWith('_') && name !== '_id' && name !== '_lastUpdated' && name !== '_profile' && name !== '_tag') throw new CriterionError(`criterion '${text}': parameter ${name} not allowed`);
    params.push([name, eq < 0 ? '' : decode(part.slice(eq + 1))]);
  }
  return { type, params };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s); // '+' stays: FHIR values such as time zones keep it
  } catch {
    return s;
  }
}

/** 'Patient/123', 'https://x/fhir/Patient/123/_history/2' -> '123'. */
function patientIdOf(reference: string | undefined): string | undefined {
  return /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(reference ?? '')?.[1];
}

function patientOf(resource: Resource): string | undefined {
  switch (resource.resourceType) {
    case 'Patient':
      return resource.id;
    case 'Condition':
    case 'Observation':
      return patientIdOf(resource.subject?.reference);
    case 'Consent':
      return patientIdOf(resource.patient?.reference);
    default:
      return undefined;
  }
}

async function patientsMatching(client: FhirClient, criterion: Criterion): Promise<Set<string>> {
  const out = new Set<string>();
  let seen = 0;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const query = new URLSearchParams(criterion.params);
    query.set('_count', String(PAGE_SIZE));
    query.set('_page', String(page));
    if (criterion.type !== 'Patient') query.set('_elements', PATIENT_ELEMENT[criterion.type]!);
    const bundle: Bundle = await client.searchWithStrictHandling(criterion.type, query);
    const matches = (bundle.entry ?? []).filter((e) => (e.search?.mode ?? 'match') === 'match' && e.resource);
    for (const e of matches) {
      const id = patientOf(e.resource!);
      if (id) out.add(id);
    }
    seen += matches.length;
    if (matches.length === 0 || bundle.total === undefined || seen >= bundle.total) break;
  }
  return out;
}

/** The ids (in the repository) of the patients matching every criterion. */
export async function selectCohort(client: FhirClient, criteria: readonly Criterion[]): Promise<Set<string>> {
  if (criteria.length === 0) throw new CriterionError('no criterion');
  let cohort: Set<string> | undefined;
  // Sequential: each search narrows nothing on the server, but a failing one stops early.
  for (const criterion of criteria) {
    const matching = await patientsMatching(client, criterion);
    cohort = cohort ? new Set([...cohort].filter((id) => matching.has(id))) : matching;
    if (cohort.size === 0) break;
  }
  return cohort!;
}

/** The number of patients matching every criterion. */
export async function countCohort(client: FhirClient, criteria: readonly Criterion[]): Promise<number> {
  if (criteria.length === 0) throw new CriterionError('no criterion');
  if (criteria.length === 1 && criteria[0]!.type === 'Patient') {
    const query = new URLSearchParams(criteria[0]!.params);
    query.set('_summary', 'count');
    const bundle = await client.searchWithStrictHandling("Patient", query);
    if (bundle.total === undefined) throw new Error('the data repository answered _summary=count without a total');
    return bundle.total;
  }
  return (await selectCohort(client, criteria)).size;
}
