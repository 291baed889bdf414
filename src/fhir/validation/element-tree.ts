// A StructureDefinition snapshot compiled into a tree the validator walks: children by JSON
// name, slices under their slicing entry, types and constraints prepared once per profile.
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import type { CompiledInvariant } from './invariants.ts';

export interface TypeRef {
  /** FHIR type code: 'string', 'CodeableConcept', 'Extension', 'Resource', ... */
  code: string;
  profiles: string[];
  targetProfiles: string[];
}

export interface Invariant {
  key: string;
  severity: 'error';
  human: string;
  expression: string;
  /** Constraints added by a (non-HL7) profile: evaluation failures are reported, not ignored. */
  fromProfile: boolean;
  /** The runnable form, bound on first use (compiling every constraint of a profile up front is wasted on unused ones). */
  compiled?: CompiledInvariant;
}

export interface Discriminator {
  type: string;
  path: string;
}

export interface ElementNode {
  id: string;
  path: string;
  /** JSON property name; for choice elements the name without '[x]'. */
  name: string;
  choice: boolean;
  min: number;
  max: number;
  /** Whether the element repeats in the base (JSON arrays), independent of profile constraints on max. */
  isArray: boolean;
  types: TypeRef[];
  /** Children present in the snapshot (backbone elements, or type children unrolled by a profile). */
  children: ElementNode[];
  childByName: Map<string, ElementNode>;
  slicing?: { discriminators: Discriminator[]; rules: string; ordered: boolean };
  slices: ElementNode[];
  sliceName?: string;
  fixed?: unknown;
  pattern?: unknown;
  /** `fixedUri`, `patternCodeableConcept`, ... for messages. */
  fixedOrPatternName?: string;
  requiredValueSet?: string;
  invariants: Invariant[];
  /** '#Questionnaire.item': children come from that element. */
  contentReference?: string;
  /** JSON key ('valueString') -> child, its position in `children` and chosen type, built on first use. */
  jsonKeys?: Map<string, JsonKeyHit>;
  /** The children with min > 0 with their positions, in order, built on first use. */
  requiredChildren?: { node: ElementNode; index: number }[];
}

/** A JSON key's element among an owner's children. */
export interface JsonKeyHit {
  node: ElementNode;
  /** Position of `node` in the owner's children (the order validation reports in). */
  index: number;
  type: TypeRef;
}

export interface CompiledStructure {
  url: string;
  type: string;
  kind: string;
  root: ElementNode;
  byId: Map<string, ElementNode>;
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const HL7_STRUCTURE = 'http://hl7.org/fhir/StructureDefinition/';
/** Checked natively (cheaper than FHIRPath on every element). */
export const NATIVE_INVARIANTS = new Set(['ele-1', 'ext-1']);

function typeCode(t: NonNullable<ElementDefinition['type']>[number], isResourceId: boolean): string {
  const code = t.code ?? 'Element';
  if (!code.startsWith('http://hl7.org/fhirpath/System.')) return code;
  if (isResourceId) return 'id';
  const fhirType = t.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION);
  return fhirType?.valueUrl ?? fhirType?.valueUri ?? 'string';
}

function firstFixedOrPattern(e: ElementDefinition): { name: string; value: unknown; fixed: boolean } | undefined {
  for (const [key, value] of Object.entries(e)) {
    if (value === undefined) continue;
    if (key.startsWith('fixed') && key.length > 5) return { name: key, value, fixed: true };
    if (key.startsWith('pattern') && key.length > 7) return { name: key, value, fixed: false };
  }
  return undefined;
}

function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

export function compileStructure(sd: StructureDefinition): CompiledStructure {
  const elements = sd.snapshot?.element ?? [];
  if (!elements.length) throw new Error(`StructureDefinition ${sd.url} has no snapshot`);
  const byId = new Map<string, ElementNode>();
  const rootPath = elements[0]!.path!;
  const isResource = sd.kind === 'resource';
  let root: ElementNode | undefined;
  for (const e of elements) {
    const id = e.id ?? e.path!;
    const dot = id.lastIndexOf('.');
    const parentId = dot < 0 ? undefined : id.slice(0, dot);
    const segment = dot < 0 ? id : id.slice(dot + 1);
    const colon = segment.indexOf(':');
    const rawName = colon < 0 ? segment : segment.slice(0, colon);
    const choice = rawName.endsWith('[x]');
    const fp = firstFixedOrPattern(e);
    const isResourceId = isResource && e.path === `${rootPath}.id`;
    const node: ElementNode = {
      id,
      path: e.path!,
      name: choice ? rawName.slice(0, -3) : rawName,
      choice,
      min: e.min ?? 0,
      max: parseMax(e.max),
      isArray: (e.base?.max ?? e.max ?? '1') !== '1' && parentId !== undefined,
      types: (e.type ?? []).map((t) => ({
        code: typeCode(t, isResourceId),
        profiles: t.profile ?? [],
        targetProfiles: t.targetProfile ?? [],
      })),
      children: [],
      childByName: new Map(),
      slices: [],
      invariants: (e.constraint ?? [])
        .filter((c) => c.expression && c.severity === 'error' && !NATIVE_INVARIANTS.has(c.key!))
        .map((c) => ({
          key: c.key!,
          severity: 'error' as const,
          human: c.human ?? c.key!,
          expression: c.expression!,
          fromProfile: !!c.source && !c.source.startsWith(HL7_STRUCTURE),
        })),
      contentReference: e.contentReference,
    };
    if (e.sliceName) node.sliceName = e.sliceName;
    if (e.slicing) {
      node.slicing = {
        discriminators: (e.slicing.discriminator ?? []).map((d) => ({ type: d.type!, path: d.path! })),
        rules: e.slicing.rules ?? 'open',
        ordered: !!e.slicing.ordered,
      };
    }
    if (fp) {
      node.fixedOrPatternName = fp.name;
      if (fp.fixed) node.fixed = fp.value;
      else node.pattern = fp.value;
    }
    if (e.binding?.strength === 'required' && e.binding.valueSet) node.requiredValueSet = e.binding.valueSet;
    byId.set(id, node);
    if (parentId === undefined) {
      root ??= node;
      continue;
    }
    if (colon >= 0) {
      const entry = byId.get(`${parentId}.${rawName}`);
      entry?.slices.push(node);
      if (entry) node.isArray = entry.isArray;
      continue;
    }
    const parent = byId.get(parentId);
    if (!parent) continue;
    parent.children.push(node);
    parent.childByName.set(node.name, node);
  }
  return { url: sd.url ?? rootPath, type: sd.type ?? rootPath, kind: sd.kind ?? 'resource', root: root!, byId };
}

function typeSuffix(code: string): string {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

/** The child and type a JSON property of an instance addresses, among the owner's children. */
export function lookupJsonKey(owner: ElementNode, key: string): JsonKeyHit | undefined {
  if (!owner.jsonKeys) {
    const map = new Map<string, JsonKeyHit>();
    owner.children.forEach((child, index) => {
      if (child.choice) {
        for (const type of child.types) map.set(child.name + typeSuffix(type.code), { node: child, index, type });
      } else {
        map.set(child.name, { node: child, index, type: child.types[0] ?? { code: 'Element', profiles: [], targetProfiles: [] } });
      }
    });
    owner.jsonKeys = map;
  }
  return owner.jsonKeys.get(key);
}

/** The owner's children that must be present (min > 0), with their positions in `children`. */
export function requiredChildren(owner: ElementNode): { node: ElementNode; index: number }[] {
  if (!owner.requiredChildren) {
    const required: { node: ElementNode; index: number }[] = [];
    owner.children.forEach((node, index) => {
      if (node.min > 0) required.push({ node, index });
    });
    owner.requiredChildren = required;
  }
  return owner.requiredChildren;
}
