// Concurrent creates share one statement (store/write-groups.ts), and a failing shared statement
// fails only the request that caused it: every other member is written, each request gets its own answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { usePreparedStatements } from '../../../src/db/prepared-statements.ts';
import { isWriteStatement, versionsWrittenBy } from '../../../src/fhir/store/version-writes.ts';
import type { WriteGroupLimits } from '../../../src/fhir/store/write-groups.ts';
import { PoolWaitTimeoutError } from '../../../src/db/pool.ts';
import { RequestAbortedError } from '../../../src/db/request-scope.ts';
import type pg from 'pg';

let db: TestDatabase;
/** Statements that wrote versions, with the number of versions each wrote. */
const writeStatements: number[] = [];
before(async () => {
  db = await createTestDatabase('dsf_write_groups');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  usePreparedStatements(db.pool);
  // Connections open before the tests: creates started together then get theirs in the same turn.
  for (const c of await Promise.all(Array.from({ length: 20 }, () => db.pool.connect()))) c.release();
  const seen = new WeakSet<object>();
  db.pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      if (isWriteStatement(String(args[0]))) writeStatements.push(versionsWrittenBy(String(args[0]), args[1]));
      return (query as any).apply(this, args);
    };
  });
});
after(() => db?.drop());

const keyed = (r: any) => (r.identifier?.[0]?.value ? [`identifier:${r.identifier[0].value}`] : []);
const newStore = (limits?: WriteGroupLimits) => new ResourceStore(db.pool, 'https://localhost/fhir', { uniqueKeys: keyed, writeGroups: limits });
const patient = (value: string, extra: object = {}) => ({ resourceType: 'Patient', identifier: [{ system: 'http://x', value }], ...extra }) as Resource;
const count = async (sql: string, values: unknown[] = []) => (await db.pool.query(sql, values)).rows[0].n as number;

test('creates started together are one statement; each is answered after it committed, in the order they joined', async () => {
  const store = newStore();
  writeStatements.length = 0;
  const created = await Promise.all(Array.from({ length: 12 }, (_, i) => store.transaction((c) => store.create(c, patient(`together-${i}`)))));
  assert.deepEqual(writeStatements, [12]);
  assert.deepEqual(store.writeGroups.stats, { groups: 1, members: 12, fallbacks: 0 });
  // Committed (visible to any other connection) and in the change stream's order, the order of joining.
  const rows = (await db.pool.query('SELECT id FROM resources WHERE id = ANY($1::uuid[]) ORDER BY change_seq', [created.map((r) => r.id)])).rows;
  assert.deepEqual(
    rows.map((r) => r.id),
    created.map((r) => r.id),
  );
  assert.equal(await count('SELECT count(*)::int AS n FROM unique_keys WHERE resource_id = ANY($1::uuid[])', [created.map((r) => r.id)]), 12);
  // A create alone is its own statement, as before.
  writeStatements.length = 0;
  await store.transaction((c) => store.create(c, patient('alone')));
  assert.deepEqual(writeStatements, [1]);
});

test('a group checks out one connection, the first member\'s: the others never take one from the pool', async () => {
  const store = newStore();
  let acquired = 0;
  const onAcquire = () => acquired++;
  db.pool.on('acquire', onAcquire);
  try {
    writeStatements.length = 0;
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.transaction((c) => store.create(c, patient(`one-connection-${i}`)))));
    assert.deepEqual(writeStatements, [12]);
    assert.equal(acquired, 1);
  } finally {
    db.pool.off('acquire', onAcquire);
  }
  assert.equal(db.pool.totalCount - db.pool.idleCount, 0, 'every connection back in the pool');
});

/** The pool as a request sees it, its checkouts refused with this error (an abandoned request, a pool wait timeout). */
const refusingPool = (error: Error) => Object.assign(Object.create(db.pool) as pg.Pool, { connect: () => Promise.reject(error) });

test("the first member's failed checkout is its own answer; the others are written as a group of their own", async () => {
  const store = newStore();
  const abandoned = new RequestAbortedError();
  writeStatements.length = 0;
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.transaction((c) => store.create(c, patient(`checkout-${i}`)), i === 0 ? refusingPool(abandoned) : db.pool)));
  assert.equal(results[0]!.status, 'rejected');
  assert.equal((results[0] as PromiseRejectedResult).reason, abandoned);
  for (const r of results.slice(1)) assert.equal(r.status, 'fulfilled');
  assert.deepEqual(writeStatements, [4]);
  assert.deepEqual(store.writeGroups.stats, { groups: 1, members: 4, fallbacks: 0 });
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key LIKE 'identifier:checkout-%'"), 4);
});

test("a pool wait timeout at the group's checkout is every member's answer (each would have waited as long)", async () => {
  const store = newStore();
  const timeout = new PoolWaitTimeoutError(20, 50);
  writeStatements.length = 0;
  const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => store.transaction((c) => store.create(c, patient(`timeout-${i}`)), i === 0 ? refusingPool(timeout) : db.pool)));
  for (const r of results) assert.ok(r.status === 'rejected' && r.reason === timeout);
  assert.deepEqual(writeStatements, []);
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key LIKE 'identifier:timeout-%'"), 0);
});

test('a uniqueness clash in a group fails only that request (403); every other member is stored', async () => {
  const store = newStore();
  const held = await store.transaction((c) => store.create(c, patient('held')));
  writeStatements.length = 0;
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.transaction((c) => store.create(c, patient(i === 3 ? 'held' : `clash-${i}`)))));
  // The shared statement failed as a whole, then each was sent alone.
  assert.deepEqual(writeStatements, [8, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(store.writeGroups.stats.fallbacks, 1);
  results.forEach((r, i) => {
    if (i === 3) assert.ok(r.status === 'rejected' && (r.reason as any).status === 403 && /identifier:held/.test((r.reason as Error).message), String((r as any).reason));
    else assert.equal(r.status, 'fulfilled');
  });
  const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
  assert.equal(await count('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[]) AND current', [stored]), 7);
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key = 'identifier:held'"), 1);
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key = 'identifier:held' AND resource_id = $1", [held.id]), 1);
});

test('two members of one group with the same key: one is stored, the other refused', async () => {
  const store = newStore();
  const results = await Promise.allSettled([
    store.transaction((c) => store.create(c, patient('twin'))),
    store.transaction((c) => store.create(c, patient('other'))),
    store.transaction((c) => store.create(c, patient('twin'))),
  ]);
  assert.equal(store.writeGroups.stats.fallbacks, 1);
  assert.equal(results[1]!.status, 'fulfilled');
  const twins = [results[0]!, results[2]!];
  assert.equal(twins.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(twins.some((r) => r.status === 'rejected' && (r.reason as any).status === 403));
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key = 'identifier:twin'"), 1);
  assert.equal(await count("SELECT count(*)::int AS n FROM resources r JOIN unique_keys u ON u.resource_id = r.id WHERE u.key = 'identifier:twin' AND r.current"), 1);
});

test('an error other than a clash (content PostgreSQL refuses) fails only its own request, also as the first member', async () => {
  const store = newStore();
  writeStatements.length = 0;
  // jsonb refuses \u0000 in strings: the statement carrying it fails.
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.transaction((c) => store.create(c, patient(`bad-${i}`, i === 0 ? { gender: 'a\u0000b' } : {})))));
  assert.equal(results[0]!.status, 'rejected');
  assert.equal((results[0] as PromiseRejectedResult).reason.code, '22P05');
  for (const r of results.slice(1)) assert.equal(r.status, 'fulfilled');
  assert.equal(await count("SELECT count(*)::int AS n FROM unique_keys WHERE key LIKE 'identifier:bad-%'"), 4);
});

test('groups are bounded: more concurrent writes than the bound go in several statements; a larger request goes alone', async () => {
  const store = newStore({ maxWrites: 4, maxJsonChars: 1_000_000 });
  writeStatements.length = 0;
  const created = await Promise.all(Array.from({ length: 10 }, (_, i) => store.transaction((c) => store.create(c, patient(`bounded-${i}`)))));
  assert.deepEqual(writeStatements, [4, 4, 2]);
  assert.equal(await count('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[]) AND current', [created.map((r) => r.id)]), 10);
  // Five creates in one transaction (one request) exceed the bound: sent alone, as one statement.
  writeStatements.length = 0;
  await Promise.all([
    store.transaction(async (c) => {
      for (let i = 0; i < 5; i++) await store.create(c, patient(`big-${i}`));
    }),
    store.transaction((c) => store.create(c, patient('small'))),
  ]);
  assert.deepEqual([...writeStatements].sort(), [1, 5]);
  // The JSON bound likewise.
  const bySize = newStore({ maxWrites: 100, maxJsonChars: 400 });
  writeStatements.length = 0;
  await Promise.all(Array.from({ length: 6 }, (_, i) => bySize.transaction((c) => bySize.create(c, patient(`sized-${i}`, { text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(100)}</div>` } })))));
  assert.ok(writeStatements.length >= 3 && writeStatements.reduce((a, b) => a + b, 0) === 6, String(writeStatements));
  assert.ok(Math.max(...writeStatements) <= 2, String(writeStatements));
});

/** A transaction on a connection of its own holding the key 'identifier:<value>': a write of that key waits for it. */
async function holdKey(value: string) {
  const client = await db.pool.connect();
  await client.query('BEGIN');
  await client.query(`INSERT INTO unique_keys (type, key, resource_id) VALUES ('Patient', $1, gen_random_uuid())`, [`identifier:${value}`]);
  return {
    release: async () => {
      await client.query('ROLLBACK');
      client.release();
    },
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('writes arriving while a group statement runs gather into one next group, sent when it returns', async () => {
  const store = newStore({ maxWrites: 256, maxJsonChars: 1_000_000, maxInFlight: 1, stallMs: 60_000 });
  const lock = await holdKey('gather-blocked');
  writeStatements.length = 0;
  // The first write waits on the key's lock, so its statement runs until the lock is released.
  const first = store.transaction((c) => store.create(c, patient('gather-blocked')));
  await sleep(50);
  const early = Array.from({ length: 3 }, (_, i) => store.transaction((c) => store.create(c, patient(`gather-${i}`))));
  await sleep(50);
  const late = Array.from({ length: 3 }, (_, i) => store.transaction((c) => store.create(c, patient(`gather-${3 + i}`))));
  await sleep(50);
  assert.deepEqual(writeStatements, [1], 'nothing else sent while the first statement runs');
  await lock.release();
  const created = await Promise.all([first, ...early, ...late]);
  // Two turns' writes in one statement (each turn's would have been a statement of its own).
  assert.deepEqual(writeStatements, [1, 6]);
  assert.equal(await count('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[]) AND current', [created.map((r) => r.id)]), 7);
});

test('while a group statement runs, the next group goes on another connection once it is as large; smaller ones wait', async () => {
  const store = newStore({ maxWrites: 256, maxJsonChars: 1_000_000, maxInFlight: 2, stallMs: 60_000 });
  const lock = await holdKey('second-blocked');
  writeStatements.length = 0;
  // A group of three whose statement waits on the key's lock until it is released.
  const first = Array.from({ length: 3 }, (_, i) => store.transaction((c) => store.create(c, patient(i === 1 ? 'second-blocked' : `second-a${i}`))));
  await sleep(50);
  // Two writers: fewer than the running group; they wait for it.
  const small = Array.from({ length: 2 }, (_, i) => store.transaction((c) => store.create(c, patient(`second-b${i}`))));
  await sleep(50);
  assert.deepEqual(writeStatements, [3]);
  // A third makes the open group as large as the running one: sent at once, and committed while the first still waits.
  let firstDone = false;
  void Promise.allSettled(first).then(() => (firstDone = true));
  const joined = [...small, store.transaction((c) => store.create(c, patient('second-b2')))];
  const second = await Promise.all(joined);
  assert.deepEqual(writeStatements, [3, 3]);
  assert.equal(firstDone, false);
  assert.equal(await count('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[]) AND current', [second.map((r) => r.id)]), 3);
  // With one running, two writers are fewer than the group sent last (three): they go when it returns.
  const after = Array.from({ length: 2 }, (_, i) => store.transaction((c) => store.create(c, patient(`second-c${i}`))));
  await sleep(50);
  assert.deepEqual(writeStatements, [3, 3]);
  await lock.release();
  const rest = await Promise.all([...first, ...after]);
  assert.deepEqual(writeStatements, [3, 3, 2]);
  // Each group committed in the order its members joined.
  const rows = (await db.pool.query('SELECT id FROM resources WHERE id = ANY($1::uuid[]) ORDER BY change_seq', [rest.slice(0, 3).map((r) => r.id)])).rows;
  assert.deepEqual(
    rows.map((r) => r.id),
    rest.slice(0, 3).map((r) => r.id),
  );
  assert.deepEqual(store.writeGroups.stats, { groups: 3, members: 8, fallbacks: 0 });
});

for (const maxInFlight of [1, 2]) test(`a group statement waiting on a lock holds up the other writes only for stallMs (maxInFlight ${maxInFlight})`, async () => {
  const store = newStore({ maxWrites: 256, maxJsonChars: 1_000_000, maxInFlight, stallMs: 30 });
  const lock = await holdKey(`stall-blocked-${maxInFlight}`);
  let firstDone = false;
  const first = store.transaction((c) => store.create(c, patient(`stall-blocked-${maxInFlight}`))).finally(() => (firstDone = true));
  await sleep(20);
  // Written and committed while the first still waits on the lock.
  const others = await Promise.all(Array.from({ length: 3 }, (_, i) => store.transaction((c) => store.create(c, patient(`stall-${maxInFlight}-${i}`)))));
  assert.equal(firstDone, false);
  assert.equal(await count('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[]) AND current', [others.map((r) => r.id)]), 3);
  await lock.release();
  await first;
});
