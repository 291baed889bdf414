// Writing resource versions: any number of them (creates, updates, delete markers) in one statement
// of fixed text, so that a single write and a transaction's hundred writes are one round trip each and
// one prepared statement for all. The database still enforces the uniqueness keys.
import type pg from 'pg';
import type { IndexRow } from '../search/index-row.ts';

/** One new version, ready to be written. */
export interface VersionWrite {
  id: string;
  type: string;
  version: number;
  lastUpdated: string;
  /** The version's JSON; undefined for a delete marker. */
  json?: string;
  /** Whether a current version is replaced (update, delete), rather than a first one written. */
  replaces: boolean;
  indexRows: IndexRow[];
  /** The uniqueness keys of the new version (none for a delete marker). */
  keys: string[];
  /** Keys the replaced version held: kept as they are, never inserted again. */
  previousKeys: string[];
  /** Who asked for this write (a transaction's entry), told back with a clash. */
  label?: unknown;
}

/** Keys of a write that another current resource holds. */
export interface KeyClash {
  write: VersionWrite;
  keys: string[];
}

// Data-modifying CTEs run in an order PostgreSQL chooses. Where one must come first, the next reads a
// count of its rows: the replaced versions stop being current before new current rows arrive (unique
// index), and keys dropped by one write are gone before another write of the same statement takes them.
// Deleting and inserting index rows need no order: the DELETE sees only rows from before the statement.
// ON CONFLICT DO NOTHING waits for a concurrent writer of the same key, then reports the clash (a
// missing row in RETURNING) without aborting the transaction; of two writes of one statement with the
// same key, the earlier one (in ORDER BY) gets it.
const WRITE_VERSIONS = `WITH old AS (UPDATE resources SET current = false WHERE id = ANY($1::uuid[]) AND current RETURNING id),
res AS (INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
  SELECT v.id, v.version, v.type, v.last_updated, v.deleted, true, NULLIF(j.resource, 'null'::jsonb), v.size
  FROM unnest($2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::boolean[], $7::int[]) WITH ORDINALITY AS v(id, version, type, last_updated, deleted, size, n)
  JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS j(resource, n) ON j.n = v.n
  CROSS JOIN (SELECT count(*) FROM old) o
  ORDER BY v.n),
idx_old AS (DELETE FROM search_index WHERE resource_id = ANY($1::uuid[])),
idx AS (INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id, lo, hi, num)
  SELECT * FROM unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::timestamptz[], $17::timestamptz[], $18::numeric[])),
keys_old AS (DELETE FROM unique_keys u WHERE u.resource_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM unnest($19::uuid[], $21::text[]) AS k(resource_id, key) WHERE k.resource_id = u.resource_id AND k.key = u.key) RETURNING 1)
INSERT INTO unique_keys (type, key, resource_id)
  SELECT k.type, k.key, k.resource_id FROM unnest($19::uuid[], $20::text[], $21::text[], $22::boolean[]) WITH ORDINALITY AS k(resource_id, type, key, held, n)
  CROSS JOIN (SELECT count(*) FROM keys_old) d
  WHERE NOT k.held ORDER BY k.n
  ON CONFLICT DO NOTHING RETURNING resource_id, key`;

/**
 * Writes the versions in one statement, in the given order (the order their change notifications
 * are sent in). Returns the first write (in that order) some of whose keys another resource holds;
 * the caller must then roll back, as the other writes of the statement were made.
 */
export async function writeVersions(client: pg.PoolClient, writes: readonly VersionWrite[]): Promise<KeyClash | undefined> {
  const replaced: string[] = [];
  const [ids, versions, types, times, deleted, sizes, jsons] = [[], [], [], [], [], [], []] as [string[], number[], string[], string[], boolean[], number[], string[]];
  const idx = { ids: [] as string[], types: [] as string[], param: [] as string[], system: [] as (string | null)[], code: [] as (string | null)[], norm: [] as (string | null)[] };
  const idxMore = { refId: [] as (string | null)[], lo: [] as (string | null)[], hi: [] as (string | null)[], num: [] as (string | null)[] };
  const keys = { ids: [] as string[], types: [] as string[], keys: [] as string[], held: [] as boolean[] };
  for (const w of writes) {
    if (w.replaces) replaced.push(w.id);
    ids.push(w.id);
    versions.push(w.version);
    types.push(w.type);
    times.push(w.lastUpdated);
    deleted.push(w.json === undefined);
    sizes.push(w.json === undefined ? 0 : Buffer.byteLength(w.json));
    jsons.push(w.json ?? 'null');
    for (const r of w.indexRows) {
      idx.ids.push(w.id);
      idx.types.push(w.type);
      idx.param.push(r.param);
      idx.system.push(r.system);
      idx.code.push(r.code);
      idx.norm.push(r.norm);
      idxMore.refId.push(r.refId);
      idxMore.lo.push(r.lo);
      idxMore.hi.push(r.hi);
      idxMore.num.push(r.num);
    }
    for (const k of w.keys) {
      keys.ids.push(w.id);
      keys.types.push(w.type);
      keys.keys.push(k);
      keys.held.push(w.previousKeys.includes(k));
    }
  }
  const res = await client.query(WRITE_VERSIONS, [
    replaced,
    ids,
    versions,
    types,
    times,
    deleted,
    sizes,
    `[${jsons.join(',')}]`,
    idx.ids,
    idx.types,
    idx.param,
    idx.system,
    idx.code,
    idx.norm,
    idxMore.refId,
    idxMore.lo,
    idxMore.hi,
    idxMore.num,
    keys.ids,
    keys.types,
    keys.keys,
    keys.held,
  ]);
  if (res.rows.length === keys.held.filter((h) => !h).length) return undefined;
  const inserted = new Set(res.rows.map((r) => `${r.resource_id}|${r.key}`));
  let clashes = writes
    .map((w) => ({ write: w, keys: w.keys.filter((k) => !w.previousKeys.includes(k) && !inserted.has(`${w.id.toLowerCase()}|${k}`)) }))
    .filter((c) => c.keys.length);
  // A key a resource held without its previous version giving it (rules changed since) is no clash.
  const replacing = clashes.filter((c) => c.write.replaces);
  if (replacing.length) {
    const pairs = replacing.flatMap((c) => c.keys.map((k) => [c.write.id, k] as const));
    const own = await client.query('SELECT resource_id, key FROM unique_keys WHERE (resource_id, key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))', [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
    const owned = new Set(own.rows.map((r) => `${r.resource_id}|${r.key}`));
    clashes = clashes.map((c) => ({ ...c, keys: c.keys.filter((k) => !owned.has(`${c.write.id.toLowerCase()}|${k}`)) })).filter((c) => c.keys.length);
  }
  return clashes[0];
}
