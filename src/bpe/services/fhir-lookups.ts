// Small helpers for reading searchsets: matches and includes, references between them, identifiers.
import type { Bundle, Identifier, Reference, Resource } from '@medplum/fhirtypes';

export function matches<R extends Resource>(bundle: Bundle, type: R['resourceType']): R[] {
  return (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type && (e.search?.mode ?? 'match') === 'match').map((e) => e.resource as R);
}

export function includes<R extends Resource>(bundle: Bundle, type: R['resourceType']): R[] {
  return (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type && e.search?.mode === 'include').map((e) => e.resource as R);
}

/** Whether a (relative or absolute) literal reference points to this resource. */
export function refersTo(reference: Reference | undefined, resource: Resource): boolean {
  const ref = reference?.reference;
  if (!ref || !resource.id) return false;
  const target = `${resource.resourceType}/${resource.id}`;
  return ref === target || ref.endsWith(`/${target}`) || ref.includes(`/${target}/_history/`);
}

export function identifierValue(identifiers: Identifier[] | undefined, system: string): string | undefined {
  return identifiers?.find((i) => i.system === system)?.value;
}
