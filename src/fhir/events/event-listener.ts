// Follows the committed-change stream (store/change-stream.ts) for one server process, on one dedicated
// PostgreSQL connection (not from the pool), and hands each change on strictly one after the other.
//
// When to look: at once when this process committed a write someone here waits for (committed(), called
// by the store after its COMMIT; event-delivery.ts decides); when another process on the database says so (a payload-less NOTIFY on the channel, sent
// after its commit, so no write transaction ever notifies); and every second as a safety net (writers
// that announce nothing, a lost notification). Looks are coalesced: one read at a time, and one more
// if something happened during it. The NOTIFY for other processes is coalesced the same way, and sent
// only while another process follows the stream on the database: each NOTIFY is a small transaction
// that wakes every listener, not worth its CPU for a site with one FHIR server process. Every listener's
// connection holds a shared session advisory lock, which the others find in pg_locks whatever the
// connection is named (an operator may set application_name in the database URL). A listener says
// hello with a NOTIFY when it connects, so the others know at once; the poll notices when they leave.
//
// The position is kept in memory, so a lost connection loses nothing: after reconnecting, reading goes
// on where it stopped. Only a change whose handling failed is a gap (onGap): subscribers catch up.
import pg from 'pg';
import { CHANGE_CHANNEL } from '../store/schema.ts';
import { currentStreamPosition, readCommittedChanges, STREAM_READ_SETTINGS, type CommittedChange, type StreamCursor } from '../store/change-stream.ts';
import { preparedStatementCount, usePreparedStatementsOn } from '../../db/prepared-statements.ts';
import { OneAtATime } from '../../db/one-at-a-time.ts';

export interface EventListenerHandlers {
  /** Called for each committed change, in the order changes became visible; the next waits for the returned promise. */
  onChange(change: CommittedChange): Promise<void>;
  /** Called when handling a change failed: that change was not delivered. */
  onGap?(): Promise<void> | void;
  /** Types whose changes should come with their content (those someone will deliver). */
  contentTypes?(): readonly string[];
  log?(msg: string): void;
}

export interface EventListenerOptions {
  /** Safety-net poll (ms); default 1 s. */
  pollIntervalMs?: number;
}

/** The name the listener's connection shows in pg_stat_activity, unless the database URL sets another. */
export const EVENT_CONNECTION_NAME = 'dsf-fhir-events';

/** Every listener holds pg_advisory_lock_shared(FOLLOWER_LOCK_CLASS, 0) while connected: 'DSFE'. */
const FOLLOWER_LOCK_CLASS = 0x44_53_46_45;

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
const DEFAULT_POLL_MS = 1_000;
const PAGE_SIZE = 500;
/** Reading pauses while this many changes wait to be handled (a slow subscriber must not fill memory). */
const MAX_QUEUED = 2_000;

export class EventListener {
  private client: pg.Client | undefined;
  /** The reads, NOTIFYs and polls of a connection take turns on it (a pg client runs one statement at a time). */
  private readonly turns = new WeakMap<pg.Client, OneAtATime>();
  private cursor: StreamCursor | undefined;
  private readonly queue: CommittedChange[] = [];
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  private reading: Promise<void> | undefined;
  private readWanted = false;
  private notifying = false;
  private looking = false;
  private notifyWanted = false;
  /** Whether another process follows the stream on this database (then commits are worth a NOTIFY). */
  private othersListening = true;
  /** Notifications heard from other processes (a check of who listens that overlaps one does not count). */
  private heard = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly handlers: EventListenerHandlers,
    private readonly options: EventListenerOptions = {},
  ) {}

  /**
   * Connects and listens; resolves once active (rejects if the first attempt fails). The first start
   * takes the current position: changes committed before it are not delivered. A start after stop()
   * goes on from where the listener stopped.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
    this.pollTimer = setInterval(() => {
      this.wake();
      void this.lookForOthers();
    }, this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.pollTimer.unref();
    this.wake();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.connection, application_name: this.connection.application_name ?? EVENT_CONNECTION_NAME, keepAlive: true });
    client.on('notification', (n) => {
      // Our own NOTIFY (sent for the other processes) tells us nothing new.
      if (n.channel !== CHANGE_CHANNEL || n.processId === (client as pg.Client & { processID?: number }).processID) return;
      this.heard++;
      this.othersListening = true;
      this.wake();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // Only the NOTIFY transactions commit on this connection: they need not wait for the WAL flush.
      // The stream's reads run once per committed write group: as named statements with a generic plan
      // they skip parse, analysis and planning (STREAM_READ_SETTINGS says why that plan stays good).
      await client.query(`SET synchronous_commit = off; ${STREAM_READ_SETTINGS}`);
      usePreparedStatementsOn(client);
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      // Shared: never waits, never makes anyone wait; released when the connection ends.
      await client.query('SELECT pg_advisory_lock_shared($1, 0)', [FOLLOWER_LOCK_CLASS]);
      this.cursor ??= { since: await currentStreamPosition(client) };
      await client.query(`NOTIFY ${CHANGE_CHANNEL}`); // hello: the others notify from now on
      await this.lookForOthers(client);
    } catch (e) {
      client.removeAllListeners('end').removeAllListeners('error').on('error', () => {});
      await client.end().catch(() => {});
      throw e;
    }
    this.client = client;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.handlers.log?.('event listener lost its database connection; reconnecting');
    this.reconnect(MIN_BACKOFF_MS);
  }

  private reconnect(delay: number): void {
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(async () => {
      try {
        await this.connect();
        this.wake(); // whatever committed meanwhile
      } catch {
        this.reconnect(Math.min(delay * 2, MAX_BACKOFF_MS));
      }
    }, delay);
  }

  /** Runs `task` on the connection once the tasks handed to it before are done. */
  private inTurn<T>(client: pg.Client, task: (client: pg.Client) => Promise<T>): Promise<T> {
    let turns = this.turns.get(client);
    if (!turns) this.turns.set(client, (turns = new OneAtATime()));
    return turns.run(() => task(client));
  }

  /** Whether another listener is connected to this database: another session holds the follower lock here. */
  private async lookForOthers(client = this.client): Promise<void> {
    // One check at a time: poll ticks while the connection is busy (a long read) do not pile up.
    if (!client || this.looking) return;
    this.looking = true;
    const heard = this.heard;
    try {
      // A two-key advisory lock shows in pg_locks as classid = key 1, objid = key 2, objsubid = 2.
      const sql = `SELECT EXISTS (
           SELECT 1 FROM pg_locks
           WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND classid = $1::bigint::oid AND objid = 0 AND objsubid = 2 AND granted AND pid <> pg_backend_pid()) AS others`;
      const r = await this.inTurn(client, (c) => c.query(sql, [FOLLOWER_LOCK_CLASS]));
      if (this.heard === heard) this.othersListening = r.rows[0].others === true;
    } catch {
      this.othersListening = true; // when in doubt, notify
    } finally {
      this.looking = false;
    }
  }

  /**
   * A write of this process committed: tell the other processes on the database, and read at once
   * unless `readNow` is false (nobody here waits for what it wrote: the next read or poll takes it).
   */
  committed(readNow = true): void {
    if (readNow) this.wake();
    this.notifyOthers();
  }

  private notifyOthers(): void {
    const client = this.client;
    if (!client || !this.othersListening) return; // the others' poll finds it
    if (this.notifying) {
      this.notifyWanted = true;
      return;
    }
    this.notifying = true;
    this.notifyWanted = false;
    this.inTurn(client, (c) => c.query(`NOTIFY ${CHANGE_CHANNEL}`))
      .catch(() => {})
      .finally(() => {
        this.notifying = false;
        if (this.notifyWanted) this.notifyOthers();
      });
  }

  /** The named statements prepared on the listener's connection (diagnostics, tests); undefined when not connected. */
  preparedStatements(): number | undefined {
    return this.client && preparedStatementCount(this.client);
  }

  /** Reads what committed since the last read (now, or right after the read under way). */
  wake(): void {
    this.readWanted = true;
    if (!this.reading && this.client && !this.stopped) this.reading = this.readWhileWanted().finally(() => (this.reading = undefined));
  }

  private async readWhileWanted(): Promise<void> {
    for (let client = this.client; this.readWanted && client && !this.stopped && this.cursor; client = this.client) {
      this.readWanted = false;
      let page: Awaited<ReturnType<typeof readCommittedChanges>>;
      try {
        const cursor = this.cursor;
        page = await this.inTurn(client, (c) => readCommittedChanges(c, cursor, PAGE_SIZE, this.handlers.contentTypes?.() ?? []));
      } catch (e) {
        // A lost connection reconnects and wakes; anything else is tried again by the next poll.
        if (this.client === client) this.handlers.log?.(`reading the change stream failed: ${(e as Error).message}`);
        return;
      }
      if (this.stopped) return; // a restart reads this step again
      this.cursor = page.next;
      if (page.more) this.readWanted = true;
      for (const change of page.changes) this.queue.push(change);
      if (page.changes.length) this.drain();
      while (this.queue.length > MAX_QUEUED && this.draining) await this.idle;
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.idle = (async () => {
      try {
        for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
          try {
            await this.handlers.onChange(next);
          } catch (e) {
            this.handlers.log?.(`event handling failed: ${(e as Error).message}`);
            await Promise.resolve(this.handlers.onGap?.()).catch(() => {});
          }
        }
      } finally {
        this.draining = false;
      }
    })();
  }

  /** Resolves when everything committed before the call has been read and handled (for tests and shutdown). */
  async settled(): Promise<void> {
    this.wake();
    for (let i = 0; i < 1_000 && (this.reading || this.draining || this.readWanted); i++) {
      if (this.reading) await this.reading;
      else if (this.draining) await this.idle;
      else if (this.client) this.wake();
      else break; // not connected: nothing can be read now
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pollTimer);
    const c = this.client;
    this.client = undefined;
    await this.reading;
    await c?.end().catch(() => {});
    while (this.draining) await this.idle;
  }
}
