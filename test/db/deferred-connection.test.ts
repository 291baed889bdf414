// A transaction's connection checked out on its first statement (src/db/deferred-connection.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { DeferredConnection } from '../../src/db/deferred-connection.ts';

/** A pool whose connections record the statements they ran and their releases; checkouts resolve a turn later. */
function fakePool(opts: { fail?: Error } = {}) {
  const log: string[] = [];
  let checkouts = 0;
  const pool = {
    connect: async () => {
      checkouts++;
      await new Promise((r) => setImmediate(r));
      if (opts.fail) throw opts.fail;
      return {
        query: (text: string, ...rest: unknown[]) => {
          log.push(`query ${text}`);
          const cb = rest.find((a) => typeof a === 'function') as ((e: Error | null, r?: unknown) => void) | undefined;
          const result = { rows: [{ text }] };
          if (cb) {
            cb(null, result);
            return undefined;
          }
          return Promise.resolve(result);
        },
        release: (err?: unknown) => log.push(`release ${err === undefined ? '' : String(err)}`.trim()),
      };
    },
  };
  return { pool: pool as unknown as pg.Pool, log, checkouts: () => checkouts };
}

test('nothing is checked out until the first statement; release without one gives nothing back', () => {
  const { pool, log, checkouts } = fakePool();
  const c = new DeferredConnection(pool);
  assert.equal(c.checkedOut, false);
  c.release();
  assert.equal(checkouts(), 0);
  assert.deepEqual(log, []);
});

test('statements given during the checkout run in their order on one connection, which is released once', async () => {
  const { pool, log, checkouts } = fakePool();
  const c = new DeferredConnection(pool);
  const results = await Promise.all([c.query('BEGIN') as Promise<any>, c.query('SELECT 1', [1]) as Promise<any>, c.query('SELECT 2') as Promise<any>]);
  assert.equal(c.checkedOut, true);
  assert.equal(checkouts(), 1);
  assert.deepEqual(
    results.map((r) => r.rows[0].text),
    ['BEGIN', 'SELECT 1', 'SELECT 2'],
  );
  // Once checked out, statements go straight to the connection.
  const cb = await new Promise<any>((resolve, reject) => c.query('SELECT 3', (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
  assert.equal(cb.rows[0].text, 'SELECT 3');
  c.release();
  c.release();
  assert.deepEqual(log, ['query BEGIN', 'query SELECT 1', 'query SELECT 2', 'query SELECT 3', 'release']);
  await assert.rejects(c.connection(), /after release/);
});

test('the callback form works before the checkout; a release while checking out gives the connection back when it comes', async () => {
  const { pool, log } = fakePool();
  const c = new DeferredConnection(pool);
  const r = await new Promise<any>((resolve, reject) => c.query('SELECT 1', [], (e: Error | null, res: unknown) => (e ? reject(e) : resolve(res))));
  assert.equal(r.rows[0].text, 'SELECT 1');
  const d = new DeferredConnection(pool);
  const pending = d.connection();
  d.release();
  await pending;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['query SELECT 1', 'release']);
});

test("a failed checkout fails the statements that waited for it, with the pool's error", async () => {
  const failure = new Error('no connection');
  const { pool } = fakePool({ fail: failure });
  const c = new DeferredConnection(pool);
  await assert.rejects(c.query('SELECT 1') as Promise<unknown>, (e) => e === failure);
  const viaCallback = await new Promise<unknown>((resolve) => c.query('SELECT 2', (e: Error | null) => resolve(e)));
  assert.equal(viaCallback, failure);
  c.release();
});
