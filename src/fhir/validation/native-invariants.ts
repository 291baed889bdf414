// Invariants that run on nearly every write, decided in TypeScript instead of FHIRPath. Each entry is
// keyed by the exact expression text, so a profile that changes an expression gets FHIRPath again.
// A native check answers only the shapes it is sure about (the common, valid ones) and returns
// undefined for anything else, which then goes to FHIRPath: the result is always FHIRPath's.
// test/fhir/validation/native-invariants.test.ts compares both on a corpus.

/** true: the invariant holds; false: it fails; undefined: not decided here (ask FHIRPath). */
export type NativeInvariant = (value: unknown) => boolean | undefined;

type Json = Record<string, unknown>;

const READ_ACCESS = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
const ORGANIZATION_ID = 'http://dsf.dev/sid/organization-identifier';
const PRACTITIONER_ID = 'http://dsf.dev/sid/practitioner-identifier';

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string property without a primitive extension (`companion`, '_x'): absent is undefined, anything odder is null. */
function plainString(obj: Json, key: string, companion: string): string | undefined | null {
  if (obj[companion] !== undefined) return null;
  const v = obj[key];
  return v === undefined || typeof v === 'string' ? v : null;
}

/** Holds when the resource contains no resources: every dom-2..dom-5 expression starts at `contained`. */
const withoutContained: NativeInvariant = (value) => (isObject(value) && value.contained === undefined ? true : undefined);

/**
 * `tag.where(system = S [and code = C]).exists()` on a Meta: whether some tag has that system (and
 * code). undefined when a tag is not a plain Coding with string system and code.
 */
function hasTag(meta: unknown, system: string, code?: string): boolean | undefined {
  if (!isObject(meta)) return undefined;
  const tags = meta.tag;
  if (tags === undefined) return false;
  if (!Array.isArray(tags)) return undefined;
  let found = false;
  for (const tag of tags) {
    if (!isObject(tag)) return undefined;
    const s = plainString(tag, 'system', '_system');
    const c = plainString(tag, 'code', '_code');
    if (s === null || c === null) return undefined;
    if (s === system && (code === undefined || c === code)) found = true;
  }
  return found;
}

/** `A implies B` where both sides are single booleans (exists(), not()). */
function implies(a: boolean | undefined, b: () => boolean | undefined): boolean | undefined {
  if (a === undefined) return undefined;
  if (!a) return true;
  return b();
}

const not = (b: boolean | undefined) => (b === undefined ? undefined : !b);

const tagWhere = (code: string) => `tag.where(system = '${READ_ACCESS}' and code = '${code}').exists()`;

/** `identifier.system = S implies type.empty() or type = T` on a Reference. */
function identifierImpliesType(systemName: string, type: string): NativeInvariant {
  return (value) => {
    if (!isObject(value)) return undefined;
    const t = plainString(value, 'type', '_type');
    if (t === null) return undefined;
    const identifier = value.identifier;
    if (identifier === undefined) return true;
    if (!isObject(identifier)) return undefined;
    const system = plainString(identifier, 'system', '_system');
    if (system === null) return undefined;
    // An absent system makes the left side empty: 'empty implies X' is true or empty, never false.
    if (system === undefined || system !== systemName) return true;
    return t === undefined || t === type;
  };
}

/** `$this = A or $this = B` on a string. */
function oneOf(a: string, b: string): NativeInvariant {
  return (value) => (typeof value === 'string' ? value === a || value === b : undefined);
}

const NATIVE: Record<string, NativeInvariant> = {
  // dom-2, dom-3, dom-4, dom-5 (R4 DomainResource)
  'contained.contained.empty()': withoutContained,
  "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()":
    withoutContained,
  'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': withoutContained,
  'contained.meta.security.empty()': withoutContained,
  // ref-1 (R4 Reference): only a local reference ('#id') needs the contained resources.
  "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": (value) => {
    if (!isObject(value)) return undefined;
    const ref = plainString(value, 'reference', '_reference');
    if (ref === null) return undefined;
    return ref === undefined || !ref.startsWith('#') ? true : undefined;
  },
  // DSF Meta: read-access tags
  [`tag.where(system = '${READ_ACCESS}').exists()`]: (meta) => hasTag(meta, READ_ACCESS),
  [`${tagWhere('ORGANIZATION')} implies ${tagWhere('LOCAL')}`]: (meta) => implies(hasTag(meta, READ_ACCESS, 'ORGANIZATION'), () => hasTag(meta, READ_ACCESS, 'LOCAL')),
  [`${tagWhere('ROLE')} implies ${tagWhere('LOCAL')}`]: (meta) => implies(hasTag(meta, READ_ACCESS, 'ROLE'), () => hasTag(meta, READ_ACCESS, 'LOCAL')),
  [`${tagWhere('ALL')} implies ${tagWhere('LOCAL')}.not()`]: (meta) => implies(hasTag(meta, READ_ACCESS, 'ALL'), () => not(hasTag(meta, READ_ACCESS, 'LOCAL'))),
  [`${tagWhere('ALL')} implies ${tagWhere('ORGANIZATION')}.not()`]: (meta) => implies(hasTag(meta, READ_ACCESS, 'ALL'), () => not(hasTag(meta, READ_ACCESS, 'ORGANIZATION'))),
  [`${tagWhere('ALL')} implies ${tagWhere('ROLE')}.not()`]: (meta) => implies(hasTag(meta, READ_ACCESS, 'ALL'), () => not(hasTag(meta, READ_ACCESS, 'ROLE'))),
  // DSF Task.requester, Task.restriction.recipient, QuestionnaireResponse.author
  [`identifier.system = '${ORGANIZATION_ID}' implies type.empty() or type = 'Organization'`]: identifierImpliesType(ORGANIZATION_ID, 'Organization'),
  [`identifier.system = '${PRACTITIONER_ID}' implies type.empty() or type = 'Practitioner'`]: identifierImpliesType(PRACTITIONER_ID, 'Practitioner'),
  [`$this = '${ORGANIZATION_ID}' or $this = '${PRACTITIONER_ID}'`]: oneOf(ORGANIZATION_ID, PRACTITIONER_ID),
};

/** The native check for an invariant expression, if there is one. */
export function nativeInvariant(expression: string): NativeInvariant | undefined {
  return Object.hasOwn(NATIVE, expression) ? NATIVE[expression] : undefined;
}

/** The expressions decided natively (for the equivalence test). */
export function nativeInvariantExpressions(): string[] {
  return Object.keys(NATIVE);
}
