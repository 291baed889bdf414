// Snapshot generation: merges a profile's differential onto its base's snapshot, producing the
// full element list the validator compiles. Like HAPI's generator (which the reference uses), the
// differential is walked in document order by path and slice name, not by element id: an element
// with a sliceName opens that slice at its path, and the elements after it whose paths lie below
// belong to that slice until another element on the same path comes. Published plugin profiles
// carry ids that do not match their paths (id `Task.input:x.system` on `Task.input.type.coding.system`,
// or an id naming the next slice inside the previous slice's elements); HAPI, and so we, go by path.
// Snapshot ids are derived from path and slices: `Task.input:message-name.type` is the `type` child of
// the `message-name` slice of `Task.input`.
import type { ElementDefinition, ElementDefinitionType, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { baseStructureDefinition, baseStructureDefinitionByUrl } from '../model/definitions.ts';

export type StructureDefinitionResolver = (url: string) => StructureDefinition | undefined;

const EXTENSION_SLICING = { discriminator: [{ type: 'value' as const, path: 'url' }], rules: 'open' as const };
const MAX_BASE_DEPTH = 20;
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

function invalid(path: string, why: string): FhirError {
  return new FhirError(400, `Snapshot generation failed at '${path}': ${why}`, 'structure');
}

/** Resolves a canonical (possibly `url|version`), falling back to the R4 base definitions. */
function resolveWithFallback(resolve: StructureDefinitionResolver, url: string): StructureDefinition | undefined {
  return resolve(url) ?? baseStructureDefinitionByUrl(url.split('|')[0]!);
}

export function generateSnapshot(profile: StructureDefinition, resolve: StructureDefinitionResolver): StructureDefinition {
  return generate(profile, resolve, 0);
}

function generate(profile: StructureDefinition, resolve: StructureDefinitionResolver, depth: number): StructureDefinition {
  if (depth > MAX_BASE_DEPTH) throw invalid(profile.url ?? '?', 'base definition chain too deep (cycle?)');
  if (!profile.baseDefinition) {
    if (profile.snapshot?.element?.length) return profile;
    throw invalid(profile.url ?? '?', 'no baseDefinition and no snapshot');
  }
  const base = resolveWithFallback(resolve, profile.baseDefinition);
  if (!base) throw invalid(profile.url ?? '?', `base definition ${profile.baseDefinition} not found`);
  const baseWithSnapshot = base.snapshot?.element?.length ? base : generate(base, resolve, depth + 1);
  const builder = new SnapshotBuilder(structuredClone(baseWithSnapshot.snapshot!.element!), profile, resolve, depth);
  for (const diff of profile.differential?.element ?? []) builder.apply(diff);
  return { ...profile, snapshot: { element: builder.elements } };
}

/** Splits an element id at its last '.' (slice names containing dots are not supported). */
function splitId(id: string): { parent: string | undefined; segment: string } {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? { parent: undefined, segment: id } : { parent: id.slice(0, dot), segment: id.slice(dot + 1) };
}

/** The slice name an element id gives at each segment of `pathParts`; undefined when the id spells another path. */
function slicesOfId(id: string | undefined, pathParts: string[]): (string | undefined)[] | undefined {
  const segments = id?.split('.');
  if (!segments || segments.length !== pathParts.length) return undefined;
  const slices: (string | undefined)[] = [];
  for (let i = 0; i < segments.length; i++) {
    const colon = segments[i]!.indexOf(':');
    if ((colon < 0 ? segments[i] : segments[i]!.slice(0, colon)) !== pathParts[i]) return undefined;
    slices.push(colon < 0 ? undefined : segments[i]!.slice(colon + 1));
  }
  return slices;
}

function typeSuffix(code: string): string {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

const FIXED_OR_PATTERN = /^(fixed|pattern)[A-Z]/;

class SnapshotBuilder {
  /** For each path of the differential seen so far, the slice its latest element opened (undefined: the element itself). */
  private readonly openSlice = new Map<string, string | undefined>();

  constructor(
    readonly elements: ElementDefinition[],
    private readonly profile: StructureDefinition,
    private readonly resolve: StructureDefinitionResolver,
    private readonly depth: number,
  ) {}

  apply(diff: ElementDefinition): void {
    const id = this.snapshotId(diff);
    const where = diff.id && diff.id !== id ? `${id} (element id ${diff.id})` : id;
    const index = this.ensure(id, where);
    this.merge(this.elements[index]!, diff, where);
  }

  /**
   * The snapshot element a differential element addresses: its path, with the slice open on each
   * ancestor path. An ancestor path no element of this differential has named yet (a slice inherited
   * from the base profile) takes the slice from the element's id, when that id spells the same path.
   */
  private snapshotId(diff: ElementDefinition): string {
    const path = diff.path;
    if (!path) throw invalid(diff.id ?? '?', 'differential element without path');
    // An element on `path` starts a new range there: slices opened below it no longer apply.
    for (const open of [...this.openSlice.keys()]) if (open.startsWith(`${path}.`)) this.openSlice.delete(open);
    const parts = path.split('.');
    const slicesInId = slicesOfId(diff.id, parts);
    let prefix = '';
    const id = parts
      .map((part, i) => {
        prefix = prefix ? `${prefix}.${part}` : part;
        const last = i === parts.length - 1;
        const slice = last ? diff.sliceName : this.openSlice.has(prefix) ? this.openSlice.get(prefix) : slicesInId?.[i];
        return slice ? `${part}:${slice}` : part;
      })
      .join('.');
    this.openSlice.set(path, diff.sliceName);
    return id;
  }

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => e.id === id);
  }

  /** Index of the element with this id, creating slices and unrolling type children as needed. */
  private ensure(id: string, pathForErrors: string): number {
    const existing = this.indexOf(id);
    if (existing >= 0) return existing;
    const { parent, segment } = splitId(id);
    if (parent === undefined) throw invalid(pathForErrors, `root '${segment}' does not match base type '${this.elements[0]?.path}'`);
    const parentIndex = this.ensure(parent, pathForErrors);
    const parentId = this.elements[parentIndex]!.id!;
    const colon = segment.indexOf(':');
    if (colon >= 0) {
      const entryIndex = this.ensureChild(parentIndex, segment.slice(0, colon), pathForErrors);
      return this.ensureSlice(entryIndex, segment.slice(colon + 1), pathForErrors);
    }
    if (parentId !== parent) {
      // The parent resolved to a renamed choice element (valueCoding -> value[x]); retry with its real id.
      const again = this.indexOf(`${parentId}.${segment}`);
      if (again >= 0) return again;
    }
    return this.ensureChild(parentIndex, segment, pathForErrors);
  }

  private ensureChild(parentIndex: number, name: string, pathForErrors: string): number {
    const parent = this.elements[parentIndex]!;
    const childId = `${parent.id}.${name}`;
    let index = this.indexOf(childId);
    if (index >= 0) return index;
    if (!this.hasDescendants(parentIndex)) {
      this.unroll(parentIndex, pathForErrors);
      index = this.indexOf(childId);
      if (index >= 0) return index;
    }
    return this.resolveChoiceRename(parent, name, pathForErrors);
  }

  /** `valueString` addresses `value[x]` restricted to string. */
  private resolveChoiceRename(parent: ElementDefinition, name: string, pathForErrors: string): number {
    for (let cut = name.length - 1; cut > 0; cut--) {
      if (name.charAt(cut) < 'A' || name.charAt(cut) > 'Z') continue;
      const index = this.indexOf(`${parent.id}.${name.slice(0, cut)}[x]`);
      if (index < 0) continue;
      const choice = this.elements[index]!;
      const suffix = name.slice(cut);
      const type = choice.type?.find((t) => typeSuffix(t.code!) === suffix);
      if (!type) throw invalid(pathForErrors, `type '${suffix}' is not allowed for ${choice.path}`);
      choice.type = [type];
      return index;
    }
    throw invalid(pathForErrors, 'path not found in base definition');
  }

  private hasDescendants(index: number): boolean {
    const next = this.elements[index + 1];
    return !!next && next.id!.startsWith(`${this.elements[index]!.id}.`);
  }

  /** End (exclusive) of an element's group: itself, its descendants, its slices and their descendants. */
  private groupEnd(index: number): number {
    const id = this.elements[index]!.id!;
    let end = index + 1;
    while (end < this.elements.length && (this.elements[end]!.id!.startsWith(`${id}.`) || this.elements[end]!.id!.startsWith(`${id}:`))) end++;
    return end;
  }

  private ensureSlice(entryIndex: number, sliceName: string, pathForErrors: string): number {
    const entry = this.elements[entryIndex]!;
    const sliceId = `${entry.id}:${sliceName}`;
    const existing = this.indexOf(sliceId);
    if (existing >= 0) return existing;
    if (!entry.slicing) {
      const isExtension = entry.type?.length === 1 && entry.type[0]!.code === 'Extension';
      if (!isExtension) throw invalid(pathForErrors, `slice '${sliceName}' defined on ${entry.id} which has no slicing`);
      entry.slicing = structuredClone(EXTENSION_SLICING);
    }
    const end = this.groupEnd(entryIndex);
    let copyEnd = entryIndex + 1;
    while (copyEnd < end && this.elements[copyEnd]!.id!.startsWith(`${entry.id}.`)) copyEnd++;
    const slice: ElementDefinition = structuredClone(entry);
    delete slice.slicing;
    slice.id = sliceId;
    slice.sliceName = sliceName;
    slice.min = 0;
    const children = structuredClone(this.elements.slice(entryIndex + 1, copyEnd)).map((child) => {
      child.id = sliceId + child.id!.slice(entry.id!.length);
      return child;
    });
    this.elements.splice(end, 0, slice, ...children);
    return end;
  }

  /** Inserts the children of an element's type (or of its contentReference target) after it. */
  private unroll(index: number, pathForErrors: string): void {
    const element = this.elements[index]!;
    let source: ElementDefinition[];
    let sourceRoot: string;
    if (element.contentReference) {
      sourceRoot = element.contentReference.replace(/^.*#/, '');
      const rootType = this.elements[0]!.path!;
      const core = baseStructureDefinition(rootType);
      source = (core?.snapshot?.element ?? []).filter((e) => e.path!.startsWith(`${sourceRoot}.`));
      const target = core?.snapshot?.element?.find((e) => e.path === sourceRoot);
      if (!target || !source.length) throw invalid(pathForErrors, `contentReference ${element.contentReference} not resolvable`);
      element.type = structuredClone(target.type);
      delete element.contentReference;
    } else {
      if (element.type?.length !== 1) throw invalid(pathForErrors, `cannot constrain children of ${element.id} with ${element.type?.length ?? 0} types`);
      const type = element.type[0]!;
      const typeDefinition = this.typeDefinition(type, pathForErrors);
      const all = typeDefinition.snapshot!.element!;
      sourceRoot = all[0]!.path!;
      const primitive = typeDefinition.kind === 'primitive-type';
      source = all.slice(1).filter((e) => !(primitive && e.path === `${sourceRoot}.value`));
    }
    const children = structuredClone(source).map((child) => {
      child.path = element.path + child.path!.slice(sourceRoot.length);
      child.id = element.id + (child.id ?? child.path).slice(sourceRoot.length);
      return child;
    });
    this.elements.splice(index + 1, 0, ...children);
  }

  private typeDefinition(type: ElementDefinitionType, pathForErrors: string): StructureDefinition {
    const profileUrl = type.profile?.[0];
    if (profileUrl) {
      const sd = resolveWithFallback(this.resolve, profileUrl);
      if (!sd) throw invalid(pathForErrors, `type profile ${profileUrl} not found`);
      return sd.snapshot?.element?.length ? sd : generate(sd, this.resolve, this.depth + 1);
    }
    const sd = baseStructureDefinition(type.code!);
    if (!sd?.snapshot?.element?.length) throw invalid(pathForErrors, `type ${type.code} has no definition`);
    return sd;
  }

  private merge(target: ElementDefinition, diff: ElementDefinition, path: string): void {
    const loose = target as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(diff) as [keyof ElementDefinition, unknown][]) {
      if (key === 'id' || key === 'path' || value === undefined) continue;
      if (key === 'constraint') {
        const constraints = [...(target.constraint ?? [])];
        for (const c of value as NonNullable<ElementDefinition['constraint']>) {
          const added = { ...c, source: c.source ?? this.profile.url };
          const at = constraints.findIndex((x) => x.key === c.key);
          if (at >= 0) constraints[at] = added;
          else constraints.push(added);
        }
        target.constraint = constraints;
      } else if (key === 'condition') {
        target.condition = [...new Set([...(target.condition ?? []), ...(value as string[])])];
      } else if (key === 'type') {
        this.checkTypes(target, value as ElementDefinitionType[], path);
        target.type = structuredClone(value as ElementDefinitionType[]);
      } else if (key === 'binding') {
        target.binding = { ...target.binding, ...(value as ElementDefinition['binding']) } as ElementDefinition['binding'];
      } else if (key === 'max') {
        this.checkMax(target, value as string, path);
        target.max = value as string;
      } else {
        if (FIXED_OR_PATTERN.test(key)) {
          for (const k of Object.keys(loose)) if (FIXED_OR_PATTERN.test(k)) delete loose[k];
        }
        loose[key] = structuredClone(value);
      }
    }
  }

  private checkTypes(target: ElementDefinition, types: ElementDefinitionType[], path: string): void {
    // Base elements such as Extension.url are typed System.String with their FHIR type in an extension.
    const allowed = new Set((target.type ?? []).map((t) => t.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION)?.valueUrl ?? t.code));
    if (!allowed.size) return;
    for (const t of types) {
      if (!allowed.has(t.code)) throw invalid(path, `type '${t.code}' is not allowed by the base (${[...allowed].join(', ')})`);
    }
  }

  private checkMax(target: ElementDefinition, max: string, path: string): void {
    const current = target.max;
    if (current === undefined || current === '*') return;
    if (max === '*' || Number(max) > Number(current)) throw invalid(path, `max ${max} exceeds the base's max ${current}`);
  }
}
