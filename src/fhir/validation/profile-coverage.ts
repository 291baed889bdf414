// Whether a compiled profile holds at least every constraint its resource type's base definition holds,
// so that a resource the profile finds nothing wrong with has nothing wrong with it by the base
// definition either. The validator then walks such a resource once (the profile) instead of twice
// (base, then profile); a resource with any issue is walked both ways as before, so every answer stays
// the same. Decided once per compiled profile, conservatively: anything not understood here (a
// fixed value in the base, a type profile, a different content reference, a choice unrolled by the
// profile) counts as not covered, and the resource is walked both ways.
import type { CompiledStructure, ElementNode, TypeRef } from './element-tree.ts';

/** How the validator finds a datatype's base definition and a compiled profile. */
export interface Definitions {
  base(type: string): CompiledStructure | undefined;
  profile(url: string): CompiledStructure | undefined;
  /** The resource type a reference's target profile names (null: unknown), as the validator checks references. */
  targetType(url: string): string | null;
}

const HL7_STRUCTURE = 'http://hl7.org/fhir/StructureDefinition/';

const MAX_DEPTH = 32;
const covered = new WeakMap<CompiledStructure, WeakMap<CompiledStructure, boolean>>();

/** Whether `profile` constrains every element, cardinality, type, required binding and invariant of `base`. */
export function profileCoversBase(profile: CompiledStructure, base: CompiledStructure, defs: Definitions): boolean {
  let byBase = covered.get(profile);
  if (!byBase) covered.set(profile, (byBase = new WeakMap()));
  let result = byBase.get(base);
  if (result === undefined) {
    byBase.set(base, false); // a profile that reaches itself through its types counts as not covered
    result = profile !== base && profile.type === base.type && profile.kind === base.kind && nodeCovers(profile.root, base.root, defs, 0, profile.type === 'Extension');
    byBase.set(base, result);
  }
  return result;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function typeCovers(p: TypeRef, base: readonly TypeRef[], defs: Definitions): boolean {
  const b = base.find((t) => t.code === p.code);
  if (!b) return false;
  // A type profile replaces the walk of the type's base definition (and of its own invariants, but
  // for HL7's): the same ones, or one (not HL7's) where the base has none that covers the type's definition.
  if (!sameList(p.profiles, b.profiles)) {
    if (b.profiles.length || p.profiles.length !== 1 || p.profiles[0]!.startsWith(HL7_STRUCTURE)) return false;
    const typeProfile = defs.profile(p.profiles[0]!);
    const typeBase = defs.base(p.code);
    if (!typeProfile || !typeBase || typeProfile.url.startsWith(HL7_STRUCTURE) || !profileCoversBase(typeProfile, typeBase, defs)) return false;
  }
  // References are checked by the types their target profiles name; a base that names an unknown type
  // or any Resource checks none. Otherwise the profile's targets must all name known types the base allows
  // (no targets, or an unknown one, and the profile checks none: looser).
  if (!b.targetProfiles.length) return true;
  const baseTypes = b.targetProfiles.map((u) => defs.targetType(u));
  if (baseTypes.some((t) => t === null || t === 'Resource')) return true;
  return (
    p.targetProfiles.length > 0 &&
    p.targetProfiles.every((u) => {
      const t = defs.targetType(u);
      return t !== null && t !== 'Resource' && baseTypes.includes(t);
    })
  );
}

/** The element itself: invariants, required binding, fixed values, types; then what is inside it. */
function nodeCovers(p: ElementNode, b: ElementNode, defs: Definitions, depth: number, inExtension: boolean): boolean {
  if (depth > MAX_DEPTH) return false;
  if (b.fixed !== undefined || b.pattern !== undefined) return false;
  if (p.contentReference !== b.contentReference) return false;
  if (b.requiredValueSet !== undefined && p.requiredValueSet !== b.requiredValueSet) return false;
  for (const inv of b.invariants) if (!p.invariants.some((x) => x.key === inv.key && x.expression === inv.expression)) return false;
  if (b.types.length && !p.types.every((t) => typeCovers(t, b.types, defs))) return false;
  if (!b.types.length && p.types.length) return false;
  for (const slice of p.slices) if (!nodeCovers(slice, b, defs, depth + 1, inExtension)) return false;
  if (b.children.length) return childrenCover(p, b, defs, depth, inExtension || p.types.some((t) => t.code === 'Extension'));
  if (!p.children.length) return true; // both walk the type's own definition
  // The profile unrolls a datatype (of one type) the base walks by its definition: compare with that
  // definition. An extension outside extensions the base walks by the definition its url names: not
  // compared here (inside one, a sub-extension is walked by the Extension definition).
  if (p.types.length !== 1) return false;
  const code = p.types[0]!.code;
  if (code === 'Extension' && !inExtension) return false;
  const typeRoot = defs.base(code)?.root;
  return typeRoot !== undefined && childrenCover(p, typeRoot, defs, depth, inExtension || code === 'Extension');
}

/** Every child the base knows is in the profile, at most as many times; the profile knows no other. */
function childrenCover(p: ElementNode, b: ElementNode, defs: Definitions, depth: number, inExtension: boolean): boolean {
  if (p.children.length !== b.children.length) return false;
  for (const bc of b.children) {
    const pc = p.childByName.get(bc.name);
    if (!pc || pc.choice !== bc.choice || pc.isArray !== bc.isArray || pc.min < bc.min || pc.max > bc.max) return false;
    if (!nodeCovers(pc, bc, defs, depth + 1, inExtension)) return false;
  }
  return true;
}
