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

/** Where a reader stands: complete up to `since`; of the step to `until` (a page was full), done up to seq `afterSeq`. */
export interface StreamCursor {
  since: StreamPosition;
  until?: StreamPosition;
  afterSeq?: number;
}

/** The position now: everything committed so far counts as read. */
export async function currentStreamPosition(db: Queryable): Promise<StreamPosition> {
  const r = await db.query<{ snap: string }>('SELECT pg_current_snapshot()::text AS snap');
  return new StreamPosition(r.rows[0]!.snap);
}

// The statement's own snapshot is pg_current_snapshot() (READ COMMITTED takes one per statement), so on
// the first page of a step `until` is the snapshot the rows were read with. The LEFT JOIN returns that
// snapshot also when nothing changed.
const READ_CHANGES = `WITH q AS (SELECT COALESCE($4::pg_snapshot, pg_current_snapshot()) AS until)
SELECT q.until::text AS until, c.type, c.id, c.version, c.deleted, c.change_xact::text AS xact, c.change_seq AS seq, c.resource
FROM q LEFT JOIN LATERAL (
  SELECT r.type, r.id, r.version, r.deleted, r.change_xact, r.change_seq,
    CASE WHEN r.type = ANY($7::text[]) AND r.size <= ${MAX_INLINE_CONTENT_BYTES} THEN r.resource END AS resource
  FROM resources r
  WHERE (r.change_xact >= $2::xid8 OR r.change_xact = ANY($3::xid8[]))
    AND NOT pg_visible_in_snapshot(r.change_xact, $1::pg_snapshot)
    AND pg_visible_in_snapshot(r.change_xact, q.until)
    AND r.change_seq > $5
  ORDER BY r.change_seq LIMIT $6
) c ON true`;

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
  const res = await db.query(READ_CHANGES, [since.snapshot, String(since.xmax), since.inProgress.map(String), cursor.until?.snapshot ?? null, cursor.afterSeq ?? 0, limit, contentTypes]);
  const until = cursor.until ?? new StreamPosition(res.rows[0].until);
  const changes: CommittedChange[] = res.rows
    .filter((r) => r.id !== null)
    .map((r) => ({ type: r.type, id: r.id, version: r.version, deleted: r.deleted, xact: BigInt(r.xact), seq: Number(r.seq), ...(r.resource ? { resource: r.resource } : {}) }));
  if (changes.length === limit) return { changes, next: { since, until, afterSeq: changes[changes.length - 1]!.seq }, more: true };
  return { changes, next: { since: until }, more: false };
}
