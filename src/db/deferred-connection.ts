// A transaction's connection checked out from the pool only when its first statement is sent. A create
// sends no statement of its own: its write joins a shared group statement (fhir/store/write-groups.ts)
// that runs on one member's connection, so the other members never need one, and checking each out
// and back (the pool's queue, its checkout timer and idle timer, the request scope's wrappers) was work
// per create for nothing.
//
// It stands in for a pg.PoolClient where the transaction's code only sends statements and releases it:
// query() (promise or callback form) and release(). Statements are sent in the order they were given,
// also those given while the checkout is under way.
import type pg from 'pg';
import { queryWhenReady, type QueryFn } from './query-when-ready.ts';

export class DeferredConnection {
  private client: pg.PoolClient | undefined;
  private checkout: Promise<pg.PoolClient> | undefined;
  private released = false;

  constructor(private readonly pool: pg.Pool) {}

  /** Whether a connection was checked out (for tests and measurements). */
  get checkedOut(): boolean {
    return this.checkout !== undefined;
  }

  /** The connection, checked out now if it was not yet. */
  connection(): Promise<pg.PoolClient> {
    if (this.released) return Promise.reject(new Error('deferred connection: used after release'));
    return (this.checkout ??= this.pool.connect().then((c) => (this.client = c)));
  }

  query(...args: unknown[]): unknown {
    const client = this.client;
    if (client) return (client.query as unknown as QueryFn).apply(client, args);
    return queryWhenReady(this.connection(), (c, rest) => (c.query as unknown as QueryFn).apply(c, rest), args, 'deferred connection: a submittable query needs the connection checked out first');
  }

  /** Gives the connection back, if one was checked out (once the checkout is done, if it is under way). */
  release(err?: Error | boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.client) this.client.release(err);
    else if (this.checkout) this.checkout.then((c) => c.release(err), () => {});
  }
}
