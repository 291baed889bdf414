// The writes of one transaction held back and sent together (store/version-writes.ts), so that a
// transaction Bundle of a hundred entries writes in one statement instead of a hundred, and a create
// is that statement alone. Every other statement on the transaction's connection first sends what is
// held back: whatever it reads (a conditional match, a reference check, an update's current version)
// sees the writes before it.
import type { VersionWrite } from './version-writes.ts';
import { spreadWith } from '../../common/spread-with.ts';
import type { TransactionClient } from '../../db/pool.ts';
import { queryWhenReady, type QueryFn } from '../../db/query-when-ready.ts';

/** A held-back write the database refused (a uniqueness clash), with the label of who asked for it. */
export class BatchedWriteError extends Error {
  constructor(
    readonly label: unknown,
    override readonly cause: unknown,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}


/** `V`: the current versions the store keeps in `locked`. */
export class WriteBatch<V = unknown> {
  /** Told with every write queued from now on (a transaction's entry); comes back in BatchedWriteError. */
  label: unknown;
  /**
   * Current versions read under their write lock in this transaction (null: no such resource). The
   * lock is held to the end of the transaction, so they stay current but for this transaction's own
   * writes, which update them here.
   */
  readonly locked = new Map<string, V | null>();
  private pending: VersionWrite[] = [];
  private readonly pendingIds = new Set<string>();
  private flushing: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;

  constructor(private readonly write: (writes: VersionWrite[]) => Promise<void>) {}

  /**
   * Whether a statement must wait for a flush first. Not while one is being sent: the flush's own
   * statements pass, and anything else queues behind them on the connection anyway.
   */
  private get mustFlush(): boolean {
    return this.pending.length > 0 || this.failure !== undefined;
  }

  /** Holds a write back; a second write of the same resource sends the first one before. */
  async add(write: VersionWrite): Promise<void> {
    if (this.pendingIds.has(write.id)) await this.flush();
    // Copied by assignment: V8 builds `{ ...write, label }` on a slow path (common/spread-with.ts).
    this.pending.push(spreadWith(write, { label: this.label }));
    this.pendingIds.add(write.id);
  }

  /**
   * Sends what is held back, inside the transaction (BEGIN first if not yet sent). After a failure
   * every later flush fails the same way: nothing may commit.
   */
  async flush(): Promise<void> {
    if (this.begin) {
      const begin = this.begin;
      this.begin = undefined;
      await begin();
    }
    await this.send();
  }

  /** Sends what is held back as it is: the store's one statement outside BEGIN/COMMIT, once detached. */
  async send(): Promise<void> {
    for (let round = 0; ; round++) {
      if (this.failure) throw this.failure.error;
      if (this.flushing) await this.flushing;
      else if (!this.pending.length) return;
      else {
        const writes = this.pending;
        this.pending = [];
        this.pendingIds.clear();
        this.flushing = this.write(writes).then(
          () => {
            this.flushing = undefined;
          },
          (e) => {
            this.flushing = undefined;
            this.failure = { error: e };
            throw e;
          },
        );
        await this.flushing;
      }
      if (round > 1_000) throw new Error('write batch: writes keep arriving during flushes');
    }
  }

  /** BEGIN, still to be sent before the first statement other than the writes (attach). */
  private begin: (() => Promise<void>) | undefined;

  /** Whether BEGIN was sent (or the batch is not attached). */
  get begun(): boolean {
    return this.begin === undefined;
  }

  /**
   * Routes the client's statements through this batch until the returned function is called: each
   * waits for BEGIN (`begin`, sent only when a statement other than the writes comes) and for the
   * held-back writes to be sent first.
   */
  attach(client: TransactionClient, begin: (send: (text: string) => Promise<unknown>) => Promise<void>): () => void {
    const own = Object.prototype.hasOwnProperty.call(client, 'query');
    const inner = client.query as unknown as QueryFn;
    const batch = this;
    this.begin = () => begin((text) => inner.call(client, text) as Promise<unknown>);
    (client as unknown as { query: QueryFn }).query = function batchedQuery(...args: unknown[]): unknown {
      // While held-back writes are being sent, their own statements (and any other, queued behind them on the connection) pass.
      if (batch.begun && !batch.mustFlush) return inner.apply(client, args);
      return queryWhenReady(batch.flush(), (_, rest) => inner.apply(client, rest), args, 'write batch: a submittable query cannot wait for held-back writes');
    };
    return () => {
      this.begin = undefined;
      if (own) (client as unknown as { query: QueryFn }).query = inner;
      else delete (client as { query?: unknown }).query;
    };
  }
}
