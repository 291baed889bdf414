// Work that arrives in the same event-loop turn and would send statements of the same shape for the
// same group (one caller's access filter) is gathered and run as one statement: at many concurrent
// clients each statement's round trip (a write to the socket, PostgreSQL waking up, the result parsed)
// costs more than the rows it returns. Used for reads by id (fhir/store/read-coalescing.ts) and for
// search statements (coalesced-statements.ts).
//
// While a batch statement of a (group, shape) is in flight, the items that arrive for it are held and
// gather into the next batch, sent in the turn its forerunner answers or fails (PostgreSQL spends about
// 135 µs a statement and 10 µs a search in it: fewer, larger statements are cheaper). So nothing waits
// longer than one statement of its own shape; a full batch is still sent at once, and an item with
// nothing of its shape in flight waits only for the end of its turn, as one client's do.
//
// An item alone in its batch, and every item of a batch whose statement failed or that the runner
// declined, is answered with `undefined`: the caller then sends its own statement, in its own request's
// scope (statement timeout, cancellation), exactly as without batching. So a batch cancelled because
// the request that ran it went away, or one that met a restarting server, fails no other request. A
// batch runs as the item that joined it last: after a hold the first one's request is the likeliest to
// have gone away (its scope then refuses the statement, and every item would run on its own).

export interface TurnBatchStats {
  /** Items answered from a batch statement. */
  coalesced: number;
  /** Batch statements sent. */
  batchStatements: number;
  /** Batch statements that failed (their items then ran on their own). */
  failedBatches: number;
  /** Batches that waited for a statement of their shape in flight. */
  heldBatches: number;
}

/** What a waiting item gets: the batch's result and the item's place among the batch's distinct items. */
export interface BatchAnswer<Result> {
  result: Result;
  index: number;
}

type Run<Item, Result> = (items: Item[]) => Promise<Result | undefined>;

interface Batch<Item, Result> {
  /** The distinct items waiting, by key, each with the requests waiting for it (several may ask the same). */
  readonly waiters: Map<string, { item: Item; resolvers: ((answer: BatchAnswer<Result> | undefined) => void)[] }>;
  size: number;
  sent: boolean;
  /** Its send is scheduled (end of the turn); a held batch has none until its forerunner answers. */
  scheduled: boolean;
  /** The runner of the item that joined last. */
  run: Run<Item, Result>;
}

/** One (group, shape): the batch gathering, and how many of its batch statements are in flight. */
interface Slot<Item, Result> {
  open: Batch<Item, Result> | undefined;
  inFlight: number;
}

/** A group for items without one (the server's own work). */
const UNGROUPED = {};

export class TurnBatches<Item, Result> {
  /** Slots by group (one object per identity), then by shape. */
  private readonly slots = new WeakMap<object, Map<string, Slot<Item, Result>>>();
  readonly stats: TurnBatchStats = { coalesced: 0, batchStatements: 0, failedBatches: 0, heldBatches: 0 };

  /** maxBatch: most items one statement serves; a full batch is sent at once and the next item starts a new one. */
  constructor(private readonly maxBatch: number) {}

  /**
   * Waits for the end of the event-loop turn (or, while a batch statement of the same group and shape
   * is in flight, for its answer); then the batch's result with this item's index among the distinct
   * items `run` was given (in the order they came), or undefined when the caller must run it on its
   * own (alone, the batch failed, or `run` declined by answering undefined).
   */
  load(group: object | undefined, shape: string, key: string, item: Item, run: Run<Item, Result>): Promise<BatchAnswer<Result> | undefined> {
    const g = group ?? UNGROUPED;
    let byShape = this.slots.get(g);
    if (!byShape) this.slots.set(g, (byShape = new Map()));
    let slot = byShape.get(shape);
    if (!slot) byShape.set(shape, (slot = { open: undefined, inFlight: 0 }));
    let batch = slot.open;
    if (!batch) {
      batch = slot.open = { waiters: new Map(), size: 0, sent: false, scheduled: false, run };
      // Held while one of its shape is in flight: sent when that answers.
      if (slot.inFlight === 0) this.schedule(byShape, shape, slot, batch);
    }
    batch.run = run;
    const opened = batch;
    const result = new Promise<BatchAnswer<Result> | undefined>((resolve) => {
      const waiting = opened.waiters.get(key);
      if (waiting) waiting.resolvers.push(resolve);
      else opened.waiters.set(key, { item, resolvers: [resolve] });
    });
    if (++batch.size >= this.maxBatch) this.send(byShape, shape, slot, batch);
    return result;
  }

  /** Sends the batch after the I/O callbacks of this turn: the other requests that arrived with the last one have reached here too. */
  private schedule(byShape: Map<string, Slot<Item, Result>>, shape: string, slot: Slot<Item, Result>, batch: Batch<Item, Result>): void {
    batch.scheduled = true;
    setImmediate(() => this.send(byShape, shape, slot, batch));
  }

  private send(byShape: Map<string, Slot<Item, Result>>, shape: string, slot: Slot<Item, Result>, batch: Batch<Item, Result>): void {
    if (batch.sent) return;
    batch.sent = true;
    if (slot.open === batch) slot.open = undefined;
    const answer = (result: Result | undefined) => {
      let index = 0;
      for (const { resolvers } of batch.waiters.values()) {
        for (const resolve of resolvers) resolve(result === undefined ? undefined : { result, index });
        index++;
      }
    };
    // Alone: the item's own statement, as without batching.
    if (batch.size === 1) {
      this.release(byShape, shape, slot);
      return answer(undefined);
    }
    this.stats.batchStatements++;
    slot.inFlight++;
    const settled = () => {
      slot.inFlight--;
      // The batch held behind this one goes now (in this turn's end, with whatever else arrives in it).
      const next = slot.open;
      if (next && !next.scheduled) {
        this.stats.heldBatches++;
        this.schedule(byShape, shape, slot, next);
      }
      this.release(byShape, shape, slot);
    };
    batch.run([...batch.waiters.values()].map((w) => w.item)).then(
      (result) => {
        if (result !== undefined) this.stats.coalesced += batch.size;
        else this.stats.batchStatements--;
        settled();
        answer(result);
      },
      () => {
        this.stats.failedBatches++;
        settled();
        answer(undefined);
      },
    );
  }

  /** Forgets a slot with nothing gathering and nothing in flight. */
  private release(byShape: Map<string, Slot<Item, Result>>, shape: string, slot: Slot<Item, Result>): void {
    if (!slot.open && slot.inFlight === 0 && byShape.get(shape) === slot) byShape.delete(shape);
  }
}
