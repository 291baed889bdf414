// Each test file gets databases of its own on the test PostgreSQL server (see test/run.ts).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, withDatabase } from '../../src/db/pool.ts';

export function testServerUrl(): string {
  const url = process.env.DSF_TEST_DATABASE_URL;
  if (!url) throw new Error('DSF_TEST_DATABASE_URL is not set: run the tests with `npm test`');
  return url;
}

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name; drop() removes it (closing the pool first). */
export async function createTestDatabase(prefix = 'dsf_test'): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(server, name);
  const pool = createPool(url, 20);
  return {
    url,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const a = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Drops every database on the server whose name starts with `prefix` (what a demo network made). */
export async function dropDatabasesStartingWith(server: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
  await admin.connect();
  try {
    const names = (await admin.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])).rows.map((r) => r.datname as string);
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
