// A connection pool whose connections all stay busy: a further checkout or query fails after the pool's
// wait timeout with an error naming the pool, instead of waiting for ever.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPool, DEFAULT_POOL_WAIT_TIMEOUT_MS, PoolWaitTimeoutError } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_pool');
});
after(async () => {
  await db?.drop();
});

test('every connection busy: connect() and query() fail with PoolWaitTimeoutError after the wait timeout', { timeout: 30_000 }, async () => {
  const pool = createPool(db.url, 1, { waitTimeoutMs: 300 });
  try {
    const held = await pool.connect();
    try {
      const t0 = performance.now();
      await assert.rejects(pool.connect(), (e: unknown) => e instanceof PoolWaitTimeoutError && e.max === 1 && e.waitTimeoutMs === 300 && /300 ms/.test(e.message));
      await assert.rejects(pool.query('SELECT 1'), PoolWaitTimeoutError);
      // A bound, not a timing assertion: the two waits end long before the test's own timeout.
      assert.ok(performance.now() - t0 < 20_000);
    } finally {
      held.release();
    }
    // The pool works again once the connection is back.
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    await pool.end();
  }
});

test('a pool created without a wait timeout still has one', () => {
  const pool = createPool(db.url, 1);
  try {
    assert.equal(pool.options.connectionTimeoutMillis, DEFAULT_POOL_WAIT_TIMEOUT_MS);
  } finally {
    void pool.end();
  }
});

test('a database server refusing connections (nothing listening): the error is the connection error, not a hang', { timeout: 30_000 }, async () => {
  const u = new URL(db.url);
  u.port = '1'; // nothing listens on port 1 of loopback
  const pool = createPool(u.toString(), 1, { waitTimeoutMs: 2_000 });
  try {
    await assert.rejects(pool.query('SELECT 1'), (e: unknown) => e instanceof Error && !(e instanceof PoolWaitTimeoutError));
  } finally {
    await pool.end();
  }
});
