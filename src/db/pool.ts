// PostgreSQL connection pool and a transaction helper shared by the FHIR server and the BPE.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;
/** A pool or a client of one (a transaction's connection). */
export type Db = pg.Pool | pg.PoolClient;

// Return bigint/int8 as JS numbers (versions, sizes stay far below 2^53) and timestamps as ISO strings
// are produced in SQL where needed; numeric stays a string.
pg.types.setTypeParser(20, (v) => Number(v));

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => {});
  return pool;
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
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04' && e.code !== '23505') throw e; // created concurrently by another process
      });
    }
  } finally {
    await admin.end();
  }
}
