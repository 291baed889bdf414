// Reads of current versions by id that arrive in the same event-loop turn and would send the same
// statement (same resource type, same caller's read-access filter, same result form) go to PostgreSQL
// as one statement `... WHERE id = ANY($1)` (the batching rules: db/turn-batches.ts). A read answered
// undefined sends its own statement.
import { TurnBatches, type TurnBatchStats } from '../../db/turn-batches.ts';

/** Most reads one statement serves; a full batch is sent at once and the next read starts a new one. */
export const MAX_COALESCED_READS = 64;

/** Rows of a batch by (lower-case) id. */
export type RowsById = ReadonlyMap<string, Record<string, unknown>>;

export class ReadCoalescer {
  private readonly batches: TurnBatches<string, RowsById>;

  constructor(maxBatch = MAX_COALESCED_READS) {
    this.batches = new TurnBatches(maxBatch);
  }

  get stats(): TurnBatchStats {
    return this.batches.stats;
  }

  /**
   * Waits for the end of the event-loop turn; then the rows of the batch by lower-case id (undefined in
   * the map: no such current row), or undefined when the caller must read on its own (alone, or the
   * batch failed). `select` runs the batch statement for distinct lower-case ids.
   */
  async load(filter: object | undefined, shape: string, id: string, select: (ids: string[]) => Promise<RowsById>): Promise<RowsById | undefined> {
    const lower = id.toLowerCase();
    return (await this.batches.load(filter, shape, lower, lower, select))?.result;
  }
}
