// Work that arrives in the same event-loop turn and would send statements of the same shape for the
// same group (one caller's access filter) is gathered and run as one statement: at many concurrent
// clients each statement's round trip (a write to the socket, PostgreSQL waking up, the result parsed)
// costs more than the rows it returns. Used for reads by id (fhir/store/read-coalescing.ts) and for
// search statements (coalesced-statements.ts).
//
// A batch with company may wait a few more passes of the event loop (extraPolls, searches only): each
// pass polls for I/O without waiting, so the requests whose bytes came in while the turn ran join it
// instead of starting the next batch. At many clients that makes batches larger and statements fewer
// (PostgreSQL's cost is mostly per statement); an item alone is sent at the end of its turn as before.
//
// An item alone in its turn, and every item of a batch whose statement failed or that the runner
// declined, is answered with `undefined`: the caller then sends its own statement, in its own request's
// scope (statement timeout, cancellation), exactly as without batching. So a batch cancelled because
// the request that opened it went away, or one that met a restarting server, fails no other request.

export interface TurnBatchStats {
  /** Items answered from a batch statement. */
  coalesced: number;
  /** Batch statements sent. */
  batchStatements: number;
  /** Batch statements that failed (their items then ran on their own). */
  failedBatches: number;
}

/** What a waiting item gets: the batch's result and the item's place among the batch's distinct items. */
export interface BatchAnswer<Result> {
  result: Result;
  index: number;
}

interface Batch<Item, Result> {
  /** The distinct items waiting, by key, each with the requests waiting for it (several may ask the same). */
  readonly waiters: Map<string, { item: Item; resolvers: ((answer: BatchAnswer<Result> | undefined) => void)[] }>;
  size: number;
  sent: boolean;
}

/** A group for items without one (the server's own work). */
const UNGROUPED = {};

export class TurnBatches<Item, Result> {
  /** Open batches by group (one object per identity), then by shape. */
  private readonly open = new WeakMap<object, Map<string, Batch<Item, Result>>>();
  readonly stats: TurnBatchStats = { coalesced: 0, batchStatements: 0, failedBatches: 0 };

  /**
   * maxBatch: most items one statement serves; a full batch is sent at once and the next item starts a new one.
   * extraPolls: how many more passes of the event loop a batch of more than one item waits for company.
   */
  constructor(
    private readonly maxBatch: number,
    private readonly extraPolls = 0,
  ) {}

  /**
   * Waits for the end of the event-loop turn; then the batch's result with this item's index among the
   * distinct items `run` was given (in the order they came), or undefined when the caller must run it
   * on its own (alone, the batch failed, or `run` declined by answering undefined).
   */
  load(group: object | undefined, shape: string, key: string, item: Item, run: (items: Item[]) => Promise<Result | undefined>): Promise<BatchAnswer<Result> | undefined> {
    const g = group ?? UNGROUPED;
    let byShape = this.open.get(g);
    if (!byShape) this.open.set(g, (byShape = new Map()));
    let batch = byShape.get(shape);
    if (!batch) {
      const created: Batch<Item, Result> = { waiters: new Map(), size: 0, sent: false };
      byShape.set(shape, created);
      // After the I/O callbacks of this turn: the other requests that arrived with this one have reached here too.
      this.sendAfterTurn(byShape, shape, created, run, this.extraPolls);
      batch = created;
    }
    const result = new Promise<BatchAnswer<Result> | undefined>((resolve) => {
      const waiting = batch.waiters.get(key);
      if (waiting) waiting.resolvers.push(resolve);
      else batch.waiters.set(key, { item, resolvers: [resolve] });
    });
    if (++batch.size >= this.maxBatch) this.send(byShape, shape, batch, run);
    return result;
  }

  /** Sends the batch at the end of this turn, or, when it has company and polls are left, at the end of the next. */
  private sendAfterTurn(byShape: Map<string, Batch<Item, Result>>, shape: string, batch: Batch<Item, Result>, run: (items: Item[]) => Promise<Result | undefined>, polls: number): void {
    setImmediate(() => (polls > 0 && batch.size > 1 && !batch.sent ? this.sendAfterTurn(byShape, shape, batch, run, polls - 1) : this.send(byShape, shape, batch, run)));
  }

  private send(byShape: Map<string, Batch<Item, Result>>, shape: string, batch: Batch<Item, Result>, run: (items: Item[]) => Promise<Result | undefined>): void {
    if (batch.sent) return;
    batch.sent = true;
    if (byShape.get(shape) === batch) byShape.delete(shape);
    const answer = (result: Result | undefined) => {
      let index = 0;
      for (const { resolvers } of batch.waiters.values()) {
        for (const resolve of resolvers) resolve(result === undefined ? undefined : { result, index });
        index++;
      }
    };
    // Alone in its turn: the item's own statement, as without batching.
    if (batch.size === 1) return answer(undefined);
    this.stats.batchStatements++;
    run([...batch.waiters.values()].map((w) => w.item)).then(
      (result) => {
        if (result !== undefined) this.stats.coalesced += batch.size;
        else this.stats.batchStatements--;
        answer(result);
      },
      () => {
        this.stats.failedBatches++;
        answer(undefined);
      },
    );
  }
}
