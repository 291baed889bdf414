import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { createTestDatabase } from '../support/database.ts';

const db = await createTestDatabase();
after(() => db.drop());

const migrations = [
  { version: 1, name: 'create', sql: 'CREATE TABLE t1 (id int primary key)' },
  { version: 2, name: 'insert', sql: 'INSERT INTO t1 VALUES (1)' },
];

test('migrations run once even when two processes start at the same time', async () => {
  const other = createPool(db.url, 2);
  try {
    const [a, b] = await Promise.all([migrate(db.pool, 'x', migrations), migrate(other, 'x', migrations)]);
    assert.deepEqual([...a, ...b].sort(), [1, 2]);
    const rows = (await db.pool.query('SELECT count(*)::int AS n FROM t1')).rows;
    assert.equal(rows[0].n, 1);
    assert.deepEqual(await migrate(db.pool, 'x', migrations), []);
  } finally {
    await other.end();
  }
});

test('a failing migration is rolled back and reported with its name', async () => {
  await assert.rejects(
    migrate(db.pool, 'y', [{ version: 1, name: 'broken', sql: 'CREATE TABLE y1 (a int); SELECT nonsense_fn()' }]),
    /y migration 1 \(broken\) failed/,
  );
  const t = await db.pool.query("SELECT to_regclass('y1') AS t");
  assert.equal(t.rows[0].t, null);
});

test('versions must increase', async () => {
  await assert.rejects(migrate(db.pool, 'z', [{ version: 2, name: 'a', sql: '' }, { version: 1, name: 'b', sql: '' }]), /strictly increasing/);
});
