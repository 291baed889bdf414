// Synthetic patients as FHIR transaction Bundles of bounded size (a patient's resources always in the
// same Bundle: they reference the Patient by its urn:uuid full URL), and loading them over the FHIR API.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { syntheticPatients, type SyntheticDataOptions, type SyntheticPatient } from './synthetic-patients.ts';

function entry(resource: Resource, fullUrl?: string): BundleEntry {
  return { ...(fullUrl ? { fullUrl } : {}), resource, request: { method: 'POST', url: resource.resourceType } };
}

export function patientEntries(p: SyntheticPatient): BundleEntry[] {
  return [entry(p.patient, p.fullUrl), ...p.conditions.map((c) => entry(c)), ...p.observations.map((o) => entry(o)), ...(p.consent ? [entry(p.consent)] : [])];
}

/** Transaction Bundles of `patientsPerBundle` patients each (default 100). */
export function* repositoryBundles(patients: Iterable<SyntheticPatient>, patientsPerBundle = 100): Generator<Bundle> {
  let entries: BundleEntry[] = [];
  let inBundle = 0;
  for (const p of patients) {
    entries.push(...patientEntries(p));
    if (++inBundle === patientsPerBundle) {
      yield { resourceType: 'Bundle', type: 'transaction', entry: entries };
      entries = [];
      inBundle = 0;
    }
  }
  if (entries.length) yield { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

export interface LoadSummary {
  patients: number;
  resources: number;
  bundles: number;
  ms: number;
}

/**
 * Generates and posts the synthetic data of a site; `post` sends one transaction Bundle (to the
 * repository's base URL) and fails on an error. `parallel` bundles are in flight at once (default 2).
 */
export async function loadSyntheticData(post: (bundle: Bundle) => Promise<unknown>, options: SyntheticDataOptions & { patientsPerBundle?: number; parallel?: number; progress?: (done: number) => void }): Promise<LoadSummary> {
  const started = performance.now();
  const summary: LoadSummary = { patients: 0, resources: 0, bundles: 0, ms: 0 };
  const bundles = repositoryBundles(syntheticPatients(options), options.patientsPerBundle);
  const worker = async () => {
    for (let next = bundles.next(); !next.done; next = bundles.next()) {
      const bundle = next.value;
      summary.bundles++;
      summary.resources += bundle.entry!.length;
      summary.patients += bundle.entry!.filter((e) => e.resource?.resourceType === 'Patient').length;
      await post(bundle);
      options.progress?.(summary.patients);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, worker));
  summary.ms = performance.now() - started;
  return summary;
}
