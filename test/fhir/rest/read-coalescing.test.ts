// Concurrent reads of one turn go to PostgreSQL as one statement (store/read-coalescing.ts): each
// caller still gets exactly the answer its own read gives alone (200, 403 for what it may not read,
// 404 for unknown ids and other types, 410 for deleted ones), also right after every connection was
// terminated and after a schema change under the prepared batch statement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startTestSite, TAG_ALL, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { AloneVsConcurrent, type Answer } from '../../support/alone-vs-concurrent.ts';

let site: TestSite;
let admin: pg.Client;
let local: FhirTestClient;
let remote: FhirTestClient;
let paths: string[];
before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  admin = new pg.Client({ connectionString: site.db.url });
  await admin.connect();
  local = site.client;
  remote = site.clientFor('External_Test_Organization');
  const tagLocal = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] };
  const patient = (meta: object, value: string) => ({ resourceType: 'Patient', meta, identifier: [{ system: 'http://example.org/coalesce', value }], active: true });
  const all = await Promise.all(Array.from({ length: 4 }, (_, i) => local.create(patient(TAG_ALL, `all-${i}`))));
  const localOnly = await Promise.all(Array.from({ length: 3 }, (_, i) => local.create(patient(tagLocal, `local-${i}`))));
  const deleted = await local.create(patient(TAG_ALL, 'deleted'));
  assert.equal((await local.request('DELETE', `/Patient/${deleted.id}`)).status, 200);
  const organization = (await local.get('/Organization')).json.entry[0].resource.id as string;
  paths = [
    ...all.map((p) => `/Patient/${p.id}`),
    `/Patient/${all[0]!.id.toUpperCase()}`,
    ...localOnly.map((p) => `/Patient/${p.id}`),
    `/Patient/${deleted.id}`,
    `/Patient/${organization}`,
    `/Patient/${randomUUID()}`,
  ];
});
after(async () => {
  await admin?.end();
  await site?.stop();
});

const check = new AloneVsConcurrent(() => ({ local, remote }), () => paths, () => site.server.store.currentReads.stats, 'reads');
const alone = () => check.alone();
const concurrently = (expected: Map<string, Answer>) => check.concurrently(expected);

test('concurrent reads by two callers with different access: each sees exactly what its own read gives (200, 403, 404, 410)', async () => {
  const expected = await alone();
  const statuses = (who: string) => paths.map((p) => expected.get(`${who} ${p}`)?.status);
  assert.deepEqual(statuses('local'), [200, 200, 200, 200, 200, 200, 200, 200, 410, 404, 404]);
  assert.deepEqual(statuses('remote'), [200, 200, 200, 200, 200, 403, 403, 403, 410, 404, 404]);
  await concurrently(expected);
});

test('after every database connection was terminated, coalesced reads answer as before (no 500)', async () => {
  const expected = await alone();
  await concurrently(expected);
  const terminated = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  assert.ok(terminated.rowCount! > 0);
  for (let i = 0; i < 100 && site.db.pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await concurrently(expected);
});

test('after a schema change of the columns the batch statement returns, coalesced reads answer as before (stale plan prepared again)', async () => {
  const expected = await alone();
  await concurrently(expected);
  await admin.query('ALTER TABLE resources ALTER COLUMN last_updated TYPE timestamptz(3)');
  try {
    await concurrently(expected);
  } finally {
    await admin.query('ALTER TABLE resources ALTER COLUMN last_updated TYPE timestamptz');
  }
  await concurrently(expected);
});

test('a batch cancelled because a request in it went away fails no other read: they run their own statements', async () => {
  const readable = paths.slice(0, 8).filter((_, k) => k !== 4); // the ALL and LOCAL patients
  assert.equal((await local.get(readable[0]!)).status, 200); // identity and caches warm
  const stats = site.server.store.currentReads.stats;
  const failedBefore = stats.failedBatches;
  // Bounded: which request opens a batch depends on arrival; until one opened by a leaving request failed.
  for (let attempt = 0; attempt < 5 && stats.failedBatches === failedBefore; attempt++) {
    const lock = new pg.Client({ connectionString: site.db.url });
    await lock.connect();
    try {
      // Every read waits for the lock, so the leaving requests are still in their batch when they go.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
      const leaving = readable.slice(0, 2).map((p) => local.http.request(`${site.baseUrl}${p}`, { headers: { accept: 'application/fhir+json' }, timeoutMs: 300 }).then(() => 'answered', () => 'gone'));
      const staying = readable.slice(2).map((p) => local.get(p));
      await Promise.all(leaving);
      await sleep(300); // the server sees the connections close and cancels their statements
      await lock.query('COMMIT');
      for (const r of await Promise.all(staying)) assert.equal(r.status, 200, r.body);
    } finally {
      await lock.end();
    }
  }
  assert.ok(stats.failedBatches > failedBefore, 'a batch failed and its other reads were answered on their own');
});
