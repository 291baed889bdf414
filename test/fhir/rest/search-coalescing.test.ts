// Concurrent searches of one turn with the same statement go to PostgreSQL as one statement
// (db/coalesced-statements.ts): each caller still gets exactly the Bundle its own search gives, byte
// for byte (matches it may read, totals, paging links, _include, _summary=count, errors), also right
// after every connection was terminated and when a request of a batch goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startTestSite, TAG_ALL, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { AloneVsConcurrent, answer, type Answer } from '../../support/alone-vs-concurrent.ts';

let site: TestSite;
let admin: pg.Client;
let local: FhirTestClient;
let remote: FhirTestClient;
let paths: string[];
const SYSTEM = 'http://example.org/search-coalescing';
before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  admin = new pg.Client({ connectionString: site.db.url });
  await admin.connect();
  local = site.client;
  remote = site.clientFor('External_Test_Organization');
  const tagLocal = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] };
  const patient = (meta: object, value: string) => ({ resourceType: 'Patient', meta, identifier: [{ system: SYSTEM, value }], active: true });
  for (let i = 0; i < 4; i++) await local.create(patient(TAG_ALL, `all-${i}`));
  for (let i = 0; i < 2; i++) await local.create(patient(tagLocal, `local-${i}`));
  for (let i = 0; i < 5; i++) await local.create(patient(TAG_ALL, 'many'));
  const organization = (await local.get('/Organization?identifier=http://dsf.dev/sid/organization-identifier|test-organization.test')).json.entry[0].resource.id as string;
  paths = [
    ...[0, 1, 2, 3].map((i) => `/Patient?identifier=${SYSTEM}|all-${i}`),
    `/Patient?identifier=${SYSTEM}|local-0`,
    `/Patient?identifier=${SYSTEM}|local-1`,
    `/Patient?identifier=${SYSTEM}|nothing`,
    `/Patient?identifier=${SYSTEM}|many&_count=2`,
    `/Patient?identifier=${SYSTEM}|many&_count=2&_page=2`,
    `/Patient?identifier=${SYSTEM}|many&_count=2&_page=3`,
    `/Patient?identifier=${SYSTEM}|many&_count=2&_page=9`,
    `/Patient?identifier=${SYSTEM}|many&_summary=count`,
    `/Patient?identifier=${SYSTEM}|all-2&_summary=count`,
    `/Patient?identifier=${SYSTEM}|many&_sort=-_lastUpdated&_count=3`,
    `/Patient?identifier=${SYSTEM}|all-1&_elements=identifier`,
    `/Patient?birthdate=not-a-date`,
    `/Patient?identifier=${SYSTEM}|all-0&_offset=-1`,
    `/Organization?identifier=http://dsf.dev/sid/organization-identifier|test-organization.test&_include=Organization:endpoint`,
    `/Organization?identifier=http://dsf.dev/sid/organization-identifier|external-test-organization.test&_include=Organization:endpoint`,
    `/Organization?_id=${organization}&_revinclude=Endpoint:organization`,
  ];
});
after(async () => {
  await admin?.end();
  await site?.stop();
});

const check = new AloneVsConcurrent(() => ({ local, remote }), () => paths, () => site.server.store.searchStatements.stats, 'searches');
const alone = () => check.alone();
const concurrently = (expected: Map<string, Answer>) => check.concurrently(expected);

test('concurrent searches by two callers with different access: each gets exactly the Bundle its own search gives', async () => {
  const expected = await alone();
  const of = (who: string, path: string) => expected.get(`${who} ${path}`)!;
  // The data says what it should: LOCAL patients only for the local organisation, paging and totals, errors.
  assert.equal(JSON.parse(of('local', paths[4]!).body).total, 1);
  assert.equal(JSON.parse(of('remote', paths[4]!).body).total, 0);
  assert.equal(JSON.parse(of('remote', paths[8]!).body).entry.length, 2);
  assert.ok(JSON.parse(of('remote', paths[8]!).body).link.some((l: { relation: string }) => l.relation === 'next'));
  assert.equal(JSON.parse(of('local', paths[11]!).body).total, 5);
  assert.ok(JSON.parse(of('local', `/Patient?birthdate=not-a-date`).body).entry.some((e: { search: { mode: string } }) => e.search.mode === 'outcome'));
  assert.equal(of('local', paths[16]!).status, 400);
  assert.equal(JSON.parse(of('local', paths[17]!).body).entry.filter((e: { search: { mode: string } }) => e.search.mode === 'include').length, 1);
  await concurrently(expected);
});

test('after every database connection was terminated, coalesced searches answer as before (no 500)', async () => {
  const expected = await alone();
  await concurrently(expected);
  const terminated = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  assert.ok(terminated.rowCount! > 0);
  for (let i = 0; i < 100 && site.db.pool.totalCount > 0; i++) await sleep(20);
  await concurrently(expected);
});

test('a batch cancelled because a request in it went away fails no other search: they run their own statements', async () => {
  const readable = [0, 1, 2, 3].map((i) => `/Patient?identifier=${SYSTEM}|all-${i}`);
  const expected = await Promise.all(readable.map((p) => local.get(p).then(answer)));
  const stats = site.server.store.searchStatements.stats;
  const failedBefore = stats.failedBatches;
  // Bounded: which request opens a batch depends on arrival; until one opened by a leaving request failed.
  for (let attempt = 0; attempt < 5 && stats.failedBatches === failedBefore; attempt++) {
    const lock = new pg.Client({ connectionString: site.db.url });
    await lock.connect();
    try {
      // Every search waits for the lock, so the leaving requests are still in their batch when they go.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
      const leaving = readable.slice(0, 2).map((p) => local.http.request(`${site.baseUrl}${p}`, { headers: { accept: 'application/fhir+json' }, timeoutMs: 300 }).then(() => 'answered', () => 'gone'));
      const staying = readable.map((p) => local.get(p));
      await Promise.all(leaving);
      await sleep(300); // the server sees the connections close and cancels their statements
      await lock.query('COMMIT');
      for (const [k, r] of (await Promise.all(staying)).entries()) assert.deepEqual(answer(r), expected[k]);
    } finally {
      await lock.end();
    }
  }
  assert.ok(stats.failedBatches > failedBefore, 'a batch failed and its other searches were answered on their own');
});
