// Writing resource versions: any number of them (creates, updates, delete markers) in one statement
// of fixed text, so that a single write and a transaction's hundred writes are one round trip each and
// one prepared statement for all. The database still enforces the uniqueness keys.
import type { IndexRow } from '../search/index-row.ts';
import { pgArrayElement, pgArrayLiteral } from '../../db/pg-array-literal.ts';
import type { TransactionClient } from '../../db/pool.ts';

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
// New keys are those the resource does not hold already; ON CONFLICT DO NOTHING waits for a concurrent
// writer of the same key and then skips it (of two writes of one statement with the same key, the
// earlier one in ORDER BY gets it). Keys skipped so are clashes: dsf_refuse_key_clashes (schema.ts)
// then fails the whole statement, so that it is all or nothing also outside a transaction.
//
// The statement is the body of dsf_write_versions (store/schema.ts, migration 6), which runs it with a
// generic plan: sent as a prepared statement of its own, PostgreSQL planned it anew on every execution.
const WRITE_VERSIONS = `SELECT dsf_write_versions($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::boolean[], $7::int[], $8::jsonb,
  $9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::timestamptz[], $17::timestamptz[], $18::numeric[],
  $19::uuid[], $20::text[], $21::text[], $22::boolean[])`;

// Writes that replace nothing and hold no uniqueness key (creates of most types) need only the two
// inserts of the function's first branch (migration 10). Sent as a statement of their own they skip the
// function call, whose SET clauses (plan cache mode, seqscan, JIT) are applied and undone on every call:
// about a tenth of a lone create's backend CPU. Neither insert reads a table, so the function's reasons
// for those settings (no sequential scan of a grown table, no JIT) do not arise; the primary key and
// the index of current ids still refuse an id written before, failing the statement as a whole.
const INSERT_NEW_VERSIONS = `WITH res AS (INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
  SELECT v.id, v.version, v.type, v.last_updated, v.deleted, true, NULLIF(j.resource, 'null'::jsonb), v.size
  FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::boolean[], $6::int[]) WITH ORDINALITY AS v(id, version, type, last_updated, deleted, size, n)
  JOIN jsonb_array_elements($7::jsonb) WITH ORDINALITY AS j(resource, n) ON j.n = v.n
  ORDER BY v.n)
INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id, lo, hi, num)
  SELECT ($1::uuid[])[r.n], ($3::text[])[r.n], r.param, r.system, r.code, r.norm, r.ref_id, r.lo, r.hi, r.num
  FROM unnest($8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::uuid[], $14::timestamptz[], $15::timestamptz[], $16::numeric[]) AS r(n, param, system, code, norm, ref_id, lo, hi, num)`;

/** Whether a statement's text is one of the write statements (for telling them apart in tests and benches). */
export function isWriteStatement(text: string): boolean {
  return text === WRITE_VERSIONS || text === INSERT_NEW_VERSIONS;
}

/** How many versions a write statement writes (isWriteStatement), from its values. */
export function versionsWrittenBy(text: string, values: readonly unknown[]): number {
  // The ids' array literal: uuids hold no comma.
  const ids = (text === WRITE_VERSIONS ? values[1] : values[0]) as string;
  return ids === '{}' ? 0 : ids.split(',').length;
}

/** The keys of a failed write statement that other resources hold, from dsf_refuse_key_clashes; undefined for any other error. */
function refusedKeys(e: unknown): { id: string; key: string }[] | undefined {
  const err = e as { code?: unknown; message?: unknown; detail?: unknown };
  if (err?.code !== '23505' || err.message !== 'dsf_key_clash' || typeof err.detail !== 'string') return undefined;
  return (JSON.parse(err.detail) as string[]).map((s) => ({ id: s.slice(0, s.indexOf('|')), key: s.slice(s.indexOf('|') + 1) }));
}

/**
 * Writes the versions in one statement, in the given order (the order their change notifications
 * are sent in). When other resources hold some of their keys, nothing is written (the statement
 * fails, and with it a transaction it runs in) and the first such write (in that order) is returned.
 */
export async function writeVersions(client: TransactionClient, writes: readonly VersionWrite[]): Promise<KeyClash | undefined> {
  // Array parameters go as literals (pg-array-literal.ts: the driver's text), built here element by
  // element, without an array per column first: the columns of a group of creates hold some fifty
  // elements per create.
  const el = pgArrayElement;
  let full = false;
  for (const w of writes) if (w.replaces || w.keys.length) full = true;
  let replaced = '';
  let ids = '', versions = '', types = '', times = '', deleted = '', sizes = '', jsons = '';
  // Index rows name their write by its position (1-based): the statement takes id and type from the
  // writes' columns. The full statement (a function of migration 10) still takes them per row.
  let rowN = '', rowIds = '', rowTypes = '';
  let param = '', system = '', code = '', norm = '', refId = '', lo = '', hi = '', num = '';
  let rows = 0;
  const keys = { ids: [] as string[], types: [] as string[], keys: [] as string[], held: [] as boolean[] };
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    const c = i > 0 ? ',' : '';
    const id = el(w.id);
    const type = el(w.type);
    if (w.replaces) replaced += replaced ? `,${id}` : id;
    ids += c + id;
    versions += c + el(w.version);
    types += c + type;
    times += c + el(w.lastUpdated);
    deleted += c + el(w.json === undefined);
    sizes += c + el(w.json === undefined ? 0 : Buffer.byteLength(w.json));
    jsons += c + (w.json ?? 'null');
    for (const r of w.indexRows) {
      const rc = rows++ > 0 ? ',' : '';
      if (full) {
        rowIds += rc + id;
        rowTypes += rc + type;
      } else rowN += rc + el(i + 1);
      param += rc + el(r.param);
      system += rc + el(r.system);
      code += rc + el(r.code);
      norm += rc + el(r.norm);
      refId += rc + el(r.refId);
      lo += rc + el(r.lo);
      hi += rc + el(r.hi);
      num += rc + el(r.num);
    }
    for (const k of w.keys) {
      keys.ids.push(w.id);
      keys.types.push(w.type);
      keys.keys.push(k);
      keys.held.push(w.previousKeys.includes(k));
    }
  }
  const index = [`{${param}}`, `{${system}}`, `{${code}}`, `{${norm}}`, `{${refId}}`, `{${lo}}`, `{${hi}}`, `{${num}}`];
  const writeColumns = [`{${ids}}`, `{${versions}}`, `{${types}}`, `{${times}}`, `{${deleted}}`, `{${sizes}}`, `[${jsons}]`];
  if (!full) {
    await client.query(INSERT_NEW_VERSIONS, [...writeColumns, `{${rowN}}`, ...index]);
    return undefined;
  }
  const a = pgArrayLiteral;
  try {
    await client.query(WRITE_VERSIONS, [
      `{${replaced}}`,
      ...writeColumns,
      `{${rowIds}}`,
      `{${rowTypes}}`,
      ...index,
      a(keys.ids),
      a(keys.types),
      a(keys.keys),
      a(keys.held),
    ]);
    return undefined;
  } catch (e) {
    const refused = refusedKeys(e);
    if (!refused) throw e;
    // The first write (in the statement's order) with a refused key; a write appears once per statement.
    const first = writes.find((w) => refused.some((r) => r.id === w.id.toLowerCase()));
    if (!first) throw e;
    return { write: first, keys: refused.filter((r) => r.id === first.id.toLowerCase()).map((r) => r.key) };
  }
}
