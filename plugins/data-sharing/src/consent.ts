// Which patients' consent permits the purpose of a data-sharing request: an active Consent whose policy
// is the MII broad consent and whose provisions permit the purpose's code at the time of the request.
// No Consent, another policy, an inactive one, a period that does not cover the date or a deny on the
// purpose: the patient is left out.
import type { Coding, Consent, ConsentProvision } from '@medplum/fhirtypes';
import type { FhirClient } from '../../../src/plugin-api/index.ts';

/** The MII broad consent (policy) and its provision "use of medical data for research" (the default purpose). */
export const MII_BROAD_CONSENT_POLICY = 'urn:oid:2.16.840.1.113883.3.1937.777.24.2.1790';
export const MII_PROVISION_SYSTEM = 'urn:oid:2.16.840.1.113883.3.1937.777.24.5.3';
export const MII_RESEARCH_USE_CODE = '2.16.840.1.113883.3.1937.777.24.5.3.8';

const PAGE_SIZE = 1000;
const MAX_PAGES = 10_000;

function covers(period: { start?: string; end?: string } | undefined, at: string): boolean {
  if (!period) return true;
  return (!period.start || period.start.slice(0, 10) <= at) && (!period.end || at <= period.end.slice(0, 10));
}

const mentions = (provision: ConsentProvision, purpose: Coding) => (provision.code ?? []).some((c) => (c.coding ?? []).some((x) => x.system === purpose.system && x.code === purpose.code));

/** permit or deny of the most specific provision about the purpose, undefined when none speaks of it. */
function decisionFor(provision: ConsentProvision | undefined, purpose: Coding, at: string): 'permit' | 'deny' | undefined {
  if (!provision || !covers(provision.period, at)) return undefined;
  let decision: 'permit' | 'deny' | undefined;
  for (const nested of provision.provision ?? []) {
    const d = decisionFor(nested, purpose, at);
    if (d === 'deny') return 'deny';
    if (d) decision = d;
  }
  if (decision) return decision;
  return mentions(provision, purpose) ? provision.type : undefined;
}

/** True when this Consent lets the patient's data be used for the purpose on the date (YYYY-MM-DD). */
export function consentPermits(consent: Consent, purpose: Coding, at: string): boolean {
  if (consent.status !== 'active') return false;
  if (!(consent.policy ?? []).some((p) => p.uri === MII_BROAD_CONSENT_POLICY)) return false;
  // A base provision of type deny denies everything its nested provisions do not permit; the purpose
  // must be permitted explicitly.
  return decisionFor(consent.provision, purpose, at) === 'permit';
}

const patientIdOf = (reference: string | undefined) => /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(reference ?? '')?.[1];

/** The patients (ids in the repository) of the cohort with a Consent permitting the purpose; a deny anywhere excludes. */
export async function consentingPatients(repository: FhirClient, cohort: ReadonlySet<string>, purpose: Coding, at: string): Promise<Set<string>> {
  const permitted = new Set<string>();
  const denied = new Set<string>();
  for (let page = 1; page <= MAX_PAGES; page++) {
    const bundle = await repository.searchWithStrictHandling('Consent', { status: 'active', _count: String(PAGE_SIZE), _page: String(page) });
    const consents = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Consent => r?.resourceType === 'Consent');
    for (const consent of consents) {
      const patient = patientIdOf(consent.patient?.reference);
      if (!patient || !cohort.has(patient)) continue;
      (consentPermits(consent, purpose, at) ? permitted : denied).add(patient);
    }
    if (consents.length < PAGE_SIZE) break;
  }
  return new Set([...permitted].filter((p) => !denied.has(p)));
}
