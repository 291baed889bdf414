// Database work on behalf of one HTTP request: a statement timeout on every statement it runs, and
// cancellation of its running statements when the client goes away, so that an abandoned or
// pathological request cannot hold connections and CPU that other requests need.
//
// The scope is handed down explicitly: `RequestScopes.poolFor(scope)` is a view of the pool whose
// query() and connect() take part in that scope, and the HTTP layer passes it to whatever runs SQL for
// the request. (Not AsyncLocalStorage: on Node 20 an AsyncLocalStorage in use turns on promise hooks
// for every promise of the process, a few percent of the server's CPU per request.)
import pg from 'pg';
import type { Db } from './pool.ts';

export interface RequestScopeOptions {
  /** Longest a single statement of a request may run (PostgreSQL statement_timeout); 0: no limit. */
  statementTimeoutMs: number;
  /** Told when cancelling a statement failed (the statement then runs to its end). */
  onCancelError?: (error: Error) => void;
}

/** Thrown by queries of a request whose client has gone. */
export class RequestAbortedError extends Error {
  constructor() {
    super('The client closed the connection; the request was abandoned');
  }
}

/** The statement_timeout each connection was last set to (connections outlive requests). */
const connectionTimeouts = new WeakMap<pg.PoolClient, number>();

export class RequestScope {
  private abortedFlag = false;
  // Both made when first needed: most requests' scopes never check out a connection (their reads
  // share a statement another request runs), and none but an abandoned one cancels.
  /** Clients of this scope with the number of their statements still running. */
  private running: Map<pg.PoolClient, number> | undefined;
  /** Cancellations under way: the client goes back to the pool only after its cancel was handled. */
  private cancels: Map<pg.PoolClient, Promise<void>> | undefined;

  constructor(private readonly cancel: (client: pg.PoolClient) => Promise<void>) {}

  get aborted(): boolean {
    return this.abortedFlag;
  }

  /** The client is gone: cancel the running statements; no further connections are handed out. */
  abort(): void {
    if (this.abortedFlag) return;
    this.abortedFlag = true;
    if (!this.running) return;
    const cancels = (this.cancels ??= new Map());
    for (const [client, n] of this.running) if (n > 0 && !cancels.has(client)) cancels.set(client, this.cancel(client));
  }

  /** Routes a checked-out client's statements through this scope until it is released. */
  adopt(client: pg.PoolClient): void {
    const ownQuery = Object.prototype.hasOwnProperty.call(client, 'query') ? client.query : undefined;
    const query = client.query;
    const release = client.release;
    const running = (this.running ??= new Map());
    running.set(client, 0);
    const scope = this;
    // Closures assigned to properties or passed inline, none bound to a name (written for tsx's
    // keepNames, which named each one with a defineProperty; our loader, bin/ts-loader.mjs, does not).
    client.query = ((...args: unknown[]) => {
      // Statements after an abort still run (ROLLBACK, caches re-reading what a rollback undid), but
      // only once the cancel was handled: a late cancel must not hit them instead.
      const cancelling = scope.cancels?.get(client);
      if (cancelling && typeof args[args.length - 1] !== 'function') return cancelling.then(() => runCounted(client, query, running, args));
      return runCounted(client, query, running, args);
    }) as typeof client.query;
    client.release = (err?: Error | boolean) => {
      if (ownQuery) client.query = ownQuery;
      else delete (client as { query?: unknown }).query;
      client.release = release;
      running.delete(client);
      const cancelling = this.cancels?.get(client);
      this.cancels?.delete(client);
      // A cancel arriving after the client served someone else would hit that request's statement.
      if (cancelling) void cancelling.finally(() => release.call(client, err));
      else release.call(client, err);
    };
  }
}

/** Runs a statement on the client's own query(), counting it in `running` while its promise is pending. */
function runCounted(client: pg.PoolClient, query: pg.PoolClient['query'], running: Map<pg.PoolClient, number>, args: unknown[]): unknown {
  const result = (query as (...a: unknown[]) => unknown).apply(client, args);
  if (result instanceof Promise) {
    running.set(client, (running.get(client) ?? 0) + 1);
    result.then(
      () => countDown(running, client),
      () => countDown(running, client),
    );
  }
  return result;
}

function countDown(running: Map<pg.PoolClient, number>, client: pg.PoolClient): void {
  running.set(client, (running.get(client) ?? 1) - 1);
}

/** What poolFor() hands out: a pool (by inheritance) whose query() and connect() belong to a scope. */
interface PoolView extends pg.Pool {
  readonly scope: RequestScope;
}

/** The views of each RequestScopes' pool, to tell a view from a connection. */
const viewedPools = new WeakMap<object, pg.Pool>();

/** The pool a request's view (RequestScopes.poolFor) stands for, the pool itself for a pool, undefined for a connection. */
export function poolBehind(db: Db): pg.Pool | undefined {
  if (!(db instanceof pg.Pool)) return undefined;
  return viewedPools.get(Object.getPrototypeOf(db) as object) ?? db;
}

export class RequestScopes {
  /** The prototype of this pool's views: the pool itself, with query() and connect() of the view's scope. */
  private readonly viewPrototype: pg.Pool;

  constructor(
    private readonly target: pg.Pool,
    private readonly opts: RequestScopeOptions,
  ) {
    const scopes = this;
    this.viewPrototype = Object.create(target, {
      query: {
        value: function query(this: PoolView, ...args: unknown[]) {
          return scopes.query(this.scope, args);
        },
      },
      connect: {
        value: function connect(this: PoolView, ...args: unknown[]) {
          return scopes.connect(this.scope, args);
        },
      },
    }) as pg.Pool;
    viewedPools.set(this.viewPrototype, target);
  }

  /** A new scope, for one request. */
  create(): RequestScope {
    return new RequestScope((client) => this.cancelBackend(client));
  }

  /**
   * The pool as the scope's request sees it: query() and connect() take part in the scope, all else
   * is the pool's own. One small object per request; hand it to whatever runs SQL for the request.
   */
  poolFor(scope: RequestScope): pg.Pool {
    const view = Object.create(this.viewPrototype) as { scope: RequestScope };
    view.scope = scope;
    return view as unknown as pg.Pool;
  }

  private async connect(scope: RequestScope, args: unknown[]): Promise<pg.PoolClient> {
    if (typeof args[0] === 'function') return (this.target.connect as (...a: unknown[]) => Promise<pg.PoolClient>)(...args);
    if (scope.aborted) throw new RequestAbortedError();
    const client = await this.target.connect();
    try {
      // Connections outlive requests: most already have the timeout, and need no call and no await.
      if (connectionTimeouts.get(client) !== this.timeoutMs()) await this.applyTimeout(client);
    } catch (e) {
      client.release(e as Error);
      throw e;
    }
    scope.adopt(client);
    return client;
  }

  private async query(scope: RequestScope, args: unknown[]): Promise<unknown> {
    if (typeof args[args.length - 1] === 'function') return (this.target.query as (...a: unknown[]) => Promise<unknown>)(...args);
    const client = await this.connect(scope, []);
    let failed: Error | undefined;
    try {
      return await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (e) {
      failed = e as Error;
      throw e;
    } finally {
      // An error PostgreSQL reported (it has a SQLSTATE) or our own refusal leaves the connection
      // usable; anything else may have broken it, so the pool drops it.
      const keep = !failed || failed instanceof RequestAbortedError || typeof (failed as { code?: unknown }).code === 'string';
      client.release(keep ? undefined : failed);
    }
  }

  private timeoutMs(): number {
    return Math.max(0, Math.floor(this.opts.statementTimeoutMs));
  }

  /** Sets the statement timeout on a connection that does not have it yet (the caller checked). */
  private async applyTimeout(client: pg.PoolClient): Promise<void> {
    const ms = this.timeoutMs();
    await client.query(`SET statement_timeout = ${ms}`);
    connectionTimeouts.set(client, ms);
  }

  /**
   * Cancels what the client's backend is running, from a connection of its own: the pool may have no
   * free connection, exactly when requests pile up.
   */
  private async cancelBackend(client: pg.PoolClient): Promise<void> {
    const pid = (client as pg.PoolClient & { processID?: number }).processID;
    if (!pid) return;
    const admin = new pg.Client(this.target.options);
    try {
      await admin.connect();
      await admin.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch (e) {
      this.opts.onCancelError?.(e as Error);
    } finally {
      await admin.end().catch(() => {});
    }
  }
}
