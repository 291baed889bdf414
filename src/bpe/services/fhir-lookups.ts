// Small helpers for reading searchsets: matches and includes, references between them, identifiers,
// and the searches of the providers (strict handling, every page).
import type { Bundle, BundleEntry, Coding, Identifier, Reference, Resource } from '@medplum/fhirtypes';
import { ORGANIZATION_IDENTIFIER_SID, ORGANIZATION_ROLE_SYSTEM, type CodeOrCoding, type FhirClient, type IdentifierOrValue, type SearchParams } from '../../plugin-api/index.ts';

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

/**
 * Whether the reference points to this resource: by its literal part, or, for a reference the server
 * returned without one (it had an identifier: the reference cleaner drops the literal), by that identifier.
 */
export function refersToOrIdentifies(reference: Reference | undefined, resource: Resource & { identifier?: Identifier[] }): boolean {
  if (refersTo(reference, resource)) return true;
  const id = reference?.reference === undefined ? reference?.identifier : undefined;
  return !!id?.value && (resource.identifier ?? []).some((i) => i.value === id.value && (id.system === undefined || i.system === id.system));
}

export function identifierValue(identifiers: Identifier[] | undefined, system: string): string | undefined {
  return identifiers?.find((i) => i.system === system)?.value;
}

/** An identifier given as value (of the default system) or Identifier, as a token search value; undefined for none. */
export function identifierToken(identifier: IdentifierOrValue | null | undefined, defaultSystem: string): string | undefined {
  if (identifier === null || identifier === undefined) return undefined;
  if (typeof identifier === 'string') return `${defaultSystem}|${identifier}`;
  if (!identifier.value) return undefined;
  return identifier.system ? `${identifier.system}|${identifier.value}` : identifier.value;
}

/** A code (of the default system) or Coding as a token search value; undefined for none. */
export function codingToken(coding: CodeOrCoding | null | undefined, defaultSystem: string): string | undefined {
  if (coding === null || coding === undefined) return undefined;
  if (typeof coding === 'string') return `${defaultSystem}|${coding}`;
  const c = coding as Coding;
  if (!c.code) return undefined;
  return c.system ? `${c.system}|${c.code}` : c.code;
}

/** Every entry of a search with strict handling, page after page (sorted by _id, as the reference). */
export async function searchEntries(client: FhirClient, type: string, params: Record<string, string | string[]>, maxPages = 1_000): Promise<BundleEntry[]> {
  const out: BundleEntry[] = [];
  let bundle = await client.searchWithStrictHandling(type, { _sort: '_id', ...params } as SearchParams);
  for (let page = 0; page < maxPages; page++) {
    out.push(...(bundle.entry ?? []).filter((e) => e.resource && e.search));
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    bundle = await client.searchWithStrictHandling(next);
  }
  return out;
}

/**
 * `Organization/<id>,...` of the organisations with this identifier token, for reference searches on
 * OrganizationAffiliation. The reference FHIR server resolves `primary-organization:identifier` through
 * the referenced Organization; ours matches only Reference.identifier, and DSF affiliations carry
 * literal references: looking the ids up first works with both. Undefined when none exists.
 */
export async function organizationReferences(client: FhirClient, identifier: string): Promise<string | undefined> {
  const bundle = await client.searchWithStrictHandling('Organization', { identifier, _elements: 'id', _count: 100 });
  const ids = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Organization' && (e.search?.mode ?? 'match') === 'match' && e.resource.id).map((e) => `Organization/${e.resource!.id}`);
  return ids.length ? ids.join(',') : undefined;
}

/** The resources once each, by id, in the order first seen. */
export function distinct<R extends { id?: string }>(list: R[]): R[] {
  return list.filter((r, i) => list.findIndex((x) => x.id === r.id) === i);
}

/**
 * The resources of `type` that the active affiliations of a parent organisation include through
 * `include` (e.g. `OrganizationAffiliation:endpoint`), optionally only affiliations in a member role;
 * each once. An unusable parent or role gives none.
 */
export async function includedThroughAffiliations<R extends Resource>(
  client: FhirClient,
  parentIdentifier: IdentifierOrValue | null | undefined,
  memberRole: CodeOrCoding | null | undefined,
  include: string,
  type: R['resourceType'],
): Promise<R[]> {
  const parent = identifierToken(parentIdentifier, ORGANIZATION_IDENTIFIER_SID);
  if (!parent) return [];
  let role: string | undefined;
  if (memberRole !== undefined) {
    role = codingToken(memberRole, ORGANIZATION_ROLE_SYSTEM);
    if (!role) return [];
  }
  const parents = await organizationReferences(client, parent);
  if (!parents) return [];
  const params: Record<string, string> = { active: 'true', 'primary-organization': parents, _include: include };
  if (role) params.role = role;
  const entries = await searchEntries(client, 'OrganizationAffiliation', params);
  return distinct(entries.filter((e) => e.search?.mode === 'include' && e.resource?.resourceType === type).map((e) => e.resource as R));
}
