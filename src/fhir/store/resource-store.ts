// Versioned storage of FHIR resources in PostgreSQL: every version is kept, delete writes a marker
// version, and the search index and uniqueness keys follow the current version in the same transaction.
import type pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, gone, methodNotAllowed, notFound, preconditionFailed } from '../../common/errors.ts';
import type { Db } from '../../db/pool.ts';
import { poolBehind } from '../../db/request-scope.ts';
import { SqlParams } from '../../db/sql-params.ts';
import { isStalePlanError } from '../../db/prepared-statements.ts';
import { computeIndexRows, type IndexWarning } from '../search/index-rows.ts';
import { boundedRows } from './bounded-rows.ts';
import { uuidArray } from './search-sql.ts';
import type { AccessFilter } from './access-condition.ts';
import { accessConditions } from './access-sql.ts';
import { writeVersions, type KeyClash, type VersionWrite } from './version-writes.ts';
import { versionResource } from './version-resource.ts';
import { BatchedWriteError, WriteBatch } from './write-batch.ts';
import { ReadCoalescer, type RowsById } from './read-coalescing.ts';
import { StatementCoalescer, type StatementRunner } from '../../db/coalesced-statements.ts';
import { DEFAULT_WRITE_GROUP_LIMITS, WriteGroups, type WriteGroupLimits } from './write-groups.ts';
import { rememberWrittenJson } from './written-json.ts';
import { newResourceId } from './resource-ids.ts';
import { DeferredConnection } from '../../db/deferred-connection.ts';
import { versionTime } from './version-time.ts';
import type { TransactionClient } from '../../db/pool.ts';

type Obj = Record<string, any>;

export interface StoredVersion {
  id: string;
  type: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  /** The resource with id and meta set; undefined for a delete marker. */
  resource?: Resource;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  since?: Date;
  at?: Date;
  count: number;
  offset: number;
  /** Read-access conditions on alias r (authorization); entries and total both respect them. */
  access?: AccessFilter;
  /** Bound of the page's resources in bytes; the page ends early beyond it (at least one entry). */
  maxBytes?: number;
}

/** Key space of the per-resource write locks (pg_advisory_xact_lock(class, hashtext(id))): 'DSFR'. */
const RESOURCE_LOCK_CLASS = 0x44_53_46_52;

/** Versions are INT in the database. */
const MAX_VERSION = 2_147_483_647;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isServerId(id: string): boolean {
  return UUID_RE.test(id);
}

/**
 * `last_updated` as Date.toISOString() writes it, made by PostgreSQL: the driver parsed every read's
 * timestamp into a Date only for it to be formatted back. MS truncates as the driver's parse does (the
 * same text for all fractions; test/fhir/store/last-updated-text.test.ts).
 */
const LAST_UPDATED_ISO = `to_char(r.last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Every version, as two parts a type's history finds by index (FHIR migration 11): the current ones in
 * resources_current_type, the others in resources_history_type, which holds only those, so a create
 * writes one entry fewer. The history's conditions on type and time are pushed into both parts.
 */
const TYPE_VERSIONS = `(SELECT * FROM resources WHERE current AND NOT deleted UNION ALL SELECT * FROM resources WHERE NOT current OR deleted)`;

/** A version from its row; `last_updated` a Date, or the text of LAST_UPDATED_ISO. */
function toStored(r: Obj): StoredVersion {
  return {
    id: r.id,
    type: r.type,
    version: r.version,
    lastUpdated: typeof r.last_updated === 'string' ? r.last_updated : (r.last_updated as Date).toISOString(),
    deleted: r.deleted,
    resource: r.resource ?? undefined,
  };
}

/** Resource content equal apart from meta.versionId/lastUpdated: an update that changes nothing. */
function sameContent(a: Obj, b: Obj): boolean {
  const strip = (r: Obj) => {
    const { meta, ...rest } = r;
    const { versionId: _v, lastUpdated: _l, ...m } = meta ?? {};
    return JSON.stringify({ ...rest, meta: m });
  };
  return strip(a) === strip(b);
}

export interface StoreOptions {
  /** The uniqueness keys of a resource (the type modules' rules); no two current resources of a type share one. */
  uniqueKeys?: (resource: Resource) => string[];
  /** Told about values FHIRPath could not index. */
  indexWarning?: IndexWarning;
  /** Bounds of the statements that write concurrent creates together (write-groups.ts). */
  writeGroups?: WriteGroupLimits;
}

export class ResourceStore {
  constructor(
    readonly pool: pg.Pool,
    readonly baseUrl: string,
    private readonly options: StoreOptions = {},
  ) {
    this.writeGroups = new WriteGroups(options.writeGroups ?? DEFAULT_WRITE_GROUP_LIMITS);
  }

  /** Concurrent transactions that only write (creates) share one statement. */
  readonly writeGroups: WriteGroups;

  private readonly settledListeners: ((client: TransactionClient, committed: boolean) => Promise<void>)[] = [];

  /** Called after each transaction of this store committed or rolled back, on its connection. */
  onSettled(listener: (client: TransactionClient, committed: boolean) => Promise<void>): void {
    this.settledListeners.push(listener);
  }

  private readonly committedWriteListeners: ((types: ReadonlySet<string>) => void)[] = [];

  /** Called (not awaited) right after a transaction that wrote versions committed, with their types: the change stream has news. */
  onCommittedWrites(listener: (types: ReadonlySet<string>) => void): void {
    this.committedWriteListeners.push(listener);
  }

  /**
   * Runs fn in a transaction. A transaction that failed only because a prepared statement's plan went
   * stale (a migration changed the schema under it) runs once more: its statements are prepared anew.
   * `pool`: where the connection comes from, a request's view of the store's pool (its scope) or the pool.
   */
  async transaction<T>(fn: (client: TransactionClient) => Promise<T>, pool: pg.Pool = this.pool): Promise<T> {
    try {
      return await this.transactionOnce(fn, pool);
    } catch (e) {
      if (!isStalePlanError(e)) throw e;
      return this.transactionOnce(fn, pool);
    }
  }

  /**
   * A transaction whose writes are held back (write-batch.ts) and whose BEGIN waits for its first
   * other statement. One that only writes (a create) sends its writes as one statement without
   * BEGIN and COMMIT: a statement is atomic and durable on its own, and it fails as a whole on a
   * uniqueness clash; concurrent ones share that statement (write-groups.ts). One that sends nothing
   * (an update that changes nothing) sends nothing. Its connection is checked out on its first
   * statement (db/deferred-connection.ts): a create that joins another's group statement needs none.
   */
  private async transactionOnce<T>(fn: (client: TransactionClient) => Promise<T>, pool: pg.Pool): Promise<T> {
    // TransactionClient holds a transaction's code to query() and release(), which the deferred one has
    // (every form of query but a submittable one, which it refuses until checked out).
    const client = new DeferredConnection(pool) as unknown as TransactionClient;
    let begun = false;
    const writtenTypes = new Set<string>();
    const batch = new WriteBatch<StoredVersion>(async (writes) => {
      for (const w of writes) writtenTypes.add(w.type);
      // Outside BEGIN/COMMIT (a transaction that only writes) the writes may share a statement with others'.
      const clash = begun ? await writeVersions(client, writes) : await this.writeGroups.write(client, writes);
      if (!clash) return;
      // Held back for a transaction's entry: told with its label; otherwise as if written at once.
      throw clash.write.label === undefined ? clashError(clash) : new BatchedWriteError(clash.write.label, clashError(clash));
    });
    const detach = batch.attach(client, async (send) => {
      begun = true;
      await send('BEGIN');
    });
    this.batches.set(client, batch);
    let attached = true;
    const stopBatching = () => {
      if (!attached) return;
      attached = false;
      this.batches.delete(client);
      detach();
    };
    try {
      let result: T;
      try {
        result = await fn(client);
        if (begun) {
          await batch.flush();
          stopBatching();
          await client.query('COMMIT');
        } else {
          stopBatching();
          await batch.send();
        }
      } catch (e) {
        stopBatching();
        if (begun) await client.query('ROLLBACK').catch(() => {});
        await this.settled(client, false);
        throw e;
      }
      if (writtenTypes.size) for (const listener of this.committedWriteListeners) listener(writtenTypes);
      await this.settled(client, true);
      return result;
    } finally {
      stopBatching();
      client.release();
    }
  }

  private async settled(client: TransactionClient, committed: boolean): Promise<void> {
    for (const listener of this.settledListeners) await listener(client, committed);
  }

  /** The write batch of each open transaction (transaction()), by its connection. */
  private readonly batches = new WeakMap<TransactionClient, WriteBatch<StoredVersion>>();

  /** The batch holding back the writes of the transaction on this client (transaction()). */
  batchOf(client: TransactionClient): WriteBatch<StoredVersion> | undefined {
    return this.batches.get(client);
  }

  /**
   * Takes the write locks of these resources and reads their current versions, for all of them in
   * two statements; readCurrent(..., forUpdate) then answers from what was read. Only within
   * transaction() (elsewhere each write locks and reads its own).
   */
  async lockForWrite(client: TransactionClient, ids: readonly string[]): Promise<void> {
    const batch = this.batches.get(client);
    if (!batch) return;
    // One order for every transaction, so that two of them locking the same resources cannot deadlock.
    const fresh = [...new Set(ids.filter((id) => isServerId(id) && !batch.locked.has(id)))].sort();
    if (!fresh.length) return;
    // The locks first, in a statement of their own: the read after them sees what earlier writers committed.
    await client.query('SELECT count(pg_advisory_xact_lock($1, hashtext(l.id))) FROM (SELECT id FROM unnest($2::text[]) AS id ORDER BY id) l', [RESOURCE_LOCK_CLASS, fresh]);
    const res = await client.query(`SELECT id, type, version, last_updated, deleted, resource FROM resources WHERE id = ANY(${uuidArray('$1')}) AND current`, [fresh]);
    const rows = new Map(res.rows.map((r) => [String(r.id), r]));
    for (const id of fresh) {
      const row = rows.get(id.toLowerCase());
      batch.locked.set(id, row ? toStored(row) : null);
    }
  }

  /** Sends the versions now, or holds them back in the transaction's batch. */
  private async submit(client: TransactionClient, write: VersionWrite, stored: StoredVersion): Promise<void> {
    const batch = this.batches.get(client);
    if (!batch) {
      const clash = await writeVersions(client, [write]);
      if (clash) throw clashError(clash);
      return;
    }
    await batch.add(write);
    if (batch.locked.has(write.id)) batch.locked.set(write.id, stored);
  }

  /**
   * The current version (possibly a delete marker), or undefined if the id never existed. `forUpdate`
   * first takes the id's write lock (held to the end of the transaction), so concurrent writers of one
   * resource run one after the other, each seeing the version the previous one committed.
   */
  async readCurrent(db: Db, type: string, id: string, forUpdate = false): Promise<StoredVersion | undefined> {
    if (!isServerId(id)) return undefined;
    const held = forUpdate ? this.batches.get(db as TransactionClient)?.locked : undefined;
    if (held?.has(id)) {
      const known = held.get(id);
      return known && known.type === type ? known : undefined;
    }
    // Not SELECT ... FOR UPDATE: a writer waiting for that row lock re-checks the row after the other
    // commits, finds it no longer current and skips it, as if the resource did not exist. The lock
    // is taken in its own statement, so the read after it sees what the previous writer committed.
    if (forUpdate) await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RESOURCE_LOCK_CLASS, id]);
    const res = await db.query('SELECT id, type, version, last_updated, deleted, resource FROM resources WHERE id = $1 AND current', [id]);
    const row = res.rows[0];
    if (!row || row.type !== type) return undefined;
    return toStored(row);
  }

  /**
   * Read for REST: 404 when unknown, 410 when deleted. With `access`, `readable` tells whether the
   * caller may read this version, decided by the same SQL as search in the same round trip.
   */
  async read(db: Db, type: string, id: string, access?: AccessFilter): Promise<StoredVersion & { resource: Resource; readable: boolean }> {
    const row = await this.selectReadable(db, type, id, undefined, access, false);
    return { ...(toStored(row) as StoredVersion & { resource: Resource }), readable: row.readable === true };
  }

  async vread(db: Db, type: string, id: string, version: number, access?: AccessFilter): Promise<StoredVersion & { resource: Resource; readable: boolean }> {
    const row = await this.selectReadable(db, type, id, version, access, false);
    return { ...(toStored(row) as StoredVersion & { resource: Resource }), readable: row.readable === true };
  }

  /**
   * Read (version given: vread) with the same answers as read() and vread(), the resource as the
   * text PostgreSQL keeps it in (jsonb's text form), not parsed: for answers sent as stored.
   */
  async readText(db: Db, type: string, id: string, version: number | undefined, access?: AccessFilter): Promise<Omit<StoredVersion, 'resource'> & { text: string; readable: boolean }> {
    const row = await this.selectReadable(db, type, id, version, access, true);
    // Built at once (no StoredVersion to copy without its resource): this runs on every plain JSON read.
    return { id: row.id, type: row.type, version: row.version, lastUpdated: row.last_updated as string, deleted: row.deleted, text: row.resource as string, readable: row.readable === true };
  }

  /** The row read() (version undefined) or vread() answers with; 404/410 as they tell. */
  private async selectReadable(db: Db, type: string, id: string, version: number | undefined, access: AccessFilter | undefined, asText: boolean): Promise<Obj> {
    if (version === undefined) {
      const row = isServerId(id) ? await this.selectCurrent(db, type, id, access, asText) : undefined;
      if (!row || row.type !== type) throw notFound(`${type}/${id} not found`);
      if (row.deleted) throw gone(`${type}/${id} was deleted`);
      return row;
    }
    if (!isServerId(id) || !Number.isInteger(version) || version < 1 || version > MAX_VERSION) throw notFound(`${type}/${id}/_history/${version} not found`);
    const row = await this.selectVersion(db, type, 'r.id = $1 AND r.version = $2', [id, version], access, asText);
    if (!row || row.type !== type) throw notFound(`${type}/${id}/_history/${version} not found`);
    if (row.deleted) throw gone(`${type}/${id}/_history/${version} is a deletion`);
    return row;
  }

  /** Reads of the current version through the store's pool, coalesced with others of this turn (read-coalescing.ts). */
  readonly currentReads = new ReadCoalescer();

  /** Search statements through the store's pool, coalesced with others of this turn (db/coalesced-statements.ts). */
  readonly searchStatements = new StatementCoalescer();

  /**
   * Where a search's statements go: through the pool (a request's view of it) they share a statement
   * with the same statements of other requests of the caller's identity in this turn, the batch running
   * as the request that opened it (its scope); on a transaction's connection they run as they are.
   */
  searchRunner(db: Db, access: AccessFilter | undefined): StatementRunner {
    return poolBehind(db) === this.pool ? this.searchStatements.view(db, access) : db;
  }

  private async selectCurrent(db: Db, type: string, id: string, access: AccessFilter | undefined, asText: boolean): Promise<Obj | undefined> {
    // A transaction's connection runs its statements one after the other: nothing to coalesce. Reads
    // through the pool (a request's view of it) are; the batch runs as the read that opened it (its scope).
    if (poolBehind(db) === this.pool) {
      const rows = await this.currentReads.load(access, `${type}|${asText}`, id, (ids) => this.selectCurrentRows(db, type, ids, access, asText));
      if (rows) return rows.get(id.toLowerCase());
    }
    return this.selectVersion(db, type, 'r.id = $1 AND r.current', [id], access, asText);
  }

  /** The current versions of these ids (each row with its `readable` for the caller), by id. */
  private async selectCurrentRows(db: Db, type: string, ids: string[], access: AccessFilter | undefined, asText: boolean): Promise<RowsById> {
    // The ids behind a subquery: as a bare parameter PostgreSQL planned this statement on every run (uuidArray).
    const rows = await this.selectVersion(db, type, `r.id = ANY(${uuidArray('$1')}) AND r.current`, [ids], access, asText, true);
    return new Map(rows.map((r) => [String(r.id), r]));
  }

  private async selectVersion(db: Db, type: string, where: string, values: unknown[], access: AccessFilter | undefined, asText: boolean, all: true): Promise<Obj[]>;
  private async selectVersion(db: Db, type: string, where: string, values: unknown[], access?: AccessFilter, asText?: boolean): Promise<Obj | undefined>;
  private async selectVersion(db: Db, type: string, where: string, values: unknown[], access?: AccessFilter, asText = false, all = false): Promise<Obj | Obj[] | undefined> {
    const p = new SqlParams();
    p.values.push(...values);
    const conditions = accessConditions(access, p, [type]);
    // In WHERE a NULL condition excludes the row; here it must count as "not readable" too.
    const readable = `, ${conditions.length ? `COALESCE((${conditions.map((c) => `(${c})`).join(' AND ')}), false)` : 'true'} AS readable`;
    // As text, the driver hands the column over as it came instead of parsing it.
    const resource = asText ? 'r.resource::text AS resource' : 'r.resource';
    const res = await db.query(`SELECT r.id, r.type, r.version, ${LAST_UPDATED_ISO} AS last_updated, r.deleted, ${resource}${readable} FROM resources r WHERE ${where}`, p.values);
    return all ? res.rows : res.rows[0];
  }

  /** Creates a new resource with a server-assigned id (pre-assigned within transactions). Must run inside a transaction (client). */
  async create(client: TransactionClient, resource: Resource, id: string = newResourceId()): Promise<StoredVersion & { resource: Resource }> {
    return this.writeVersion(client, resource, id, 1);
  }

  /**
   * Updates an existing resource; refuses update-as-create (405) and stale If-Match versions (412).
   * Content equal to the current version's writes nothing, unless `alwaysNewVersion` (content kept
   * outside the row, binary-store.ts, cannot be compared).
   */
  async update(
    client: TransactionClient,
    resource: Resource & { id: string },
    ifMatch?: number,
    alwaysNewVersion = false,
    /** The current version, when the caller already read it with readCurrent(..., forUpdate) in this transaction. */
    current?: StoredVersion,
  ): Promise<{ stored: StoredVersion & { resource: Resource }; changed: boolean }> {
    const cur = current ?? (await this.readCurrent(client, resource.resourceType, resource.id, true));
    if (!cur) throw methodNotAllowed(`${resource.resourceType}/${resource.id} does not exist; update as create is not allowed`);
    if (ifMatch !== undefined && ifMatch !== cur.version) {
      throw preconditionFailed(`Version ${ifMatch} given in If-Match, but the current version of ${resource.resourceType}/${resource.id} is ${cur.version}`);
    }
    if (!cur.deleted && cur.resource && !alwaysNewVersion && sameContent(cur.resource as Obj, resource as Obj)) {
      return { stored: cur as StoredVersion & { resource: Resource }, changed: false };
    }
    return { stored: await this.writeVersion(client, resource, resource.id, cur.version + 1, cur), changed: true };
  }

  /** Logical delete. Returns the marker version, or undefined if already deleted. */
  async delete(client: TransactionClient, type: string, id: string, current?: StoredVersion): Promise<StoredVersion | undefined> {
    const cur = current ?? (await this.readCurrent(client, type, id, true));
    if (!cur) throw notFound(`${type}/${id} not found`);
    if (cur.deleted) return undefined;
    const marker: StoredVersion = { id, type, version: cur.version + 1, lastUpdated: versionTime(), deleted: true };
    // The marker replaces the current version; the index rows and keys of the deleted version go.
    await this.submit(client, { id, type, version: marker.version, lastUpdated: marker.lastUpdated, replaces: true, indexRows: [], keys: [], previousKeys: [] }, marker);
    return marker;
  }

  /** Removes every version of an already deleted resource. */
  async permanentDelete(client: TransactionClient, type: string, id: string): Promise<void> {
    const cur = await this.readCurrent(client, type, id, true);
    if (!cur) throw notFound(`${type}/${id} not found`);
    // 400 as the reference answers: the request is wrong while the resource is not marked deleted.
    if (!cur.deleted) throw new FhirError(400, `${type}/${id} is not marked deleted; delete it before deleting it permanently`, 'processing');
    await client.query('DELETE FROM resources WHERE id = $1', [id]);
  }

  /**
   * One page of history in one statement: the page's versions with the total (a window count over
   * the matching versions' keys; the page's resources joined to the keys of the page). Only a page
   * past the last version needs a count of its own, and only an instance history without any
   * version to show a look whether the resource exists (`exists` false: 404).
   */
  async history(db: Db, q: HistoryQuery): Promise<{ total: number; entries: StoredVersion[]; exists: boolean }> {
    const p = new SqlParams();
    const where: string[] = [];
    if (q.type) where.push(`h.type = ${p.add(q.type)}`);
    if (q.id) {
      if (!isServerId(q.id)) return { total: 0, entries: [], exists: false };
      where.push(`h.id = ${p.add(q.id)}::uuid`);
    }
    if (q.since) where.push(`h.last_updated >= ${p.add(q.since.toISOString())}::timestamptz`);
    if (q.at) {
      // _at: the versions that were current at that instant.
      const at = p.add(q.at.toISOString());
      where.push(`h.last_updated <= ${at}::timestamptz`);
      where.push(`NOT EXISTS (SELECT 1 FROM resources n WHERE n.id = h.id AND n.version = h.version + 1 AND n.last_updated <= ${at}::timestamptz)`);
    }
    // Read access is decided on each version's own content; a delete marker on the version it deleted.
    const access = accessConditions(q.access, p, q.type ? [q.type] : undefined);
    const versions = q.type && !q.id ? TYPE_VERSIONS : 'resources';
    const source = access.length
      ? `(SELECT h.id, h.type, h.version, h.last_updated, h.deleted, h.current,
           COALESCE(h.resource, (SELECT pv.resource FROM resources pv WHERE pv.id = h.id AND pv.version = h.version - 1)) AS resource
         FROM ${versions} h ${where.length ? `WHERE ${where.join(' AND ')}` : ''}) r WHERE ${access.join(' AND ')}`
      : `(SELECT h.id, h.version, h.last_updated FROM ${versions} h ${where.length ? `WHERE ${where.join(' AND ')}` : ''}) r`;
    const countSql = `SELECT count(*)::int AS n FROM ${source}`;
    if (q.count === 0) {
      const total = (await db.query(countSql, p.values)).rows[0].n as number;
      return { total, entries: [], exists: total > 0 || !q.id || (await this.readCurrent(db, q.type!, q.id)) !== undefined };
    }
    const countValues = [...p.values];
    const limit = p.add(q.count);
    const offset = p.add(q.offset);
    // The id breaks ties of versions written in the same millisecond (one transaction), so pages do not overlap.
    const keys = `SELECT r.id, r.version, count(*) OVER () AS total, row_number() OVER (ORDER BY r.last_updated DESC, r.version DESC, r.id) AS n
      FROM ${source} ORDER BY n LIMIT ${limit} OFFSET ${offset}`;
    const pageSql = `SELECT v.id, v.type, v.version, v.last_updated, v.deleted, k.total, v.resource, COALESCE(v.size, pg_column_size(v.resource)) AS size
      FROM (${keys}) k JOIN resources v ON v.id = k.id AND v.version = k.version ORDER BY k.n`;
    const page =
      q.maxBytes === undefined
        ? await db.query(pageSql, p.values).then((r) => ({ rows: r.rows, all: r.rows }))
        : await boundedRows(db, pageSql, p.values, q.maxBytes, true, ['id', 'type', 'version', 'last_updated', 'deleted', 'total']);
    let total = page.all.length ? Number(page.all[0].total) : 0;
    if (!page.all.length && q.offset > 0) total = (await db.query(countSql, countValues)).rows[0].n as number;
    const exists = total > 0 || !q.id || (await this.readCurrent(db, q.type!, q.id)) !== undefined;
    return { total, entries: page.rows.map(toStored), exists };
  }

  /**
   * Writes a version (version-writes.ts): the previous version no longer current (an update), the new
   * row, its search-index rows in place of the previous ones, and its uniqueness keys (the database
   * refuses a key another current resource holds). `previous`: the current version being replaced.
   */
  private async writeVersion(client: TransactionClient, input: Resource, id: string, version: number, previous?: StoredVersion): Promise<StoredVersion & { resource: Resource }> {
    const lastUpdated = versionTime();
    const ordered = versionResource(input, id, version, lastUpdated);
    const replaces = version > 1;
    const stored = { id, type: ordered.resourceType, version, lastUpdated, deleted: false, resource: ordered };
    const json = JSON.stringify(ordered);
    rememberWrittenJson(ordered, json);
    await this.submit(
      client,
      {
        id,
        type: ordered.resourceType,
        version,
        lastUpdated,
        json,
        replaces,
        indexRows: computeIndexRows(ordered as Obj, this.baseUrl, this.options.indexWarning),
        keys: this.options.uniqueKeys?.(ordered) ?? [],
        // Keys the previous version held stay as they are; only new ones are inserted, only dropped ones deleted.
        previousKeys: replaces && previous?.resource && !previous.deleted ? (this.options.uniqueKeys?.(previous.resource) ?? []) : [],
      },
      stored,
    );
    return stored;
  }
}

/** 403 for keys another current resource holds (the reference's answer to a duplicate). */
function clashError({ write, keys }: KeyClash): FhirError {
  return new FhirError(403, `A ${write.type} with the same ${keys.map((k) => k.split(':')[0]).join(', ')} (${keys.join(', ')}) already exists`, 'duplicate');
}
