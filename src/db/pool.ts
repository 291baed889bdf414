// PostgreSQL connection pool and a transaction helper shared by the FHIR server and the BPE.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/**
 * A transaction's connection as its code uses it: statements and, at the end, release. ResourceStore's
 * transactions hand out a DeferredConnection (db/deferred-connection.ts), checked out on its first statement.
 */
export type TransactionClient = Pick<pg.PoolClient, 'query' | 'release'>;
export type Queryable = Pick<pg.Pool, 'query'> | TransactionClient;
/** A pool or a client of one (a transaction's connection). */
export type Db = pg.Pool | TransactionClient;

// Return bigint/int8 as JS numbers (versions, sizes stay far below 2^53) and timestamps as ISO strings
// are produced in SQL where needed; numeric stays a string.
pg.types.setTypeParser(20, (v) => Number(v));

/** Longest wait for a connection when the caller sets none: a wait must end, never hang a request or job. */
export const DEFAULT_POOL_WAIT_TIMEOUT_MS = 60_000;

/**
 * No connection within the pool's wait timeout: all of the pool's connections stayed busy, or the
 * database server did not accept a new one in time (overload, max_connections reached).
 */
export class PoolWaitTimeoutError extends Error {
  constructor(
    readonly max: number,
    readonly waitTimeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`no database connection within ${waitTimeoutMs} ms (pool of ${max} connections busy, or the database did not accept a new connection)`, options);
    this.name = 'PoolWaitTimeoutError';
  }
}

/** pg-pool's own errors for a timed-out checkout and a timed-out new connection. */
const isPgPoolTimeout = (e: unknown) => e instanceof Error && (e.message === 'timeout exceeded when trying to connect' || e.message === 'Connection terminated due to connection timeout');

/**
 * PostgreSQL refused a new connection for now: too many connections (max_connections, or a role's or
 * database's connection limit: 53300) or the server is starting or stopping (57P03). Both pass: other
 * pools give theirs back after their idle timeout, a restart ends.
 */
const isRefusedForNow = (e: unknown) => {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '53300' || code === '57P03';
};

/** First pause before a refused connection is tried again; it doubles up to the last. */
const REFUSED_RETRY_FIRST_MS = 25;
const REFUSED_RETRY_MAX_MS = 1_000;

/**
 * pg.Pool whose connect() (also used by its query()) fails with PoolWaitTimeoutError after the wait
 * timeout, and which tries a connection PostgreSQL refused for now again within that timeout instead
 * of failing the request or job that needed it.
 */
class BoundedPool extends pg.Pool {
  /** Made once per pool: connect() runs for every request, and a closure made there is an allocation per request. */
  private readonly onConnectError = (e: Error): Promise<pg.PoolClient> => (isRefusedForNow(e) ? this.connectAgain(e) : Promise.reject(this.translate(e)));

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
    if (!callback) return super.connect().catch(this.onConnectError);
    super.connect((err, client, done) => {
      if (!err) return callback(undefined, client, done);
      if (!isRefusedForNow(err)) return callback(this.translate(err), undefined, done);
      this.connectAgain(err).then(
        (c) => callback(undefined, c, (release) => c.release(release as boolean | Error | undefined)),
        (e: Error) => callback(e, undefined, () => {}),
      );
    });
  }

  /** Tries again after growing pauses until a connection comes or the wait timeout has passed since the first refusal. */
  private async connectAgain(first: Error): Promise<pg.PoolClient> {
    const waitMs = this.options.connectionTimeoutMillis ?? DEFAULT_POOL_WAIT_TIMEOUT_MS;
    const deadline = performance.now() + waitMs;
    let pause = REFUSED_RETRY_FIRST_MS;
    let last: unknown = first;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || this.ending) throw new PoolWaitTimeoutError(this.options.max, waitMs, { cause: last });
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      pause = Math.min(pause * 2, REFUSED_RETRY_MAX_MS);
      try {
        return await super.connect();
      } catch (e) {
        if (!isRefusedForNow(e)) throw this.translate(e as Error);
        last = e;
      }
    }
  }

  private translate(e: Error): Error {
    return isPgPoolTimeout(e) ? new PoolWaitTimeoutError(this.options.max, this.options.connectionTimeoutMillis ?? 0, { cause: e }) : e;
  }
}

export interface PoolOptions {
  /** Longest wait for a free connection or a new one (ms); default DEFAULT_POOL_WAIT_TIMEOUT_MS. */
  waitTimeoutMs?: number;
}

export function createPool(url: string, max = 10, opts: PoolOptions = {}): pg.Pool {
  const pool = new BoundedPool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: opts.waitTimeoutMs ?? DEFAULT_POOL_WAIT_TIMEOUT_MS });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => {});
  // The connections lent out now, so endPool can cut those whose work was abandoned.
  const lent = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => lent.add(client));
  pool.on('release', (_err, client) => lent.delete(client));
  pool.on('remove', (client) => lent.delete(client as pg.PoolClient));
  lentClients.set(pool, lent);
  return pool;
}

const lentClients = new WeakMap<pg.Pool, Set<pg.PoolClient>>();

/** After cutting abandoned connections, how long endPool still waits for their work to give them back. */
const ABANDONED_RELEASE_WAIT_MS = 1_000;

/**
 * Ends a pool of createPool. pg's end() waits for every lent connection to come back; work that has
 * not given its connection back within graceMs is abandoned: its connections are closed, so
 * PostgreSQL rolls its transactions back and releases its locks (the work runs again after a
 * restart). Bounded: returns after graceMs and one more second at most. Returns how many
 * connections were cut.
 */
export async function endPool(pool: pg.Pool, graceMs: number): Promise<number> {
  const ended = pool.end().then(() => true);
  const within = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([ended, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return inTime;
  };
  if (await within(graceMs)) return 0;
  const lent = [...(lentClients.get(pool) ?? [])];
  // Closing a lent client's connection fails its running query; the pool drops the client when the
  // abandoned work releases it (which may be never: then the process exit finishes the job).
  await Promise.all(lent.map((c) => (c as pg.PoolClient & { end(): Promise<void> }).end().catch(() => {})));
  await within(ABANDONED_RELEASE_WAIT_MS);
  return lent.length;
}

/** Runs fn inside BEGIN/COMMIT on one client; rolls back on any error. */
/**
 * Runs fn in a transaction. `settled` (optional) runs after COMMIT or ROLLBACK on the same connection,
 * before it is released: for caches that must follow what was committed.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, settled?: (client: pg.PoolClient, committed: boolean) => Promise<void>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let result: T;
    try {
      result = await fn(client);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      await settled?.(client, false);
      throw e;
    }
    await settled?.(client, true);
    return result;
  } finally {
    client.release();
  }
}

/** Replaces the database name in a postgres:// URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates the database if it does not exist (connecting to the server's 'postgres' database). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  // A pool of one for its retries: a server refusing connections for now is tried again (30 s at most).
  const adminPool = createPool(withDatabase(url, 'postgres'), 1, { waitTimeoutMs: 30_000 });
  const admin = await adminPool.connect().catch(async (e: unknown) => {
    await adminPool.end();
    throw e;
  });
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04' && e.code !== '23505') throw e; // created concurrently by another process
      });
    }
  } finally {
    admin.release();
    await adminPool.end();
  }
}
