// Reads of current versions by id that arrive in the same event-loop turn and would send the same
// statement (same resource type, same caller's read-access filter, same result form) go to PostgreSQL
// as one statement `... WHERE id = ANY($1)`: at many concurrent clients each statement's round trip
// (a write to the socket, PostgreSQL waking up, the result parsed) costs more than the rows it returns.
//
// A read that is alone in its turn, and every read of a batch whose statement failed, is answered with
// `undefined`: the caller then sends its own single statement, in its own request's scope (statement
// timeout, cancellation), exactly as without coalescing. So a batch cancelled because one of its
// requests went away, or one that met a restarting server, fails no other read.

/** Most reads one statement serves; a full batch is sent at once and the next read starts a new one. */
export const MAX_COALESCED_READS = 64;

/** Rows of a batch by (lower-case) id. */
export type RowsById = ReadonlyMap<string, Record<string, unknown>>;

interface Batch {
  /** The reads waiting, by lower-case id (several requests may read the same id). */
  readonly waiters: Map<string, ((rows: RowsById | undefined) => void)[]>;
  size: number;
  sent: boolean;
}

export interface CoalescingStats {
  /** Reads answered from a batch statement. */
  coalescedReads: number;
  /** Batch statements sent. */
  batchStatements: number;
  /** Batch statements that failed (their reads then ran on their own). */
  failedBatches: number;
}

/** A key for reads without an access filter (the server's own reads). */
const UNFILTERED = {};

export class ReadCoalescer {
  /** Open batches by the caller's access filter (one object per identity), then by statement shape. */
  private readonly open = new WeakMap<object, Map<string, Batch>>();
  readonly stats: CoalescingStats = { coalescedReads: 0, batchStatements: 0, failedBatches: 0 };

  constructor(private readonly maxBatch = MAX_COALESCED_READS) {}

  /**
   * Waits for the end of the event-loop turn; then the row of `id` from a batch (undefined in the map:
   * no such current row), or undefined when the caller must read on its own (alone, or the batch failed).
   * `select` runs the batch statement for distinct lower-case ids.
   */
  load(filter: object | undefined, shape: string, id: string, select: (ids: string[]) => Promise<RowsById>): Promise<RowsById | undefined> {
    const key = filter ?? UNFILTERED;
    let byShape = this.open.get(key);
    if (!byShape) this.open.set(key, (byShape = new Map()));
    let batch = byShape.get(shape);
    if (!batch) {
      const created: Batch = { waiters: new Map(), size: 0, sent: false };
      byShape.set(shape, created);
      // After the I/O callbacks of this turn: the other requests that arrived with this one have reached here too.
      setImmediate(() => this.send(byShape!, shape, created, select));
      batch = created;
    }
    const lower = id.toLowerCase();
    const result = new Promise<RowsById | undefined>((resolve) => {
      const list = batch.waiters.get(lower);
      if (list) list.push(resolve);
      else batch.waiters.set(lower, [resolve]);
    });
    if (++batch.size >= this.maxBatch) this.send(byShape, shape, batch, select);
    return result;
  }

  private send(byShape: Map<string, Batch>, shape: string, batch: Batch, select: (ids: string[]) => Promise<RowsById>): void {
    if (batch.sent) return;
    batch.sent = true;
    if (byShape.get(shape) === batch) byShape.delete(shape);
    const answer = (rows: RowsById | undefined) => {
      for (const list of batch.waiters.values()) for (const resolve of list) resolve(rows);
    };
    // Alone in its turn: the read's own statement, as without coalescing.
    if (batch.size === 1) return answer(undefined);
    this.stats.batchStatements++;
    select([...batch.waiters.keys()]).then(
      (rows) => {
        this.stats.coalescedReads += batch.size;
        answer(rows);
      },
      () => {
        this.stats.failedBatches++;
        answer(undefined);
      },
    );
  }
}
