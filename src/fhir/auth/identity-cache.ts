// Resolved identities by credential (certificate thumbprint, bearer token). Entries live at most
// `ttlMs` (a safety net) and never past the credential's expiry. Writes of the types identities depend
// on (types/registry.ts: Organization, Endpoint, OrganizationAffiliation) clear everything: at once in this process (afterWrite, inside the
// writing transaction), and again when the committed change comes through the change stream
// (store/change-stream.ts, read by events/event-listener.ts in every process sharing the database).
// A lookup that started before a clear does not store its (possibly stale) result. Concurrent misses
// of one credential share one lookup: each lookup builds a new Identity object, and the read-access
// filter and the batching of statements (db/turn-batches.ts) are per Identity object, so requests that
// missed together would otherwise hold different objects until their connections' entries expire, and
// no longer share statements.
import type { Resource } from '@medplum/fhirtypes';
import type { WriteHooks } from '../service/write-hooks.ts';
import type { Identity } from '../types/identity.ts';
import { behaviourOf } from '../types/registry.ts';

const MAX_ENTRIES = 10_000;

/** null: the credential is known not to belong to anyone. */
type Cached = Identity | null;

interface Entry {
  value: Cached;
  expiresAt: number;
}

export class IdentityCache {
  private readonly entries = new Map<string, Entry>();
  private clears = 0;
  /** Lookups under way by key, all started since the last clear() (which forgets them). */
  private readonly loading = new Map<string, Promise<Cached>>();

  constructor(readonly ttlMs: number) {}

  get(key: string, now = Date.now()): Cached | undefined {
    return this.entry(key, now)?.value;
  }

  /** The entry (value and expiry) when it has not expired. */
  entry(key: string, now = Date.now()): Readonly<Entry> | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Changes with every clear(): what was taken from the cache before is stale when it differs. */
  get generation(): number {
    return this.clears;
  }

  /** Looks the key up, or computes and stores it unless the cache was cleared meanwhile. */
  async getOrLoad(key: string, load: () => Promise<{ value: Cached; notAfter?: Date }>): Promise<Cached> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const lookup = this.loadAndStore(key, this.clears, load);
    this.loading.set(key, lookup);
    // Settled either way: the next miss looks up again (unless a clear() has put a newer lookup there).
    const forget = () => {
      if (this.loading.get(key) === lookup) this.loading.delete(key);
    };
    lookup.then(forget, forget);
    return lookup;
  }

  private async loadAndStore(key: string, generation: number, load: () => Promise<{ value: Cached; notAfter?: Date }>): Promise<Cached> {
    const { value, notAfter } = await load();
    if (generation === this.clears) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      const expiresAt = Math.min(Date.now() + this.ttlMs, notAfter?.getTime() ?? Infinity);
      this.entries.set(key, { value, expiresAt });
    }
    return value;
  }

  clear(): void {
    this.clears++;
    this.entries.clear();
    this.loading.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Write hooks that clear the cache when a resource identities depend on changes. */
  hooks(): WriteHooks {
    const changed = async (resource: Resource) => this.committed(resource.resourceType);
    return {
      afterWrite: (_ctx, _client, stored) => changed(stored),
      afterDelete: (_ctx, _client, deleted) => changed(deleted),
    };
  }

  /** A change of this type was committed (here or by another process sharing the database). */
  committed(resourceType: string): void {
    if (behaviourOf(resourceType).affectsIdentities) this.clear();
  }
}
