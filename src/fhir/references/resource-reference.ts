// One reference found in a resource (a Reference, a canonical, or the url of a RelatedArtifact or
// Attachment), where it sits, which target types the element allows, and what kind of reference it is.
// The kinds and their precedence are the reference server's (its ResourceReference.getType).
import { r4ResourceTypes } from '../model/definitions.ts';

export type ReferenceElement = 'reference' | 'canonical' | 'related-artifact' | 'attachment';

export type ReferenceKind =
  /** urn:uuid:... that a transaction entry should have defined */
  | 'temporary'
  /** Type/id or <this server's base>/Type/id, optionally /_history/v */
  | 'literal-internal'
  /** <another server's base>/Type/id */
  | 'literal-external'
  /** type + identifier.system + identifier.value, no literal part */
  | 'logical'
  /** Type?search (resolved in batch and transaction bundles only) */
  | 'conditional'
  | 'canonical'
  /** none of the above: refused, except a url of a RelatedArtifact or Attachment (may point anywhere) */
  | 'unknown';

type Obj = Record<string, any>;

export interface ResourceReference {
  /** Where it sits, as the reference names it in its messages, e.g. "Task.requester", "Task.input". */
  location: string;
  element: ReferenceElement;
  /** Target types the element allows; empty: any. */
  targets: readonly string[];
  /** The object holding the value: the Reference, RelatedArtifact or Attachment; for canonicals the parent. */
  holder: Obj;
  /** For canonicals: the key (or array index) under which the canonical string sits in holder. */
  key?: string | number;
}

export interface LiteralParts {
  /** Base URL for absolute references, undefined for relative ones. */
  base?: string;
  type: string;
  id: string;
  version?: string;
}

const TEMPORARY_RE = /^urn:uuid:.+$/;
// The reference's pattern: an optional http(s) base of "path segments", a resource type, an id, a version.
const LITERAL_RE = /^(?:((?:http|https):\/\/(?:[A-Za-z0-9\-\\.:%$]*\/)+))?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const CONDITIONAL_RE = /^([A-Z][A-Za-z]+)\?.*$/s;

const stripSlash = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);

/** A concrete R4 resource type name (the map's value says whether the type is abstract). */
function isResourceTypeName(name: string): boolean {
  const types = r4ResourceTypes();
  return Object.hasOwn(types, name) && !types[name];
}

/** The parts of a literal reference to a known resource type, or undefined. */
export function literalParts(value: string): LiteralParts | undefined {
  const m = LITERAL_RE.exec(value);
  if (!m || !isResourceTypeName(m[2]!)) return undefined;
  return { base: m[1] ? stripSlash(m[1]) : undefined, type: m[2]!, id: m[3]!, version: m[4] };
}

export function isConditional(value: string): boolean {
  const m = CONDITIONAL_RE.exec(value);
  return !!m && isResourceTypeName(m[1]!);
}

/** The string a reference carries: Reference.reference, the canonical, or the url. */
export function referenceValue(ref: ResourceReference): string | undefined {
  const v = ref.element === 'canonical' ? ref.holder[ref.key!] : ref.element === 'reference' ? ref.holder.reference : ref.holder.url;
  return typeof v === 'string' ? v : undefined;
}

function urlKind(value: string, localBase: string): ReferenceKind {
  if (TEMPORARY_RE.test(value)) return 'temporary';
  const lit = literalParts(value);
  if (lit) return !lit.base || lit.base === stripSlash(localBase) ? 'literal-internal' : 'literal-external';
  if (isConditional(value)) return 'conditional';
  return 'unknown';
}

export function referenceKind(ref: ResourceReference, localBase: string): ReferenceKind {
  const value = referenceValue(ref);
  if (ref.element === 'canonical') return value ? 'canonical' : 'unknown';
  if (ref.element !== 'reference') return value !== undefined ? urlKind(value, localBase) : 'unknown';
  if (value !== undefined) return urlKind(value, localBase);
  const h = ref.holder;
  const identifier = h.identifier as Obj | undefined;
  if (typeof h.type === 'string' && identifier && typeof identifier.system === 'string' && typeof identifier.value === 'string') return 'logical';
  return 'unknown';
}

/** Whether the element accepts a target of this type. */
export function allowsType(ref: ResourceReference, type: string): boolean {
  return ref.targets.length === 0 || ref.targets.includes(type);
}
