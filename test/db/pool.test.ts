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

// PostgreSQL refusing a connection for now (here a role's connection limit; max_connections gives the
// same error, 53300): the pool tries again within its wait timeout instead of failing the request.
test('a connection PostgreSQL refuses for now (too many connections) is tried again within the wait timeout', { timeout: 30_000 }, async () => {
  const role = `dsf_pool_limited_${process.pid}`;
  await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
  await db.pool.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
  const url = new URL(db.url);
  url.username = role;
  url.password = '';
  const holder = createPool(url.toString(), 1);
  const pool = createPool(url.toString(), 2, { waitTimeoutMs: 10_000 });
  const short = createPool(url.toString(), 2, { waitTimeoutMs: 400 });
  try {
    const held = await holder.connect();
    // The one connection the role may have is taken: a refused connect waits while it is held ...
    let answered = false;
    const query = pool.query('SELECT 1 AS one').then((r) => {
      answered = true;
      return r;
    });
    // The checkout gives its connection back as soon as it has used it: with one connection for the
    // role, whichever of the two gets it first must let the other have it.
    const checkout = pool.connect().then(async (client) => {
      try {
        return (await client.query('SELECT 2 AS two')).rows[0].two;
      } finally {
        client.release();
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(answered, false, 'no answer while the only connection is held');
    // ... and ends with the timeout's error (naming the refusal) when it is held longer than that.
    await assert.rejects(short.query('SELECT 1'), (e: unknown) => e instanceof PoolWaitTimeoutError && /too many connections/.test(String((e as Error).cause)));
    held.release(true); // closes it: the role's slot is free
    // The query and the checkout (the callback and promise forms of connect) both get a connection in turn.
    const [result, two] = await Promise.all([query, checkout]);
    assert.equal(result.rows[0].one, 1);
    assert.equal(two, 2);
  } finally {
    await Promise.all([holder.end(), pool.end(), short.end()]);
    await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
  }
});
