// A compact model of the FHIR R4 types, derived once from the base StructureDefinitions and used for
// JSON <-> XML conversion and structural checks. Only names, types, cardinality and order are kept;
// the raw definition bundles are not referenced after the model is built.
import { baseStructureDefinition, baseStructureDefinitions, r4ResourceTypes } from './definitions.ts';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export type TypeKind = 'resource' | 'complex' | 'backbone' | 'primitive';

/** How a JSON primitive of a FHIR primitive type is represented. */
export type JsonPrimitiveKind = 'string' | 'number' | 'boolean';

/** One JSON property / XML element of a type. Choice elements (value[x]) appear once per allowed type. */
export interface ElementInfo {
  /** The JSON property and XML element name, e.g. 'status', 'valueString'. */
  readonly name: string;
  /** The definition path, e.g. 'Task.input.value[x]'. */
  readonly path: string;
  /** A type name usable with typeInfo(): 'string', 'Coding', 'Resource', 'xhtml', or a backbone path such as 'Task.input'. */
  readonly type: string;
  /** True where max != 1: the JSON value is an array and the XML element may repeat. */
  readonly array: boolean;
  /** True for FHIR primitive types other than xhtml: JSON value plus optional '_name' shadow, XML value attribute. */
  readonly primitive: boolean;
  /** True where the content is a whole resource (type Resource or a resource type): XML wraps it, JSON has resourceType. */
  readonly resource: boolean;
  /** True for Element.id and Extension.url, written as XML attributes. */
  readonly xmlAttr: boolean;
  /** Position in definition order within the owning type; choice variants share the position. */
  readonly order: number;
  /** For choice variants: the base name, e.g. 'value' for 'valueString'. */
  readonly choiceOf?: string;
  /** For recursive elements: the referenced path, e.g. 'Questionnaire.item'. */
  readonly contentReference?: string;
  /** Marked isSummary in the base definition (part of _summary=true). */
  readonly summary: boolean;
  /** Minimum cardinality in the base definition (mandatory elements stay in every summary form). */
  readonly min: number;
}

export interface TypeInfo {
  /** 'Task', 'Coding', 'string', or a backbone path such as 'Questionnaire.item'. */
  readonly name: string;
  readonly kind: TypeKind;
  readonly abstract: boolean;
  /** Elements in definition order (choice variants expanded). */
  readonly elements: readonly ElementInfo[];
  /** Elements by JSON / XML name. */
  readonly byName: ReadonlyMap<string, ElementInfo>;
}

const SYSTEM_TYPES: Record<string, string> = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Time': 'time',
};
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

const NUMBER_TYPES: ReadonlySet<string> = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);

let model: Map<string, TypeInfo> | undefined;
let kinds: TypeKinds | undefined;
let resourceTypeNames: Set<string> | undefined;

/** The model of the definitions loaded at start (data types and DSF resource types); others join on first use. */
function buildModel(): Map<string, TypeInfo> {
  const sds = baseStructureDefinitions();
  const primitiveTypes = new Set<string>();
  for (const sd of sds.values()) if (sd.kind === 'primitive-type') primitiveTypes.add(sd.type ?? sd.name!);
  kinds = { primitiveTypes, resourceKinds: new Set(Object.keys(r4ResourceTypes())) };
  const types = new Map<string, TypeInfo>();
  for (const sd of sds.values()) addDefinition(types, sd);
  return types;
}

function addDefinition(types: Map<string, TypeInfo>, sd: StructureDefinition): void {
  if (sd.kind === 'logical' || !sd.snapshot?.element?.length) return;
  for (const info of typesOfDefinition(sd, kinds!)) types.set(info.name, info);
}

/** A type by name; a resource type (or its backbone) not loaded yet is added from the definitions. */
function lookup(name: string): TypeInfo | undefined {
  const types = theModel();
  const found = types.get(name);
  if (found) return found;
  const root = name.split('.', 1)[0]!;
  if (types.has(root) || !Object.hasOwn(r4ResourceTypes(), root)) return undefined;
  const sd = baseStructureDefinition(root);
  if (sd) addDefinition(types, sd);
  return types.get(name);
}

/** The root type and all backbone types of one StructureDefinition. */
interface TypeKinds {
  primitiveTypes: ReadonlySet<string>;
  /** Resource types including the abstract Resource and DomainResource. */
  resourceKinds: ReadonlySet<string>;
}

function typesOfDefinition(sd: StructureDefinition, kinds: TypeKinds): TypeInfo[] {
  const elements = sd.snapshot!.element;
  const rootPath = elements[0]!.path!;
  const kind: TypeKind = sd.kind === 'resource' ? 'resource' : sd.kind === 'primitive-type' ? 'primitive' : 'complex';
  // Paths that have children become their own (backbone) types named by the path.
  const parents = new Set<string>();
  for (const e of elements) {
    const p = e.path!;
    const dot = p.lastIndexOf('.');
    if (dot > 0) parents.add(p.slice(0, dot));
  }
  const members = new Map<string, ElementInfo[]>();
  members.set(rootPath, []);
  for (const p of parents) if (p !== rootPath) members.set(p, []);
  for (const e of elements.slice(1)) {
    const path = e.path!;
    const dot = path.lastIndexOf('.');
    const owner = members.get(path.slice(0, dot));
    if (!owner) continue;
    owner.push(...elementInfos(e, path.slice(dot + 1), parents.has(path), kinds, owner.length ? owner[owner.length - 1]!.order + 1 : 0));
  }
  const out: TypeInfo[] = [];
  for (const [name, els] of members) {
    const isRoot = name === rootPath;
    out.push({
      name,
      kind: isRoot ? kind : 'backbone',
      abstract: isRoot ? !!sd.abstract : false,
      elements: els,
      byName: new Map(els.map((el) => [el.name, el])),
    });
  }
  return out;
}

function elementInfos(e: ElementDefinition, last: string, hasChildren: boolean, kinds: TypeKinds, order: number): ElementInfo[] {
  const path = e.path!;
  const max = e.base?.max ?? e.max ?? '1';
  const array = max !== '1' && max !== '0';
  const xmlAttr = !!e.representation?.includes('xmlAttr');
  const common = { path, array, xmlAttr, order, summary: !!e.isSummary, min: e.min ?? 0 };
  if (e.contentReference) {
    const ref = e.contentReference.slice(e.contentReference.indexOf('#') + 1);
    return [{ ...common, name: last, type: ref, primitive: false, resource: false, contentReference: ref }];
  }
  if (hasChildren) return [{ ...common, name: last, type: path, primitive: false, resource: false }];
  const codes = (e.type ?? []).map((t) => {
    const declared = t.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION)?.valueUrl;
    return declared ?? SYSTEM_TYPES[t.code!] ?? t.code!;
  });
  const isPrimitive = (t: string) => kinds.primitiveTypes.has(t) && t !== 'xhtml';
  const isResource = (t: string) => kinds.resourceKinds.has(t);
  if (last.endsWith('[x]')) {
    const base = last.slice(0, -3);
    return codes.map((t) => ({ ...common, name: base + t[0]!.toUpperCase() + t.slice(1), type: t, primitive: isPrimitive(t), resource: isResource(t), choiceOf: base }));
  }
  const type = codes[0] ?? 'Element';
  return [{ ...common, name: last, type, primitive: isPrimitive(type), resource: isResource(type) }];
}

function theModel(): Map<string, TypeInfo> {
  model ??= buildModel();
  return model;
}

/** Builds the model now (otherwise it is built on first use, which loads the definitions: a few hundred ms). */
export function initTypeModel(): void {
  theModel();
}

/** A type or backbone type by name: 'Task', 'Coding', 'string', 'Questionnaire.item'. */
export function typeInfo(name: string): TypeInfo | undefined {
  return lookup(name);
}

/** An element of a type by its JSON / XML name ('valueString', not 'value[x]'). */
export function elementInfo(type: string, name: string): ElementInfo | undefined {
  return lookup(type)?.byName.get(name);
}

/**
 * Looks up an element by a dotted path of JSON names starting with a type, e.g. 'Task.input.valueString'
 * or 'Questionnaire.item.item.linkId' (recursive items follow their content reference).
 */
export function elementInfoForPath(path: string): ElementInfo | undefined {
  const parts = path.split('.');
  let type = lookup(parts[0]!);
  let el: ElementInfo | undefined;
  for (let i = 1; i < parts.length; i++) {
    if (!type) return undefined;
    el = type.byName.get(parts[i]!);
    if (!el) return undefined;
    type = i + 1 < parts.length ? lookup(el.type) : undefined;
  }
  return el;
}

/** True for concrete (non-abstract) R4 resource types such as 'Task'. */
export function isResourceType(name: string): boolean {
  return Object.hasOwn(r4ResourceTypes(), name) && !r4ResourceTypes()[name];
}

/** All concrete R4 resource type names. */
export function resourceTypes(): ReadonlySet<string> {
  resourceTypeNames ??= new Set(Object.entries(r4ResourceTypes()).filter(([, abstract]) => !abstract).map(([name]) => name));
  return resourceTypeNames;
}

/** JSON representation of a primitive type's value: decimals and integers are numbers, booleans booleans. */
export function jsonPrimitiveKind(type: string): JsonPrimitiveKind {
  if (type === 'boolean') return 'boolean';
  return NUMBER_TYPES.has(type) ? 'number' : 'string';
}

/** True for the integer primitive types (integer, positiveInt, unsignedInt). */
export function isIntegerType(type: string): boolean {
  return type === 'integer' || type === 'positiveInt' || type === 'unsignedInt' || type === 'integer64';
}
