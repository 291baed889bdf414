// The committed-change stream: which resource versions became visible since a reader last looked,
// read from the resource table itself (no trigger, nothing on the writers' commit path).
//
// Every version row records its writing (top-level) transaction, change_xact, and a number from a
// sequence, change_seq (store/schema.ts, migration 'fhir-events' 2). A reader's position is a
// PostgreSQL snapshot (pg_current_snapshot(): xmin, xmax and the transactions in progress). The rule:
//
//   the changes after position P, up to position Q (a later snapshot), are exactly the rows whose
//   change_xact is visible in Q and not visible in P.
//
// Visibility only grows with time (a transaction visible in a snapshot is visible in every later
// one), so every committed version is in exactly one step between consecutive positions: delivered
// once, none skipped, and never one whose transaction rolled back (its rows never become visible). A
// transaction still open at P, even one holding an early change_seq, is simply not visible yet; its
// rows come in the first step after it commits, while later transactions that committed before it are
// not held back. Nothing depends on the cluster's oldest transaction (snapshot xmin): a long
// transaction in another database delays nobody, and the rows to look at are found by the index on
// change_xact (xact >= P.xmax, or one of P's in-progress transactions).
//
// Within one step the rows come in change_seq order: a transaction's writes in the order it wrote them,
// and a resource's versions in version order (a version's number is drawn after the resource's write
// lock, so after the previous version committed). So each resource's versions arrive in the order they
// became visible.
//
// A step with more changes than a page (a backlog) is read in pages. The first page finds the step's
// rows by change_xact and notes the sequence's value right after the step's end snapshot was taken:
// every row visible in that snapshot drew its number before, so the step's numbers are at most that
// value. The following pages go on from the last number delivered (keyset on the index on change_seq),
// each looking at no more than twice a page of numbers: then a page costs the same however large the
// step, whichever plan the planner picks for it (without statistics it may fetch a whole range and sort
// it). Where the step's rows are sparse among the numbers (a transaction that was open at the step's
// start, long before the others), a short page is followed by one look by change_xact for the step's
// next number, so such stretches are skipped at once.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/pool.ts';

/** A position in the stream: a snapshot (text form 'xmin:xmax:xip,...'); what is visible in it was read. */
export class StreamPosition {
  readonly xmin: bigint;
  readonly xmax: bigint;
  /** Transactions in progress when the snapshot was taken (xmin <= xid < xmax). */
  readonly inProgress: readonly bigint[];
  private readonly inProgressSet: ReadonlySet<bigint>;

  constructor(readonly snapshot: string) {
    const m = /^(\d+):(\d+):([\d,]*)$/.exec(snapshot);
    if (!m) throw new Error(`not a snapshot: ${snapshot}`);
    this.xmin = BigInt(m[1]!);
    this.xmax = BigInt(m[2]!);
    this.inProgress = m[3] ? m[3].split(',').map((x) => BigInt(x)) : [];
    this.inProgressSet = new Set(this.inProgress);
  }

  /** Whether the transaction had committed (or rolled back) when the snapshot was taken: pg_visible_in_snapshot. */
  sees(xact: bigint): boolean {
    return xact < this.xmin || (xact < this.xmax && !this.inProgressSet.has(xact));
  }
}

/** One committed resource version as the stream reports it. */
export interface CommittedChange {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
  /** The writing transaction (xid8); a binding compares it with the position it was bound at. */
  xact: bigint;
  seq: number;
  /** The version's content, read with the change when its type was asked for and it is small (else load it). */
  resource?: Resource;
}

/** Content up to this size comes with the change; a page of them stays a few MiB. */
const MAX_INLINE_CONTENT_BYTES = 16 * 1024;

/**
 * Where a reader stands: complete up to `since`; of the step to `until` (a page was full), done up to
 * seq `afterSeq`, and the step's numbers are at most `untilSeq`.
 */
export interface StreamCursor {
  since: StreamPosition;
  until?: StreamPosition;
  afterSeq?: number;
  untilSeq?: number;
}

/** The position now: everything committed so far counts as read. */
export async function currentStreamPosition(db: Queryable): Promise<StreamPosition> {
  const r = await db.query<{ snap: string }>('SELECT pg_current_snapshot()::text AS snap');
  return new StreamPosition(r.rows[0]!.snap);
}

/** The version's content when its type was asked for ($n: the types) and it is small. */
const INLINE_CONTENT = (types: string) => `CASE WHEN r.type = ANY(${types}::text[]) AND r.size <= ${MAX_INLINE_CONTENT_BYTES} THEN r.resource END`;

/**
 * Settings for the session that reads the stream. Each read runs with a generic plan (made once per
 * connection: planning anew cost about twice the read itself), and every plan finds rows by index:
 * whether the table was small when the plan was made, or lacks statistics (no ANALYZE yet), a read
 * then costs the same small amount. No JIT: a statement that must scan something sequentially (the
 * sequence) counts as costly with sequential scans off, and would be compiled on every read.
 */
export const STREAM_READ_SETTINGS = 'SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET jit = off';

// The first page of a step. The statement's own snapshot is pg_current_snapshot() (READ COMMITTED takes
// one per statement): it is `until`, and the sequence is read after it was taken. The LEFT JOIN returns
// both also when nothing changed. The step's rows are found by change_xact in a subquery of their own
// (OFFSET 0 keeps the planner from merging it) and only then ordered: otherwise the planner may take
// the rows in change_seq order from that index and filter them, walking the whole table for a few
// new rows whenever it guesses the step large (without statistics it guesses a third of the table).
const READ_FIRST_PAGE = `WITH q AS (SELECT pg_current_snapshot() AS until, (SELECT last_value FROM resources_change_seq) AS until_seq)
SELECT q.until::text AS until, q.until_seq::text AS until_seq, c.type, c.id, c.version, c.deleted, c.change_xact::text AS xact, c.change_seq AS seq, c.resource
FROM q LEFT JOIN LATERAL (
  SELECT r.type, r.id, r.version, r.deleted, r.change_xact, r.change_seq, ${INLINE_CONTENT('$4')} AS resource
  FROM (SELECT r.type, r.id, r.version, r.deleted, r.change_xact, r.change_seq, r.size, r.resource
    FROM resources r
    WHERE (r.change_xact >= $2::xid8 OR r.change_xact = ANY($3::xid8[]))
      AND NOT pg_visible_in_snapshot(r.change_xact, $1::pg_snapshot)
      AND pg_visible_in_snapshot(r.change_xact, q.until)
    OFFSET 0) r
  ORDER BY r.change_seq LIMIT $5
) c ON true`;

// A following page of the step: keyset on change_seq, the numbers after the last delivered one up to $4.
const READ_NEXT_PAGE = `SELECT r.type, r.id, r.version, r.deleted, r.change_xact::text AS xact, r.change_seq AS seq, ${INLINE_CONTENT('$6')} AS resource
FROM resources r
WHERE r.change_seq > $3 AND r.change_seq <= $4
  AND NOT pg_visible_in_snapshot(r.change_xact, $1::pg_snapshot)
  AND pg_visible_in_snapshot(r.change_xact, $2::pg_snapshot)
ORDER BY r.change_seq LIMIT $5`;

// The step's next number after $5 (found by change_xact, as the first page, and for the same reason in
// a subquery of its own): skips a sparse stretch.
const NEXT_NUMBER_IN_STEP = `SELECT min(r.change_seq)::text AS seq FROM (SELECT r.change_seq FROM resources r
WHERE (r.change_xact >= $2::xid8 OR r.change_xact = ANY($3::xid8[]))
  AND NOT pg_visible_in_snapshot(r.change_xact, $1::pg_snapshot)
  AND pg_visible_in_snapshot(r.change_xact, $4::pg_snapshot)
  AND r.change_seq > $5 OFFSET 0) r`;

/**
 * The next page of changes after the cursor, at most `limit`, and the cursor after them. `more`: the
 * page was full, read again at once. Changes of `contentTypes` come with their content (when small),
 * saving whoever delivers them a round trip each.
 */
export async function readCommittedChanges(
  db: Queryable,
  cursor: StreamCursor,
  limit: number,
  contentTypes: readonly string[] = [],
): Promise<{ changes: CommittedChange[]; next: StreamCursor; more: boolean }> {
  const { since } = cursor;
  const toChange = (r: Record<string, any>): CommittedChange => ({ type: r.type, id: r.id, version: r.version, deleted: r.deleted, xact: BigInt(r.xact), seq: Number(r.seq), ...(r.resource ? { resource: r.resource } : {}) });
  if (!cursor.until || cursor.afterSeq === undefined || cursor.untilSeq === undefined) {
    const res = await db.query(READ_FIRST_PAGE, [since.snapshot, String(since.xmax), since.inProgress.map(String), contentTypes, limit]);
    const until = new StreamPosition(res.rows[0].until);
    const changes = res.rows.filter((r) => r.id !== null).map(toChange);
    if (changes.length < limit) return { changes, next: { since: until }, more: false };
    return { changes, next: { since, until, afterSeq: changes[changes.length - 1]!.seq, untilSeq: Number(res.rows[0].until_seq) }, more: true };
  }
  const { until, afterSeq, untilSeq } = cursor;
  const upTo = Math.min(untilSeq, afterSeq + 2 * limit);
  const res = await db.query(READ_NEXT_PAGE, [since.snapshot, until.snapshot, afterSeq, upTo, limit, contentTypes]);
  const changes = res.rows.map(toChange);
  const stepDone = { changes, next: { since: until }, more: false };
  if (changes.length === limit) return { changes, next: { ...cursor, afterSeq: changes[changes.length - 1]!.seq }, more: true };
  if (upTo >= untilSeq) return stepDone;
  // A short page before the bound: the step's rows are sparse here; go on from its next number.
  const next = await db.query(NEXT_NUMBER_IN_STEP, [since.snapshot, String(since.xmax), since.inProgress.map(String), until.snapshot, upTo]);
  const seq = next.rows[0]?.seq as string | null | undefined;
  if (seq == null || Number(seq) > untilSeq) return stepDone;
  return { changes, next: { ...cursor, afterSeq: Number(seq) - 1 }, more: true };
}
