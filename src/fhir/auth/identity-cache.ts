// Resolved identities by credential (certificate thumbprint, bearer token). Entries live at most
// `ttlMs` (a safety net) and never past the credential's expiry. Writes of Organizations, Endpoints
// and OrganizationAffiliations clear everything: at once in this process (afterWrite, inside the
// writing transaction), and again when the transaction commits, through PostgreSQL NOTIFY, which
// also reaches other processes sharing the database. A lookup that started before a clear does not
// store its (possibly stale) result.
import type pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import type { WriteHooks } from '../rest/interactions.ts';
import type { Identity } from './identity.ts';

const CHANNEL = 'dsf_identity_change';
const WATCHED_TYPES = new Set(['Organization', 'Endpoint', 'OrganizationAffiliation']);
const MAX_ENTRIES = 10_000;

/** null: the credential is known not to belong to anyone. */
type Cached = Identity | null;

interface Entry {
  value: Cached;
  expiresAt: number;
}

export class IdentityCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private listener?: pg.PoolClient;

  constructor(readonly ttlMs: number) {}

  get(key: string, now = Date.now()): Cached | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Looks the key up, or computes and stores it unless the cache was cleared meanwhile. */
  async getOrLoad(key: string, load: () => Promise<{ value: Cached; notAfter?: Date }>): Promise<Cached> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const { value, notAfter } = await load();
    if (generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      const expiresAt = Math.min(Date.now() + this.ttlMs, notAfter?.getTime() ?? Infinity);
      this.entries.set(key, { value, expiresAt });
    }
    return value;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Write hooks that clear the cache when a resource identities depend on changes. */
  hooks(): WriteHooks {
    const changed = async (client: pg.PoolClient, resource: Resource) => {
      if (!WATCHED_TYPES.has(resource.resourceType)) return;
      this.clear();
      await client.query(`NOTIFY ${CHANNEL}`);
    };
    return {
      afterWrite: (_ctx, client, stored) => changed(client, stored),
      afterDelete: (_ctx, client, deleted) => changed(client, deleted),
    };
  }

  /** Holds one connection that LISTENs for commits of such changes (from any process). */
  async listen(pool: pg.Pool): Promise<void> {
    const client = await pool.connect();
    client.on('notification', (n) => {
      if (n.channel === CHANNEL) this.clear();
    });
    // A lost connection only costs the commit-time clear; the TTL still bounds staleness.
    client.on('error', () => {
      if (this.listener === client) this.listener = undefined;
      client.release(true);
    });
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async close(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (!client) return;
    await client.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
    client.release(true);
  }
}
