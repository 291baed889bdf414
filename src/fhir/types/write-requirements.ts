// The building blocks of the reference's per-type write rules besides read-access tags (its
// newResourceOk and modificationsOk): what a resource must carry to be written, and which of its
// identity keys an update may not change. The type modules list theirs; refusals are 403, before validation.
import type { Identifier, Reference, Resource } from '@medplum/fhirtypes';
import { parseReference } from '../search/reference.ts';
import { canonicalJson } from './canonical-json.ts';

const PUBLICATION_STATUS = ['draft', 'active', 'retired'];

/** Why the resource may not be written, or undefined. */
export type Requirement<T extends Resource = Resource> = (resource: T) => string | undefined;

/** An element an update may not change, with how to compare it. */
export interface Immutable<T extends Resource = Resource> {
  name: string;
  same(previous: T, next: T, baseUrl: string): boolean;
}

/** Values of the resource's identifiers with this system. */
export const identifierValues = (r: Resource, system: string): string[] =>
  (((r as { identifier?: Identifier[] }).identifier ?? []) as Identifier[]).filter((i) => i?.system === system && typeof i.value === 'string' && i.value !== '').map((i) => i.value!);

export const present = <T extends Resource>(path: string, get: (r: T) => unknown): Requirement<T> => (r) => (get(r) === undefined || get(r) === '' ? `${path} not defined` : undefined);

export const publicationStatus = <T extends Resource>(type: string): Requirement<T> => (r) => {
  const status = (r as { status?: string }).status;
  return status === undefined ? `${type}.status not defined` : PUBLICATION_STATUS.includes(status) ? undefined : `${type}.status not one of draft, active or retired`;
};

export const oneIdentifier = <T extends Resource>(type: string, system: string): Requirement<T> => (r) =>
  identifierValues(r, system).length === 1 ? undefined : `${type}.identifier: exactly one with system ${system} and a value expected`;

export const literalReference = <T extends Resource>(path: string, get: (r: T) => Reference | undefined): Requirement<T> => (r) =>
  typeof get(r)?.reference === 'string' ? undefined : `${path}.reference missing`;

/** Why the resource may not be written (empty: it may). */
export function requirementProblems<T extends Resource>(requirements: readonly Requirement<T>[], resource: T): string[] {
  return requirements.map((check) => check(resource)).filter((p): p is string => p !== undefined);
}

/** The target of a reference in one comparable form: the local literal reference, and the identifier. */
function target(ref: Reference | undefined, baseUrl: string): { reference?: string; identifier?: string } {
  if (!ref) return {};
  const parsed = typeof ref.reference === 'string' ? parseReference(ref.reference, baseUrl) : undefined;
  return {
    reference: parsed?.local ? `${parsed.type}/${parsed.id}` : typeof ref.reference === 'string' ? ref.reference : undefined,
    identifier: ref.identifier ? canonicalJson({ system: ref.identifier.system, value: ref.identifier.value }) : undefined,
  };
}

/** Same target when a form both sides have agrees (a client may send back a reference without its resolved literal part). */
function sameTarget(a: Reference | undefined, b: Reference | undefined, baseUrl: string): boolean {
  const x = target(a, baseUrl);
  const y = target(b, baseUrl);
  if (x.reference && y.reference) return x.reference === y.reference;
  if (x.identifier && y.identifier) return x.identifier === y.identifier;
  return !x.reference && !x.identifier && !y.reference && !y.identifier;
}

export const unchanged = <T extends Resource>(name: string, get: (r: T) => unknown): Immutable<T> => ({ name, same: (a, b) => canonicalJson(get(a)) === canonicalJson(get(b)) });

export const sameReferenceTarget = <T extends Resource>(name: string, get: (r: T) => Reference | undefined): Immutable<T> => ({
  name,
  same: (a, b, base) => sameTarget(get(a), get(b), base),
});

/** The identity keys an update changes that may not change, as `Type.element`. */
export function immutableChanges<T extends Resource>(immutables: readonly Immutable<T>[], previous: T, next: T, baseUrl: string): string[] {
  return immutables.filter((f) => !f.same(previous, next, baseUrl)).map((f) => `${next.resourceType}.${f.name}`);
}
