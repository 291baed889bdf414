// What a caller may read, as data: the type modules and authorization describe read access with these
// conditions on a stored resource version, and the store turns them into SQL (access-sql.ts) wherever
// it reads: search matches and totals, includes, reads, history, conditional matches, event checks.

/** A path into the resource JSON, e.g. ['restriction', 'recipient']. */
export type JsonPath = readonly string[];

/** The caller as read-access tags see it. */
export interface TagCaller {
  /** The local organisation or one of its users (LOCAL tags). */
  local: boolean;
  /** id of the caller's Organization resource (ORGANIZATION tags need it active; ROLE tags its memberships). */
  organizationId?: string;
  /** Its organization-identifier value. */
  organizationIdentifier: string;
}

export type AccessCondition =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'or'; readonly of: readonly AccessCondition[] }
  | { readonly kind: 'and'; readonly of: readonly AccessCondition[] }
  /** The JSON at `path` contains `value` (jsonb @>). */
  | { readonly kind: 'contains'; readonly path: JsonPath; readonly value: unknown }
  /** The JSON at `path` contains one of `values`. */
  | { readonly kind: 'containsAny'; readonly path: JsonPath; readonly values: readonly unknown[] }
  /** The string at `path` equals `value`. */
  | { readonly kind: 'equals'; readonly path: JsonPath; readonly value: string }
  /** The resource is of one of these types. */
  | { readonly kind: 'typeIn'; readonly types: readonly string[] }
  /** The condition of the resource's own type, `otherwise` for types not listed. */
  | { readonly kind: 'byType'; readonly cases: Readonly<Record<string, AccessCondition>>; readonly otherwise: AccessCondition }
  /** One of the resource's read-access tags grants the caller access (ALL, LOCAL, ORGANIZATION, ROLE). */
  | { readonly kind: 'readAccessTags'; readonly caller: TagCaller }
  /** The resource its `securityContext` references (that version, or the current one) exists and meets `target`. */
  | { readonly kind: 'securityContext'; readonly target: AccessCondition };

/**
 * What the caller may read, asked with the types the resources can have when they are known (a search
 * of one type, an include's targets, a read), so that only their rules need to be evaluated.
 */
export type AccessFilter = (types?: readonly string[]) => AccessCondition;

export const ALL: AccessCondition = { kind: 'all' };
export const NONE: AccessCondition = { kind: 'none' };

export function anyOf(...conditions: AccessCondition[]): AccessCondition {
  if (conditions.some((c) => c.kind === 'all')) return ALL;
  const rest = conditions.filter((c) => c.kind !== 'none');
  if (!rest.length) return NONE;
  return rest.length === 1 ? rest[0]! : { kind: 'or', of: rest };
}

export function allOf(...conditions: AccessCondition[]): AccessCondition {
  if (conditions.some((c) => c.kind === 'none')) return NONE;
  const rest = conditions.filter((c) => c.kind !== 'all');
  if (!rest.length) return ALL;
  return rest.length === 1 ? rest[0]! : { kind: 'and', of: rest };
}

export const contains = (path: JsonPath, value: unknown): AccessCondition => ({ kind: 'contains', path, value });
export const containsAny = (path: JsonPath, values: readonly unknown[]): AccessCondition => (values.length ? { kind: 'containsAny', path, values } : NONE);
export const equals = (path: JsonPath, value: string): AccessCondition => ({ kind: 'equals', path, value });
export const typeIn = (types: readonly string[]): AccessCondition => ({ kind: 'typeIn', types });
export const readAccessTags = (caller: TagCaller): AccessCondition => ({ kind: 'readAccessTags', caller });
export const securityContext = (target: AccessCondition): AccessCondition => (target.kind === 'none' ? NONE : { kind: 'securityContext', target });

/** A switch on the resource type; a single possible type needs no switch. */
export function byType(cases: Record<string, AccessCondition>, otherwise: AccessCondition): AccessCondition {
  return Object.keys(cases).length ? { kind: 'byType', cases, otherwise } : otherwise;
}
