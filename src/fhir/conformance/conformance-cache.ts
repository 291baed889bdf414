// The StructureDefinitions, ValueSets and CodeSystems this server holds, in memory, for the validator
// (which resolves synchronously). Filled from the database at start-up and kept current on writes.
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { currentByCanonical, currentOfTypes } from '../store/resource-lookups.ts';
import type { ConformanceResolver } from '../validation/validator.ts';
import { CanonicalIndex, type CanonicalResource } from './canonical-index.ts';

const CACHED_TYPES = ['StructureDefinition', 'ValueSet', 'CodeSystem'] as const;

export class ConformanceCache implements ConformanceResolver {
  private indexes = new Map<string, CanonicalIndex>();

  static isCached(type: string): boolean {
    return (CACHED_TYPES as readonly string[]).includes(type);
  }

  async load(db: Db): Promise<void> {
    const resources = await currentOfTypes(db, CACHED_TYPES);
    this.indexes = new Map(CACHED_TYPES.map((t) => [t, new CanonicalIndex()]));
    for (const r of resources) this.put(r);
  }

  /** Adds or replaces a resource (same url and version). */
  put(resource: Resource): void {
    const r = resource as unknown as CanonicalResource & { url?: string };
    if (!ConformanceCache.isCached(resource.resourceType) || typeof r.url !== 'string') return;
    let index = this.indexes.get(resource.resourceType);
    if (!index) this.indexes.set(resource.resourceType, (index = new CanonicalIndex()));
    index.put(r);
  }

  /** Replaces every version of a url with what the database holds (after a rollback or a delete). */
  async reload(db: Db, type: string, url: string): Promise<void> {
    if (!ConformanceCache.isCached(type)) return;
    const resources = await currentByCanonical(db, type, url);
    this.indexes.get(type)?.deleteUrl(url);
    for (const r of resources) this.put(r);
  }

  /** Removes one resource (same url and version), e.g. when it is deleted within a transaction. */
  remove(resource: Resource): void {
    const r = resource as unknown as CanonicalResource & { url?: string };
    if (typeof r.url !== 'string') return;
    const index = this.indexes.get(resource.resourceType);
    if (!index) return;
    const others = index.versions(r.url).filter((v) => v !== (r.version ?? '')).map((v) => index.get(`${r.url}|${v}`)!);
    index.deleteUrl(r.url);
    for (const o of others) index.put(o);
  }

  private get<T>(type: string, url: string): T | undefined {
    return this.indexes.get(type)?.get(url) as T | undefined;
  }

  /**
   * Profiles of resources stored here, by type: url (without version) of every StructureDefinition of
   * kind resource, not abstract, active or draft and not from hl7.org (the reference's supportedProfile).
   */
  resourceProfiles(): Map<string, string[]> {
    const byType = new Map<string, Set<string>>();
    for (const r of this.indexes.get('StructureDefinition')?.all() ?? []) {
      const sd = r as unknown as StructureDefinition;
      if (sd.kind !== 'resource' || sd.abstract || !sd.url || !sd.type || sd.url.includes('hl7.org')) continue;
      if (sd.status !== 'active' && sd.status !== 'draft') continue;
      if (!byType.has(sd.type)) byType.set(sd.type, new Set());
      byType.get(sd.type)!.add(sd.url);
    }
    return new Map([...byType].map(([type, urls]) => [type, [...urls].sort()]));
  }

  structureDefinition(url: string): StructureDefinition | undefined {
    return this.get<StructureDefinition>('StructureDefinition', url);
  }
  valueSet(url: string): ValueSet | undefined {
    return this.get<ValueSet>('ValueSet', url);
  }
  codeSystem(url: string): CodeSystem | undefined {
    return this.get<CodeSystem>('CodeSystem', url);
  }
}
