// Validates resources against the R4 base definition of their type and against each profile in
// meta.profile. Profiles come from a ConformanceResolver (the server's stored StructureDefinitions);
// snapshots are generated when missing and every profile is compiled once into an element tree.
import type { CodeSystem, OperationOutcomeIssue, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { baseStructureDefinition, baseStructureDefinitionByUrl } from '../model/definitions.ts';
import { compileStructure, lookupJsonKey, requiredChildren, type CompiledStructure, type ElementNode, type TypeRef } from './element-tree.ts';
import { compileInvariant } from './invariants.ts';
import { isPrimitiveType, primitiveProblem } from './primitive-types.ts';
import { generateSnapshot } from './snapshot.ts';
import { ValueSetExpander } from './terminology.ts';
import { matchesPattern, deepEqual } from './value-matching.ts';
import { SliceClassifier } from './slicing.ts';
import { profileCoversBase } from './profile-coverage.ts';
import { downgradeDefaultSliceIssues, isLenientDefaultSlice } from './default-slice-leniency.ts';
import { withoutXmlLang } from './narrative-language.ts';
import { markFixedValueMismatch, resolveAlternatives, type ProfileAttempt } from './profile-alternatives.ts';

export interface ConformanceResolver {
  structureDefinition(url: string): StructureDefinition | undefined;
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

type Issue = OperationOutcomeIssue;
type Json = Record<string, unknown>;

const HL7_STRUCTURE = 'http://hl7.org/fhir/StructureDefinition/';
const RESOURCE_REFERENCE = /^(?:(?:https?:\/\/\S+\/)?)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const MAX_DEPTH = 64;

/** Base type structures never change: shared by all validators. */
const baseStructures = new Map<string, CompiledStructure | null>();

export function baseStructure(type: string): CompiledStructure | undefined {
  let s = baseStructures.get(type);
  if (s === undefined) {
    const sd = baseStructureDefinition(type);
    s = sd?.snapshot?.element?.length ? compileStructure(sd) : null;
    baseStructures.set(type, s);
  }
  return s ?? undefined;
}

interface Walk {
  issues: Issue[];
  resource: Json;
  rootResource: Json;
  depth: number;
  /** > 0 while inside an extension: sub-extension urls are relative names, defined by the outer extension. */
  extensionDepth: number;
}

export class ResourceValidator {
  private readonly profiles = new Map<string, CompiledStructure | FhirError>();
  private readonly targetTypes = new Map<string, string | null>();
  /** Extension url -> type of the StructureDefinition it names (null: unknown). */
  private readonly extensionTypes = new Map<string, string | null>();
  private readonly expander: ValueSetExpander;
  private readonly slices: SliceClassifier;

  constructor(private readonly resolver: ConformanceResolver) {
    this.expander = new ValueSetExpander(resolver);
    this.slices = new SliceClassifier();
  }

  /** Forgets compiled profiles and expansions (call when StructureDefinitions, ValueSets or CodeSystems change). */
  invalidate(): void {
    this.profiles.clear();
    this.targetTypes.clear();
    this.extensionTypes.clear();
    this.expander.clear();
  }

  validate(resource: Resource): Issue[] {
    const issues: Issue[] = [];
    const json = resource as unknown as Json;
    const type = json.resourceType;
    if (typeof type !== 'string') return [issue('error', 'structure', 'resourceType missing', '')];
    const base = baseStructure(type);
    if (!base || base.kind !== 'resource') return [issue('error', 'not-supported', `Unknown resource type '${type}'`, type)];
    if (this.validByProfilesAlone(base, json, type, resource.meta?.profile)) return [];
    const walk: Walk = { issues, resource: json, rootResource: json, depth: 0, extensionDepth: 0 };
    this.validateAgainst(base, json, type, walk);
    const declared = (resource.meta?.profile ?? []) as unknown[];
    for (const url of declared) {
      if (typeof url !== 'string') continue;
      const profile = this.profile(url);
      if (profile instanceof FhirError) {
        issues.push(issue('error', 'not-found', profile.message, `${type}.meta.profile`));
      } else if (profile.type !== type) {
        issues.push(issue('error', 'structure', `Profile ${url} is for type ${profile.type}, not ${type}`, `${type}.meta.profile`));
      } else if (profile !== base) {
        this.validateAgainst(profile, json, type, walk);
      }
    }
    return dedupe(issues);
  }

  /**
   * Whether the declared profiles, one of which holds every constraint of the base definition
   * (profile-coverage.ts), find nothing at all: then the base definition would not either, and its
   * walk is saved. Any issue, or no such profile: false, and validate walks both as always.
   */
  private validByProfilesAlone(base: CompiledStructure, json: Json, type: string, declared: unknown): boolean {
    if (!Array.isArray(declared) || !declared.length) return false;
    const profiles: CompiledStructure[] = [];
    let covering = false;
    for (const url of declared) {
      if (typeof url !== 'string') return false;
      const profile = this.profile(url);
      if (profile instanceof FhirError || profile.type !== type || profile === base) return false;
      covering ||= profileCoversBase(profile, base, this.definitions);
      profiles.push(profile);
    }
    if (!covering) return false;
    const walk: Walk = { issues: [], resource: json, rootResource: json, depth: 0, extensionDepth: 0 };
    for (const profile of profiles) {
      this.validateAgainst(profile, json, type, walk);
      if (walk.issues.length) return false;
    }
    return true;
  }

  private readonly definitions = {
    base: (type: string) => baseStructure(type),
    profile: (url: string) => {
      const p = this.profile(url);
      return p instanceof FhirError ? undefined : p;
    },
    targetType: (url: string) => this.targetType(url),
  };

  /** A compiled profile, or a FhirError saying why it is not usable. */
  profile(url: string): CompiledStructure | FhirError {
    let p = this.profiles.get(url);
    if (!p) {
      p = this.compileProfile(url);
      this.profiles.set(url, p);
    }
    return p;
  }

  private compileProfile(url: string): CompiledStructure | FhirError {
    const sd = this.resolver.structureDefinition(url) ?? baseStructureDefinitionByUrl(url.split('|')[0]!);
    if (!sd) return new FhirError(400, `Profile ${url} not found`, 'not-found');
    if (!sd.baseDefinition && sd.kind && sd.type && baseStructureDefinition(sd.type) === sd) return baseStructure(sd.type)!;
    try {
      const withSnapshot = sd.snapshot?.element?.length ? sd : generateSnapshot(sd, (u) => this.resolver.structureDefinition(u));
      return compileStructure(withSnapshot);
    } catch (e) {
      return e instanceof FhirError ? e : new FhirError(400, `Profile ${url} unusable: ${(e as Error).message}`, 'structure');
    }
  }

  private validateAgainst(structure: CompiledStructure, resource: Json, location: string, walk: Walk): void {
    if (resource.resourceType !== structure.type) {
      walk.issues.push(issue('error', 'structure', `Expected resource of type ${structure.type}`, location));
      return;
    }
    this.validateComplex(structure.root, resource, location, walk, true);
    this.checkInvariants(structure.root, resource, location, walk);
  }

  /** Validates an object's properties against the children of `owner`. */
  /** `hasValue`: a primitive's companion ('_active'), whose element has content already when the value is present. */
  private validateComplex(owner: ElementNode, value: Json, location: string, walk: Walk, isResourceRoot: boolean, hasValue = false): void {
    const { issues } = walk;
    if (walk.depth > MAX_DEPTH) {
      issues.push(issue('error', 'structure', 'Nesting too deep', location));
      return;
    }
    // The keys present, grouped by element ('active' with '_active'); most owners have many more
    // children than the object has keys, so only the present ones and the required ones are visited,
    // in the children's order as before.
    const groups: { index: number; node: ElementNode; key: string; type: TypeRef; values: unknown; companions: unknown }[] = [];
    let hasContent = false;
    let sorted = true;
    for (const key of Object.keys(value)) {
      if (isResourceRoot && key === 'resourceType') continue;
      if (key !== 'id') hasContent = true;
      const primitiveCompanion = key.charCodeAt(0) === 95; /* '_' */
      const name = primitiveCompanion ? key.slice(1) : key;
      const hit = lookupJsonKey(owner, name);
      if (!hit) {
        issues.push(issue('error', 'structure', unknownElementMessage(owner, key), `${location}.${key}`));
        continue;
      }
      let g = groups.find((x) => x.node === hit.node);
      if (g && g.key !== name) {
        issues.push(issue('error', 'structure', `Only one of ${g.key} and ${name} may be present`, `${location}.${name}`));
        continue;
      }
      if (!g) {
        if (groups.length && groups[groups.length - 1]!.index > hit.index) sorted = false;
        g = { index: hit.index, node: hit.node, key: name, type: hit.type, values: undefined, companions: undefined };
        groups.push(g);
      }
      if (primitiveCompanion) g.companions = value[key];
      else g.values = value[key];
    }
    if (!hasContent && !isResourceRoot && !hasValue) issues.push(issue('error', 'invariant', 'ele-1: All FHIR elements must have a @value or children', location));
    if (!sorted) groups.sort((a, b) => a.index - b.index);
    const required = requiredChildren(owner);
    let r = 0;
    const missing = (child: ElementNode) => {
      const displayName = child.choice ? `${child.name}[x]` : child.name;
      issues.push(issue('error', 'required', `${location}.${displayName}: minimum required = ${child.min}, but only found 0`, `${location}.${displayName}`));
    };
    for (const g of groups) {
      for (; r < required.length && required[r]!.index <= g.index; r++) if (required[r]!.index < g.index) missing(required[r]!.node);
      this.validateChildGroup(g.node, g.key, g.type, g.values, g.companions, location, walk);
    }
    for (; r < required.length; r++) missing(required[r]!.node);
  }

  private validateChildGroup(child: ElementNode, key: string, type: TypeRef, values: unknown, companions: unknown, location: string, walk: Walk): void {
    const { issues } = walk;
    const loc = `${location}.${key}`;
    const valueIsArray = Array.isArray(values);
    const companionIsArray = Array.isArray(companions);
    if (child.isArray) {
      if ((values !== undefined && !valueIsArray) || (companions !== undefined && !companionIsArray)) {
        issues.push(issue('error', 'structure', `${key} must be a JSON array`, loc));
        return;
      }
    } else if (valueIsArray || companionIsArray) {
      issues.push(issue('error', 'structure', `${key} must not be a JSON array`, loc));
      return;
    }
    const items: unknown[] = child.isArray ? ((values as unknown[] | undefined) ?? []) : values === undefined ? [] : [values];
    const extras: unknown[] = child.isArray ? ((companions as unknown[] | undefined) ?? []) : companions === undefined ? [] : [companions];
    const count = Math.max(items.length, extras.length);
    if (child.isArray && count === 0) {
      issues.push(issue('error', 'structure', `${key} must not be an empty array`, loc));
      return;
    }
    if (count < child.min) issues.push(issue('error', 'required', `${loc}: minimum required = ${child.min}, but only found ${count}`, loc));
    if (count > child.max) issues.push(issue('error', 'structure', `${loc}: max allowed = ${child.max}, but found ${count}`, loc));
    const targets = child.slices.length ? this.slices.classify(child, items, loc, walk.issues) : undefined;
    for (let i = 0; i < count; i++) {
      const itemLoc = child.isArray ? `${loc}[${i}]` : loc;
      const target = targets?.[i] ?? child;
      const item = items[i] ?? undefined;
      // A slice may narrow the type (an extension slice names its extension's profile).
      const itemType = target === child ? type : (target.types.find((t) => t.code === type.code) ?? type);
      const before = walk.issues.length;
      this.validateValue(target, itemType, item === null ? undefined : item, extras[i] ?? undefined, itemLoc, walk);
      if (target !== child && isLenientDefaultSlice(child, target)) downgradeDefaultSliceIssues(walk.issues, before, child);
    }
  }

  private validateValue(node: ElementNode, type: TypeRef, value: unknown, companion: unknown, location: string, walk: Walk): void {
    const { issues } = walk;
    if (isPrimitiveType(type.code) || type.code === 'xhtml') {
      if (value !== undefined) {
        const problem = primitiveProblem(type.code, value);
        if (problem) issues.push(issue('error', 'value', problem, location));
        else this.checkFixedAndPattern(node, value, location, walk);
        if (!problem && node.requiredValueSet && typeof value === 'string' && (type.code === 'code' || type.code === 'string' || type.code === 'uri')) {
          this.checkCode(node.requiredValueSet, undefined, value, location, walk);
        }
      } else if (node.fixed !== undefined || node.pattern !== undefined) {
        issues.push(markFixedValueMismatch(issue('error', 'value', `Value required by ${node.fixedOrPatternName} is missing`, location)));
      }
      if (companion !== undefined) {
        if (typeof companion !== 'object' || companion === null || Array.isArray(companion)) {
          issues.push(issue('error', 'structure', 'Primitive extension content must be an object', location));
        } else {
          const owner = node.children.length ? node : baseStructure('Element')!.root;
          const extensionDepth = walk.extensionDepth;
          walk.depth++;
          walk.extensionDepth = 0;
          this.validateComplex(owner, companion as Json, location, walk, false, value !== undefined);
          walk.extensionDepth = extensionDepth;
          walk.depth--;
        }
      } else if (value === undefined) {
        issues.push(issue('error', 'invariant', 'ele-1: All FHIR elements must have a @value or children', location));
      }
      const checked = type.code === 'xhtml' && typeof value === 'string' ? withoutXmlLang(value) : value;
      this.checkInvariants(node, checked, location, walk);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(issue('error', 'structure', `Expected a JSON object for ${type.code}`, location));
      return;
    }
    const obj = value as Json;
    const extensionDepth = walk.extensionDepth;
    walk.depth++;
    // Extensions on a datatype value inside an extension (valueCoding.extension) are full extensions again.
    if (type.code !== 'Extension') walk.extensionDepth = 0;
    try {
      if (type.code === 'Resource' || (type.code !== 'Element' && baseStructure(type.code)?.kind === 'resource')) {
        this.validateNestedResource(obj, location, walk);
        return;
      }
      if (type.code === 'Extension') {
        this.checkExtensionShape(obj, location, walk);
        walk.extensionDepth++;
        this.validateComplexByType(node, type, obj, location, walk);
        walk.extensionDepth--;
      } else {
        this.validateComplexByType(node, type, obj, location, walk);
      }
      this.checkFixedAndPattern(node, obj, location, walk);
      if (node.requiredValueSet) this.checkBinding(node.requiredValueSet, type.code, obj, location, walk);
      if (type.code === 'Reference' && type.targetProfiles.length) this.checkReferenceTarget(type, obj, location, walk);
      this.checkInvariants(node, obj, location, walk);
    } finally {
      walk.depth--;
      walk.extensionDepth = extensionDepth;
    }
  }

  private validateComplexByType(node: ElementNode, type: TypeRef, obj: Json, location: string, walk: Walk): void {
    let profiles = type.profiles;
    if (!profiles.length && type.code === 'Extension' && !node.children.length && walk.extensionDepth === 1) {
      profiles = this.extensionProfileFor(obj, location, walk);
    }
    if (profiles.length > 1) {
      // Alternatives: the value must conform to at least one of the listed profiles.
      const outer = walk.issues;
      const attempts: ProfileAttempt[] = [];
      try {
        for (const url of profiles) {
          walk.issues = [];
          this.validateAgainstTypeProfile(node, url, obj, location, walk);
          attempts.push({ url, issues: walk.issues });
        }
      } finally {
        walk.issues = outer;
      }
      outer.push(...resolveAlternatives(attempts, location));
    } else if (profiles.length === 1) {
      this.validateAgainstTypeProfile(node, profiles[0]!, obj, location, walk);
    }
    if (profiles.length && !node.children.length) return;
    const owner = node.children.length ? node : this.typeOwner(node, type);
    if (!owner) {
      walk.issues.push(issue('error', 'structure', `Unknown type ${type.code}`, location));
      return;
    }
    this.validateComplex(owner, obj, location, walk, false);
    // Invariants of the datatype itself (per-1 on Period, ...) are not copied onto elements of that type.
    const typeRoot = baseStructure(type.code)?.root;
    if (typeRoot?.invariants.length) this.checkInvariants(typeRoot, obj, location, walk, invariantKeysOf(node));
  }

  private validateAgainstTypeProfile(node: ElementNode, url: string, obj: Json, location: string, walk: Walk): void {
    const profile = this.profile(url);
    if (profile instanceof FhirError) {
      walk.issues.push(issue('error', 'not-found', profile.message, location));
      return;
    }
    this.validateComplex(profile.root, obj, location, walk, false);
    if (profile.url.startsWith(HL7_STRUCTURE) || profile.root === node) return;
    this.checkInvariants(profile.root, obj, location, walk, invariantKeysOf(node));
  }

  /** The element whose children describe values of this node: a contentReference target or the type's definition. */
  private typeOwner(node: ElementNode, type: TypeRef): ElementNode | undefined {
    if (node.contentReference) {
      const ref = node.contentReference.replace(/^.*#/, '');
      const rootType = ref.split('.')[0]!;
      return baseStructure(rootType)?.byId.get(ref);
    }
    return baseStructure(type.code)?.root;
  }

  /** An extension without a declared profile is checked against the StructureDefinition its url names, if known. */
  private extensionProfileFor(obj: Json, location: string, walk: Walk): string[] {
    const url = obj.url;
    if (typeof url !== 'string') return [];
    let knownType = this.extensionTypes.get(url);
    if (knownType === undefined) {
      knownType = this.resolver.structureDefinition(url)?.type ?? null;
      this.extensionTypes.set(url, knownType);
    }
    if (knownType === null) {
      walk.issues.push(issue('warning', 'not-found', `Unknown extension ${url}`, location));
      return [];
    }
    if (knownType !== 'Extension') {
      walk.issues.push(issue('error', 'structure', `${url} is not an extension definition`, location));
      return [];
    }
    return [url];
  }

  private checkExtensionShape(obj: Json, location: string, walk: Walk): void {
    if (typeof obj.url !== 'string') return;
    if (walk.extensionDepth === 0 && !/^[a-z][a-z0-9+.-]*:/.test(obj.url)) walk.issues.push(issue('error', 'value', `Extension url '${obj.url}' must be absolute`, `${location}.url`));
    const hasValue = Object.keys(obj).some((k) => k.startsWith('value') || k.startsWith('_value'));
    const hasExtensions = Array.isArray(obj.extension) && obj.extension.length > 0;
    if (hasValue === hasExtensions) {
      walk.issues.push(issue('error', 'invariant', 'ext-1: Must have either extensions or value[x], not both', location));
    }
  }

  private validateNestedResource(obj: Json, location: string, walk: Walk): void {
    const type = obj.resourceType;
    const structure = typeof type === 'string' ? baseStructure(type) : undefined;
    if (!structure || structure.kind !== 'resource') {
      walk.issues.push(issue('error', 'structure', `Unknown resource type '${String(type)}'`, location));
      return;
    }
    const outer = walk.resource;
    walk.resource = obj;
    this.validateAgainst(structure, obj, location, walk);
    walk.resource = outer;
  }

  private checkFixedAndPattern(node: ElementNode, value: unknown, location: string, walk: Walk): void {
    if (node.fixed !== undefined && !deepEqual(value, node.fixed)) {
      walk.issues.push(markFixedValueMismatch(issue('error', 'value', `Value does not match ${node.fixedOrPatternName} ${JSON.stringify(node.fixed)}`, location)));
    }
    if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) {
      walk.issues.push(markFixedValueMismatch(issue('error', 'value', `Value does not match ${node.fixedOrPatternName} ${JSON.stringify(node.pattern)}`, location)));
    }
  }

  private checkBinding(valueSet: string, typeCode: string, obj: Json, location: string, walk: Walk): void {
    if (typeCode === 'Coding') {
      if (typeof obj.code === 'string') this.checkCode(valueSet, typeof obj.system === 'string' ? obj.system : undefined, obj.code, location, walk);
    } else if (typeCode === 'CodeableConcept' || typeCode === 'Quantity') {
      const codings = typeCode === 'Quantity' ? [obj] : Array.isArray(obj.coding) ? (obj.coding as Json[]) : [];
      const expansion = this.expander.expand(valueSet);
      if (!expansion) {
        walk.issues.push(issue('warning', 'not-found', `ValueSet ${valueSet} not found; binding not checked`, location));
        return;
      }
      const ok = codings.some((c) => typeof c?.code === 'string' && expansion.contains(typeof c.system === 'string' ? c.system : undefined, c.code));
      if (!ok) walk.issues.push(issue('error', 'code-invalid', `None of the codings is in the required ValueSet ${valueSet}`, location));
    }
  }

  private checkCode(valueSet: string, system: string | undefined, code: string, location: string, walk: Walk): void {
    const expansion = this.expander.expand(valueSet);
    if (!expansion) {
      walk.issues.push(issue('warning', 'not-found', `ValueSet ${valueSet} not found; binding not checked`, location));
    } else if (!expansion.contains(system, code)) {
      walk.issues.push(issue('error', 'code-invalid', `Code '${system ? system + '#' : ''}${code}' is not in the required ValueSet ${valueSet}`, location));
    }
  }

  private checkReferenceTarget(type: TypeRef, obj: Json, location: string, walk: Walk): void {
    const allowed = type.targetProfiles.map((p) => this.targetType(p));
    if (allowed.some((t) => t === null || t === 'Resource')) return;
    const named: string[] = [];
    const ref = obj.reference;
    if (typeof obj.type === 'string') {
      // A logical reference (identifier only) names its type without pointing at a resource; like the
      // reference's validator we do not refuse it (DSF QuestionnaireResponse authors may be Practitioners
      // although the profile targets Organization), but say so.
      if (typeof ref === 'string') named.push(obj.type);
      else if (!allowed.includes(obj.type)) {
        walk.issues.push(issue('warning', 'structure', `Reference type ${obj.type} is not among the target types (${allowed.join(', ')})`, location));
      }
    }
    if (typeof ref === 'string') {
      if (ref.startsWith('#')) {
        const contained = (walk.rootResource.contained as Json[] | undefined)?.find((c) => c?.id === ref.slice(1));
        if (contained && typeof contained.resourceType === 'string') named.push(contained.resourceType);
      } else {
        const m = RESOURCE_REFERENCE.exec(ref);
        if (m) named.push(m[1]!);
      }
    }
    for (const t of named) {
      if (!allowed.includes(t)) {
        walk.issues.push(issue('error', 'structure', `Reference to ${t} is not allowed here (allowed: ${allowed.join(', ')})`, location));
        return;
      }
    }
  }

  /** The resource type a targetProfile stands for (null: unknown, any type accepted). */
  private targetType(url: string): string | null {
    let t = this.targetTypes.get(url);
    if (t === undefined) {
      const m = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Za-z]+)$/.exec(url);
      t = m ? m[1]! : (this.resolver.structureDefinition(url)?.type ?? null);
      this.targetTypes.set(url, t);
    }
    return t;
  }

  private checkInvariants(node: ElementNode, value: unknown, location: string, walk: Walk, skip?: ReadonlySet<string>): void {
    for (const inv of node.invariants) {
      if (skip?.has(inv.key)) continue;
      inv.compiled ??= compileInvariant(node.path, inv.expression);
      const result = inv.compiled.run(value, walk.resource, walk.rootResource);
      if (result === 'pass') continue;
      if (result === 'fail') {
        walk.issues.push(issue(inv.severity, 'invariant', `Constraint failed: ${inv.key}: ${inv.human}`, location));
      } else if (inv.fromProfile) {
        walk.issues.push(issue('error', 'invariant', `Constraint ${inv.key} could not be evaluated: ${result.error}`, location));
      }
    }
  }
}

/** The keys of an element's invariants (skipped when its type's own invariants run), built once per element. */
const invariantKeys = new WeakMap<ElementNode, ReadonlySet<string>>();
function invariantKeysOf(node: ElementNode): ReadonlySet<string> {
  let keys = invariantKeys.get(node);
  if (!keys) invariantKeys.set(node, (keys = new Set(node.invariants.map((i) => i.key))));
  return keys;
}

/** Names a choice type that the profile does not allow (valueInteger where only valueString is) apart from unknown names. */
function unknownElementMessage(owner: ElementNode, key: string): string {
  const choice = owner.children.find((c) => c.choice && key.startsWith(c.name) && /^_?[A-Z]/.test(key.slice(c.name.length)));
  if (choice) return `Type '${key.slice(choice.name.length)}' is not allowed for ${choice.name}[x] here (allowed: ${choice.types.map((t) => t.code).join(', ')})`;
  return `Unknown element '${key}'`;
}

function issue(severity: Issue['severity'], code: Issue['code'], diagnostics: string, expression: string): Issue {
  return expression ? { severity, code, diagnostics, expression: [expression] } : { severity, code, diagnostics };
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.code}|${i.expression?.[0]}|${i.diagnostics}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
