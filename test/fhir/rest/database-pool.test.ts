// A FHIR server whose database pool is exhausted answers 503 with an OperationOutcome once the pool's
// wait timeout has passed (DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS) and never hangs; it serves again once a
// connection is free. The pool's only connection is held by a real request that waits for a lock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type pg from 'pg';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite({ ownPool: true, config: { limits: { databasePoolMax: 1, databasePoolWaitTimeoutMs: 500 } } });
});
after(async () => {
  await site?.stop();
});

/** Polls until the condition holds, at most `ms` (a bound, not a timing assertion). */
async function eventually(what: string, condition: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(path: string): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = https.request(`${site.baseUrl}${path}`, { agent: site.client.http.agent, headers: { accept: 'application/fhir+json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', resolve);
    req.end();
  });
}

test('every connection busy: 503 with an OperationOutcome within the wait, then served again', { timeout: 60_000 }, async () => {
  await site.client.get('/Patient'); // the identity is cached now: only the searches need the database
  // The test's own pool (not the server's) takes a lock the server's search must wait for.
  const locker: pg.PoolClient = await site.db.pool.connect();
  let blocked: Promise<number | Error> | undefined;
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
    blocked = get('/Patient?active=true'); // holds the server's only connection while it waits
    await eventually('the first search waits for the lock', async () => {
      const r = await site.db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      return r.rows[0].n > 0;
    });
    const t0 = performance.now();
    const r = await site.client.get('/Patient?gender=female');
    const ms = performance.now() - t0;
    assert.equal(r.status, 503, r.body);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.equal(r.json.issue[0].code, 'transient');
    assert.match(r.json.issue[0].diagnostics, /500 ms.*DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS.*pool of 1.*DSF_FHIR_DB_POOL_MAX/);
    assert.ok(ms < 15_000, `answered after ${Math.round(ms)} ms`); // a bound: the wait is 500 ms
  } finally {
    await locker.query('ROLLBACK').catch(() => {});
    locker.release();
  }
  assert.equal(await blocked, 200);
  assert.equal((await site.client.get('/Patient?gender=female')).status, 200);
});
