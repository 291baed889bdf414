// Finds canonical resources (StructureDefinition, CodeSystem, ValueSet, ...) by canonical reference:
// 'url|version' picks that version, a bare 'url' picks the newest version present (as DSF plugins
// usually reference core profiles without a version).

export interface CanonicalResource {
  resourceType: string;
  url?: string;
  version?: string;
}

/** Compares dotted versions numerically part by part ('2.10.0' > '2.9.1'); non-numeric parts as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

/** Splits 'http://x/y|1.0' into url and version (version undefined when absent). */
export function splitCanonical(canonical: string): { url: string; version?: string } {
  const bar = canonical.indexOf('|');
  return bar < 0 ? { url: canonical } : { url: canonical.slice(0, bar), version: canonical.slice(bar + 1) };
}

export class CanonicalIndex<T extends CanonicalResource = CanonicalResource> {
  // url -> (version or '' when the resource has none) -> resource
  private readonly byUrl = new Map<string, Map<string, T>>();

  constructor(resources: Iterable<T> = []) {
    for (const r of resources) this.add(r);
  }

  /** Adds a resource; a second resource with the same url and version is an error (ambiguous). */
  add(resource: T): void {
    if (!resource.url) return;
    let versions = this.byUrl.get(resource.url);
    if (!versions) this.byUrl.set(resource.url, (versions = new Map()));
    const version = resource.version ?? '';
    if (versions.has(version)) throw new Error(`duplicate canonical resource ${resource.url}|${version}`);
    versions.set(version, resource);
  }

  /** Adds or replaces the resource with the same url and version (a stored resource was updated). */
  put(resource: T): void {
    if (!resource.url) return;
    let versions = this.byUrl.get(resource.url);
    if (!versions) this.byUrl.set(resource.url, (versions = new Map()));
    versions.set(resource.version ?? '', resource);
  }

  /** Forgets every version of a url. */
  deleteUrl(url: string): void {
    this.byUrl.delete(url);
  }

  /** The resource for 'url' (newest version) or 'url|version' (exactly that version), optionally of one type. */
  get(canonical: string, resourceType?: string): T | undefined {
    const { url, version } = splitCanonical(canonical);
    const versions = this.byUrl.get(url);
    if (!versions) return undefined;
    let found: T | undefined;
    if (version !== undefined) found = versions.get(version);
    else {
      const newest = [...versions.keys()].sort(compareVersions).at(-1);
      found = newest === undefined ? undefined : versions.get(newest);
    }
    return found && (!resourceType || found.resourceType === resourceType) ? found : undefined;
  }

  /** Every resource held, all versions. */
  all(): T[] {
    return [...this.byUrl.values()].flatMap((versions) => [...versions.values()]);
  }

  /** All versions present for a url, oldest first. */
  versions(url: string): string[] {
    return [...(this.byUrl.get(url)?.keys() ?? [])].sort(compareVersions);
  }
}
