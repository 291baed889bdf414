// A request's database work is bounded: a statement timeout per request, and the running statement is
// cancelled when the client goes away. Slow statements are made real by holding locks the server's
// statements must wait for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type pg from 'pg';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let timed: TestSite; // short statement timeout
let patient: TestSite; // default (long) statement timeout, for cancellation
before(async () => {
  timed = await startTestSite({ config: { limits: { statementTimeoutMs: 1000 } } });
  patient = await startTestSite();
});
after(async () => {
  await timed?.stop();
  await patient?.stop();
});

/** Holds `lock` in a transaction of its own until the returned release is called. */
async function holding(site: TestSite, lock: string, params: unknown[] = []): Promise<() => Promise<void>> {
  const client: pg.PoolClient = await site.db.pool.connect();
  await client.query('BEGIN');
  await client.query(lock, params);
  return async () => {
    await client.query('ROLLBACK');
    client.release();
  };
}

/** Server backends of the site's database waiting for a lock (not the test's own connections). */
async function waitingBackends(site: TestSite): Promise<number> {
  const r = await site.db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
  return r.rows[0].n;
}

/** As waitingBackends, without the change stream's read of new versions (it follows writes, in no request). */
async function waitingRequestBackends(site: TestSite): Promise<number> {
  const r = await site.db.pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query NOT LIKE '%pg_current_snapshot()%'",
  );
  return r.rows[0].n;
}

/** Polls until the condition holds, at most `ms` (a bound, not a timing assertion). */
async function eventually(what: string, condition: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a request with the site's client certificate; returns a function that abandons it (closes the connection). */
function startRequest(site: TestSite, method: string, path: string, body?: string): { abandon: () => void; settled: Promise<unknown> } {
  let req: ReturnType<typeof https.request>;
  const settled = new Promise((resolve) => {
    req = https.request(`${site.baseUrl}${path}`, { method, agent: site.client.http.agent, headers: { accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => resolve(e));
    req.end(body);
  });
  return { abandon: () => req.destroy(), settled };
}

test('a search running past the statement timeout: 400 naming the limit', { timeout: 30_000 }, async () => {
  await timed.client.get('/Patient'); // the identity is cached now: only the search waits
  const release = await holding(timed, 'LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
  try {
    const r = await timed.client.get('/Patient?active=true');
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.equal(r.json.issue[0].code, 'too-costly');
    assert.match(r.json.issue[0].diagnostics, /1000 ms.*DSF_FHIR_STATEMENT_TIMEOUT_MS/);
  } finally {
    await release();
  }
  assert.equal((await timed.client.get('/Patient?active=true')).status, 200);
});

test('a write waiting past the statement timeout: 400, nothing stored', { timeout: 30_000 }, async () => {
  const p = await timed.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const release = await holding(timed, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [0x44_53_46_52, p.id]);
  try {
    const r = await timed.client.put(`/Patient/${p.id}`, { ...p, active: false });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.issue[0].diagnostics, /DSF_FHIR_STATEMENT_TIMEOUT_MS/);
  } finally {
    await release();
  }
  assert.equal((await timed.client.get(`/Patient/${p.id}`)).json.meta.versionId, '1');
});

test('a batch entry waiting past the statement timeout: that entry 400 naming the limit, the others answered', { timeout: 30_000 }, async () => {
  const locked = await timed.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const free = await timed.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const release = await holding(timed, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [0x44_53_46_52, locked.id]);
  try {
    const r = await timed.client.post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { ...locked, active: false }, request: { method: 'PUT', url: `Patient/${locked.id}` } },
        { request: { method: 'GET', url: `Patient/${free.id}` } },
      ],
    });
    assert.equal(r.status, 200, r.body);
    const [timedOut, read] = r.json.entry;
    assert.equal(timedOut.response.status, '400 Bad Request', JSON.stringify(timedOut));
    assert.equal(timedOut.response.outcome.issue[0].code, 'too-costly');
    assert.match(timedOut.response.outcome.issue[0].diagnostics, /1000 ms.*DSF_FHIR_STATEMENT_TIMEOUT_MS/);
    assert.match(read.response.status, /^200/);
  } finally {
    await release();
  }
  assert.equal((await timed.client.get(`/Patient/${locked.id}`)).json.meta.versionId, '1');
});

test('a client that goes away: its running search is cancelled in the database', { timeout: 30_000 }, async () => {
  await patient.client.get('/Patient');
  const release = await holding(patient, 'LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
  try {
    const request = startRequest(patient, 'GET', '/Patient?active=true');
    await eventually('the search waits for the lock', async () => (await waitingRequestBackends(patient)) > 0);
    request.abandon();
    // The lock is still held: only a cancel ends these statements (the timeout is 30 s).
    await eventually('the search was cancelled', async () => (await waitingRequestBackends(patient)) === 0);
    await request.settled;
  } finally {
    await release();
  }
});

test('a client that goes away: its waiting write is cancelled and nothing is stored', { timeout: 30_000 }, async () => {
  const p = await patient.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const release = await holding(patient, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [0x44_53_46_52, p.id]);
  try {
    const request = startRequest(patient, 'PUT', `/Patient/${p.id}`, JSON.stringify({ ...p, active: false }));
    await eventually('the update waits for the resource lock', async () => (await waitingBackends(patient)) > 0);
    request.abandon();
    await eventually('the update was cancelled', async () => (await waitingBackends(patient)) === 0);
    await request.settled;
  } finally {
    await release();
  }
  const versions = await patient.db.pool.query('SELECT max(version)::int AS v FROM resources WHERE id = $1', [p.id]);
  assert.equal(versions.rows[0].v, 1);
  // The server is fine afterwards.
  assert.equal((await patient.client.put(`/Patient/${p.id}`, { ...p, active: false })).status, 200);
});

test('a client that goes away: its read, history or Bundle is cancelled in the database too', { timeout: 120_000 }, async () => {
  // (Not the statement timeout: it is a setting of the connection, so it stays on connections that
  // served a request before; only a cancel tells that a statement ran in its request's scope.)
  const p = await patient.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const entry = { fullUrl: 'urn:uuid:0b6f4c2e-3d1a-4f5e-8a9b-1c2d3e4f5a6b', resource: { resourceType: 'Patient', meta: TAG_ALL, active: true }, request: { method: 'POST', url: 'Patient' } };
  const patients = async () => (await patient.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Patient'")).rows[0].n as number;
  const before = await patients();
  const requests: [string, string, string?][] = [
    ['GET', `/Patient/${p.id}`],
    ['GET', `/Patient/${p.id}/_history/1`],
    ['GET', `/Patient/${p.id}/_history`],
    ['POST', '', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [entry] })],
    ['POST', '', JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [entry] })],
  ];
  for (const [method, path, body] of requests) {
    const what = `${method} ${path || '/'}${body ? ` ${JSON.parse(body).type}` : ''}`;
    const release = await holding(patient, 'LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
    try {
      const request = startRequest(patient, method, path, body);
      await eventually(`${what} waits for the lock`, async () => (await waitingRequestBackends(patient)) > 0);
      request.abandon();
      await eventually(`${what} was cancelled`, async () => (await waitingRequestBackends(patient)) === 0);
      await request.settled;
    } finally {
      await release();
    }
  }
  // Nothing of the abandoned Bundles was stored.
  assert.equal(await patients(), before);
});
