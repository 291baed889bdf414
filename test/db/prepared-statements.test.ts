import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createPool } from '../../src/db/pool.ts';
import { isStalePlanError, preparedStatementCount, usePreparedStatements } from '../../src/db/prepared-statements.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_prepared');
  await db.pool.query('CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)');
  await db.pool.query('INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 20) g');
});
after(() => db?.drop());

/** A pool of one connection, so every statement runs on the same backend. */
function onePool(max: number): pg.Pool {
  const pool = createPool(db.url, 1);
  usePreparedStatements(pool, { maxPerConnection: max });
  return pool;
}

const serverSide = async (client: pg.PoolClient) => (await client.query("SELECT name FROM pg_prepared_statements WHERE name LIKE 'dsf_%'")).rows.map((r) => r.name as string);

test('parameterised statements run as named prepared statements, each text once per connection', async () => {
  const pool = onePool(10);
  try {
    for (let i = 1; i <= 5; i++) assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [i])).rows[0].v, i * 10);
    const client = await pool.connect();
    try {
      assert.equal((await serverSide(client)).length, 1);
      assert.equal(preparedStatementCount(client), 1);
      // Statements without values (several statements in one text, DDL) stay unnamed.
      await client.query('SELECT 1; SELECT 2');
      assert.equal((await serverSide(client)).length, 1);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});

test('the statements kept per connection are bounded: the least recently used are deallocated', async () => {
  const pool = onePool(3);
  try {
    // 12 distinct shapes, the first one used again in between (recently used: kept).
    for (let i = 1; i <= 12; i++) {
      assert.equal((await pool.query(`SELECT v + ${i} AS x FROM t WHERE id = $1`, [1])).rows[0].x, 10 + i);
      assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [2])).rows[0].v, 20);
    }
    const client = await pool.connect();
    try {
      // One more statement of the pool.query kind would send the pending DEALLOCATEs; they are sent
      // with the next named statement, at most `max` remain prepared.
      await client.query('SELECT v FROM t WHERE id = $1', [3]);
      const names = await serverSide(client);
      assert.ok(names.length <= 3, `at most 3 prepared, found ${names.length}`);
      assert.equal(preparedStatementCount(client), 3);
      // Evicted shapes work again (prepared anew).
      assert.equal((await client.query('SELECT v + 1 AS x FROM t WHERE id = $1', [1])).rows[0].x, 11);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});

test('a plan gone stale by a schema change is prepared again: outside a transaction the statement just works', async () => {
  await db.pool.query('CREATE TABLE s (id int PRIMARY KEY, v int NOT NULL)');
  await db.pool.query('INSERT INTO s VALUES (1, 5)');
  const pool = onePool(10);
  try {
    assert.equal((await pool.query('SELECT id, v FROM s WHERE id = $1', [1])).rows[0].v, 5);
    await db.pool.query('ALTER TABLE s ALTER COLUMN v TYPE text');
    assert.equal((await pool.query('SELECT id, v FROM s WHERE id = $1', [1])).rows[0].v, '5');
    // In a transaction the error ends the transaction; it is recognisable so that its owner can run it again.
    await db.pool.query('ALTER TABLE s ALTER COLUMN v TYPE int USING v::int');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const failed = await client.query('SELECT id, v FROM s WHERE id = $1', [1]).then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.query('ROLLBACK');
      assert.ok(isStalePlanError(failed), `stale plan error expected, got ${String(failed)}`);
      await client.query('BEGIN');
      assert.equal((await client.query('SELECT id, v FROM s WHERE id = $1', [1])).rows[0].v, 5);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});

test('a statement the server no longer knows (DEALLOCATE ALL, DISCARD ALL) is prepared again', async () => {
  const pool = onePool(10);
  try {
    assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [4])).rows[0].v, 40);
    await pool.query('DEALLOCATE ALL');
    assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [5])).rows[0].v, 50);
  } finally {
    await pool.end();
  }
});

test('connections terminated (a PostgreSQL restart) are replaced and their statements prepared on the new ones', async () => {
  const pool = onePool(10);
  try {
    assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [6])).rows[0].v, 60);
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    // The pool drops the idle connection once it sees it closed.
    for (let i = 0; i < 100 && pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.totalCount, 0);
    assert.equal((await pool.query('SELECT v FROM t WHERE id = $1', [6])).rows[0].v, 60);
    assert.notEqual((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid);
  } finally {
    await pool.end();
  }
});

test('a statement PostgreSQL refused to prepare is not kept: evicting it later does not DEALLOCATE a statement that never existed', async () => {
  const pool = onePool(2);
  try {
    // A checked-out connection (as a transaction's) stays in use after a failed statement.
    const client = await pool.connect();
    try {
      // Refused when prepared: no such operator (int = text, no cast).
      await assert.rejects(client.query('SELECT v FROM t WHERE id = $1::text', ['1']), (e: { code?: string }) => e.code === '42883');
      // Then more texts than the cache holds: the refused one must not be what gets evicted and DEALLOCATEd.
      for (let i = 1; i <= 4; i++) assert.equal((await client.query(`SELECT v FROM t WHERE id = $1 -- ${i}`, [i])).rows[0].v, i * 10);
      assert.ok(preparedStatementCount(client)! <= 2);
      assert.ok((await serverSide(client)).length <= 2);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});
