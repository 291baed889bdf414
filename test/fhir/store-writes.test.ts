// A write is one statement (store/version-writes.ts): the version row, its index rows and its
// uniqueness keys together; a create needs no BEGIN and COMMIT around it. The guarantees stay (keys
// enforced by the database, nothing of a refused write left behind).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../src/fhir/store/resource-store.ts';
import { usePreparedStatements } from '../../src/db/prepared-statements.ts';
import { isWriteStatement } from '../../src/fhir/store/version-writes.ts';

let db: TestDatabase;
let store: ResourceStore;
const statements: string[] = [];
before(async () => {
  db = await createTestDatabase('dsf_store_writes');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  usePreparedStatements(db.pool);
  const seen = new WeakSet<object>();
  db.pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      const text = String(args[0]).trim();
      // WRITE: the write statement (store/version-writes.ts), told apart from other SELECTs.
      statements.push(isWriteStatement(String(args[0])) ? 'WRITE' : text.split(/\s+/)[0]!);
      return (query as any).apply(this, args);
    };
  });
  // Patients keyed by their first identifier value, as a type module's rule would.
  store = new ResourceStore(db.pool, 'https://localhost/fhir', { uniqueKeys: (r: any) => (r.identifier?.[0]?.value ? [`identifier:${r.identifier[0].value}`] : []) });
});
after(() => db?.drop());

const patient = (value: string, extra: object = {}) => ({ resourceType: 'Patient', identifier: [{ system: 'http://x', value }], ...extra }) as Resource;

test('a create is one statement on its own (atomic without BEGIN and COMMIT); update and delete one statement each between BEGIN and COMMIT', async () => {
  statements.length = 0;
  const created = await store.transaction((c) => store.create(c, patient('one')));
  assert.deepEqual(statements, ['WRITE']);
  statements.length = 0;
  await store.transaction(async (c) => {
    const cur = await store.readCurrent(c, 'Patient', created.id, true);
    await store.update(c, { ...patient('one', { active: true }), id: created.id } as Resource & { id: string }, undefined, false, cur);
  });
  // The write lock and the read under it, then the write.
  assert.deepEqual(statements, ['BEGIN', 'SELECT', 'SELECT', 'WRITE', 'COMMIT']);
  statements.length = 0;
  await store.transaction(async (c) => store.delete(c, 'Patient', created.id, await store.readCurrent(c, 'Patient', created.id, true)));
  assert.deepEqual(statements, ['BEGIN', 'SELECT', 'SELECT', 'WRITE', 'COMMIT']);
  const rows = await db.pool.query('SELECT version, current, deleted FROM resources WHERE id = $1 ORDER BY version', [created.id]);
  assert.deepEqual(rows.rows, [
    { version: 1, current: false, deleted: false },
    { version: 2, current: false, deleted: false },
    { version: 3, current: true, deleted: true },
  ]);
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM search_index WHERE resource_id = $1', [created.id])).rows[0].n, 0);
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM unique_keys WHERE resource_id = $1', [created.id])).rows[0].n, 0);
});

test('uniqueness keys: kept by an update, refused to another resource (403, nothing written), freed by a change and by a delete', async () => {
  const a = await store.transaction((c) => store.create(c, patient('ka')));
  const b = await store.transaction((c) => store.create(c, patient('kb')));
  const indexOf = async (id: string) => (await db.pool.query("SELECT code FROM search_index WHERE resource_id = $1 AND param = 'identifier'", [id])).rows.map((r) => r.code);
  // Same key, other content: a new version, the key still a's.
  const a2 = await store.transaction((c) => store.update(c, { ...patient('ka', { active: false }), id: a.id } as Resource & { id: string }));
  assert.equal(a2.stored.version, 2);
  // b may not take a's key; b stays as it was.
  await assert.rejects(
    store.transaction((c) => store.update(c, { ...patient('ka'), id: b.id } as Resource & { id: string })),
    (e: any) => e.status === 403 && /already exists/.test(e.message ?? JSON.stringify(e.outcome)),
  );
  assert.equal((await store.readCurrent(db.pool, 'Patient', b.id))!.version, 1);
  assert.deepEqual(await indexOf(b.id), ['kb']);
  // Nor may a new resource; its statement (outside any transaction) leaves nothing behind.
  const before = (await db.pool.query('SELECT count(*)::int AS n FROM resources')).rows[0].n;
  await assert.rejects(
    store.transaction((c) => store.create(c, patient('ka'))),
    (e: any) => e.status === 403 && /identifier:ka/.test(e.message ?? JSON.stringify(e.outcome)),
  );
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM resources')).rows[0].n, before);
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM search_index')).rows[0].n, (await db.pool.query('SELECT count(*)::int AS n FROM search_index WHERE resource_id IN (SELECT id FROM resources)')).rows[0].n);
  // a moves to another key: ka is free for b.
  await store.transaction((c) => store.update(c, { ...patient('ka2'), id: a.id } as Resource & { id: string }));
  assert.deepEqual(await indexOf(a.id), ['ka2']);
  await store.transaction((c) => store.update(c, { ...patient('ka'), id: b.id } as Resource & { id: string }));
  assert.deepEqual(await indexOf(b.id), ['ka']);
  // Deleting a frees ka2.
  await store.transaction((c) => store.delete(c, 'Patient', a.id));
  const c2 = await store.transaction((c) => store.create(c, patient('ka2')));
  assert.deepEqual(await indexOf(c2.id), ['ka2']);
  const keys = (await db.pool.query('SELECT key, resource_id FROM unique_keys ORDER BY key')).rows;
  assert.deepEqual(keys, [
    { key: 'identifier:ka', resource_id: b.id },
    { key: 'identifier:ka2', resource_id: c2.id },
  ]);
});

test('a history page is one statement with its total; a page past the end counts on its own; an unknown id is told', async () => {
  const created = await store.transaction((c) => store.create(c, patient('hist')));
  for (let v = 0; v < 4; v++) await store.transaction((c) => store.update(c, { ...patient('hist', { active: v % 2 === 0 }), id: created.id } as Resource & { id: string }));
  statements.length = 0;
  const first = await store.history(db.pool, { type: 'Patient', id: created.id, count: 2, offset: 0 });
  assert.deepEqual(statements, ['SELECT']);
  assert.equal(first.total, 5);
  assert.equal(first.exists, true);
  assert.deepEqual(first.entries.map((e) => e.version), [5, 4]);
  const last = await store.history(db.pool, { type: 'Patient', id: created.id, count: 2, offset: 4, maxBytes: 1_000_000 });
  assert.equal(last.total, 5);
  assert.deepEqual(last.entries.map((e) => e.version), [1]);
  assert.equal(last.entries[0]!.resource?.id, created.id);
  statements.length = 0;
  const past = await store.history(db.pool, { type: 'Patient', id: created.id, count: 2, offset: 10 });
  assert.equal(past.total, 5);
  assert.deepEqual(past.entries, []);
  assert.equal(statements.length, 2);
  const none = await store.history(db.pool, { type: 'Patient', id: created.id, count: 0, offset: 0 });
  assert.equal(none.total, 5);
  // An id never written, and one of another type: not there (404 for REST).
  assert.equal((await store.history(db.pool, { type: 'Patient', id: '00000000-0000-4000-8000-000000000000', count: 2, offset: 0 })).exists, false);
  assert.equal((await store.history(db.pool, { type: 'Organization', id: created.id, count: 2, offset: 0 })).exists, false);
  // Type history pages cover every version once.
  const pages: number[] = [];
  for (let offset = 0; offset < 40; offset += 3) pages.push(...(await store.history(db.pool, { type: 'Patient', count: 3, offset })).entries.map((e) => e.version));
  const all = await store.history(db.pool, { type: 'Patient', count: 100, offset: 0 });
  assert.equal(pages.length, all.total);
});

test('the write statement runs with a generic plan and no sequential scans: a function with plan_cache_mode = force_generic_plan, enable_seqscan = off, jit = off', async () => {
  // As a prepared statement of its own under plan_cache_mode = auto, PostgreSQL planned it on every
  // execution, at a cost growing with the table (schema.ts, migrations 6 and 7; store/write-plans.test.ts).
  const fn = await db.pool.query("SELECT proconfig FROM pg_proc WHERE proname = 'dsf_write_versions'");
  assert.deepEqual(fn.rows, [{ proconfig: ['plan_cache_mode=force_generic_plan', 'enable_seqscan=off', 'jit=off'] }]);
  // The session's own setting stays as it was (searches keep auto).
  assert.equal((await db.pool.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode, 'auto');
  await store.transaction((c) => store.create(c, patient('generic')));
  assert.equal((await db.pool.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode, 'auto');
  assert.equal((await db.pool.query('SHOW enable_seqscan')).rows[0].enable_seqscan, 'on');
});
