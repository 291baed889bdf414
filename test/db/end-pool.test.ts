// endPool: the pool closes once nothing uses it; work that keeps its connection past the grace time is
// abandoned: its connection is cut, PostgreSQL rolls its transaction back and its row locks go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPool, endPool } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_end_pool');
  await db.pool.query('CREATE TABLE item (id INT PRIMARY KEY, note TEXT)');
  await db.pool.query("INSERT INTO item VALUES (1, 'original')");
});
after(() => db?.drop());

test('a pool with nothing lent ends at once, cutting nothing', async () => {
  const pool = createPool(db.url, 2);
  await pool.query('SELECT 1');
  const started = Date.now();
  assert.equal(await endPool(pool, 10_000), 0);
  assert.ok(Date.now() - started < 5_000);
  await assert.rejects(pool.query('SELECT 1'), /Cannot use a pool after calling end/);
});

test('work given back within the grace time finishes and commits', async () => {
  const pool = createPool(db.url, 2);
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query("UPDATE item SET note = 'committed' WHERE id = 1");
  const ending = endPool(pool, 10_000);
  await client.query('COMMIT');
  client.release();
  assert.equal(await ending, 0);
  assert.equal((await db.pool.query('SELECT note FROM item WHERE id = 1')).rows[0].note, 'committed');
});

test('work still holding its connection after the grace time is cut: rolled back, its lock released, bounded', async () => {
  const pool = createPool(db.url, 2);
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query("UPDATE item SET note = 'abandoned' WHERE id = 1"); // holds the row lock
  const started = Date.now();
  assert.equal(await endPool(pool, 200), 1);
  assert.ok(Date.now() - started < 5_000, 'bounded although the work never gives its connection back');
  // The abandoned work's next statement fails on its own connection (not on the ended pool).
  await assert.rejects(client.query('COMMIT'));
  // The lock is gone (no wait) and the change was rolled back.
  const other = await db.pool.connect();
  try {
    await other.query("SET lock_timeout = '2s'");
    await other.query('BEGIN');
    assert.equal((await other.query('SELECT note FROM item WHERE id = 1 FOR UPDATE')).rows[0].note, 'committed');
    await other.query('ROLLBACK');
  } finally {
    other.release();
  }
});
