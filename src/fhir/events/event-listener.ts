// One dedicated PostgreSQL connection per server process (not from the pool) that LISTENs on the events
// channel. Notifications are handled strictly one after the other, so clients see changes in commit
// order. When the connection drops, it reconnects with a bounded backoff and reports the gap: changes
// committed meanwhile were not heard, and whoever relies on the stream must catch up.
import pg from 'pg';
import { CHANGE_CHANNEL } from '../store/schema.ts';
import { parseChange, type ResourceChange } from './change-notifier.ts';

export interface EventListenerHandlers {
  /** Called for each committed change, in commit order; the next waits for the returned promise. */
  onChange(change: ResourceChange): Promise<void>;
  /** Called after a reconnect: notifications may have been lost while the connection was down. */
  onGap(): Promise<void> | void;
  log?(msg: string): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export class EventListener {
  private client: pg.Client | undefined;
  /** Changes in commit order; 'gap' marks where a lost connection may have missed some. */
  private queue: (ResourceChange | 'gap')[] = [];
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly handlers: EventListenerHandlers,
  ) {}

  /** Connects and listens; resolves once LISTEN is active (rejects if the first attempt fails). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.connection, keepAlive: true });
    client.on('notification', (n) => {
      if (n.channel !== CHANGE_CHANNEL || !n.payload) return;
      const change = parseChange(n.payload);
      if (change) this.enqueue(change);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
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
        // Handled after the changes queued before the gap, so the order stays intact.
        this.enqueueGap();
      } catch {
        this.reconnect(Math.min(delay * 2, MAX_BACKOFF_MS));
      }
    }, delay);
  }

  private enqueueGap(): void {
    this.queue.push('gap');
    this.drain();
  }

  private enqueue(change: ResourceChange): void {
    this.queue.push(change);
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.idle = (async () => {
      try {
        for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
          const item = next;
          await this.safely(() => (item === 'gap' ? this.handlers.onGap() : this.handlers.onChange(item)));
        }
      } finally {
        this.draining = false;
      }
    })();
  }

  private async safely(fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.handlers.log?.(`event handling failed: ${(e as Error).message}`);
    }
  }

  /** Resolves when every change heard so far has been handled (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.draining) await this.idle;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
    await this.settled();
  }
}
