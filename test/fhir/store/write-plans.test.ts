// The write statement (dsf_write_versions) runs with a generic plan kept for the life of a connection,
// made at its first call. Made while the tables were small, that plan may scan search_index from start
// to end on every later write (a sequential scan looks cheapest for a few pages), at a cost that grows
// with the table. Every row the statement reads it must find by key, whatever the tables' size was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { isWriteStatement, writeVersions, type VersionWrite } from '../../../src/fhir/store/version-writes.ts';
import { indexRow } from '../../../src/fhir/search/index-row.ts';

let db: TestDatabase;

/** n more current Patients, each with three index rows and a key, written on other connections of `pool`. */
async function growPatients(pool: pg.Pool, n: number): Promise<void> {
  const ids = (
    await pool.query(`INSERT INTO resources (id, version, type, last_updated, current, resource, size)
      SELECT gen_random_uuid(), 1, 'Patient', now(), true, '{"resourceType":"Patient"}', 25 FROM generate_series(1, $1) RETURNING id`, [n])
  ).rows.map((r) => r.id);
  await pool.query(`INSERT INTO search_index (resource_id, type, param, system, code)
    SELECT id, 'Patient', p, 'http://x', id::text FROM unnest($1::uuid[]) AS id, unnest(ARRAY['identifier', 'active', '_tag']) AS p`, [ids]);
  await pool.query(`INSERT INTO unique_keys (type, key, resource_id) SELECT 'Patient', 'identifier:' || id, id FROM unnest($1::uuid[]) AS id`, [ids]);
}
before(async () => {
  db = await createTestDatabase('dsf_write_plans');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
});
after(() => db?.drop());

const patient = (id: string, version: number, value: string): VersionWrite => ({
  id,
  type: 'Patient',
  version,
  lastUpdated: new Date().toISOString(),
  json: JSON.stringify({ resourceType: 'Patient', id, meta: { versionId: String(version) }, identifier: [{ system: 'http://x', value }] }),
  replaces: version > 1,
  indexRows: [indexRow('identifier', { system: 'http://x', code: value }), indexRow('active', { code: 'true' })],
  keys: [`identifier:${value}`],
  previousKeys: version > 1 ? [`identifier:${value}`] : [],
});

/**
 * Rows each table gave to sequential scans during `fn`, run in a transaction of its own on `client`.
 * PostgreSQL reports this backend's counts not yet flushed to its statistics, which may include earlier
 * transactions' reads: the difference is taken.
 */
async function rowsReadSequentially(client: pg.PoolClient, fn: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts = async () =>
    (
      await client.query(`SELECT t AS table, pg_stat_get_xact_tuples_returned(t::regclass)::int AS n FROM unnest(ARRAY['resources', 'search_index', 'unique_keys']) AS t`)
    ).rows.map((row) => [row.table as string, row.n as number] as const);
  await client.query('BEGIN');
  try {
    const before = new Map(await counts());
    await fn();
    return Object.fromEntries((await counts()).map(([table, n]) => [table, n - before.get(table)!]));
  } finally {
    await client.query('COMMIT');
  }
}

test('creates and updates on a connection whose write plan was made on small tables read no table sequentially once the tables grew', async () => {
  const client = await db.pool.connect();
  try {
    // Resources written by other connections (another connection, as other requests would).
    const grow = (n: number) => growPatients(db.pool, n);
    // The first write of the connection, on small tables (a new site's first resources): the plan is made now.
    await grow(100);
    const first = randomUUID();
    assert.equal(await writeVersions(client, [patient(first, 1, 'first')]), undefined);
    await grow(5000);

    const created = await rowsReadSequentially(client, () => writeVersions(client, [patient(randomUUID(), 1, 'second')]));
    assert.deepEqual(created, { resources: 0, search_index: 0, unique_keys: 0 });
    const updated = await rowsReadSequentially(client, () => writeVersions(client, [patient(first, 2, 'first')]));
    assert.deepEqual(updated, { resources: 0, search_index: 0, unique_keys: 0 });
    // The update did its work: one current version, its index rows replaced.
    assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM resources WHERE id = $1 AND current', [first])).rows[0].n, 1);
    assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM search_index WHERE resource_id = $1', [first])).rows[0].n, 2);
  } finally {
    client.release();
  }
});

test('creates without keys (the statement of two inserts) and with keys, alone and together: the same rows, in the order given', async () => {
  const keyless = (id: string, value: string): VersionWrite => ({ ...patient(id, 1, value), keys: [] });
  const client = await db.pool.connect();
  try {
    const lone = [keyless(randomUUID(), 'lone-1'), keyless(randomUUID(), 'lone-2')];
    const mixed = [keyless(randomUUID(), 'mixed-1'), patient(randomUUID(), 1, 'mixed-2'), keyless(randomUUID(), 'mixed-3')];
    const sent: string[] = [];
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      sent.push(String(args[0]));
      return (query as any).apply(this, args);
    };
    const read = await rowsReadSequentially(client, async () => {
      assert.equal(await writeVersions(client, lone), undefined);
      assert.equal(await writeVersions(client, mixed), undefined);
    });
    delete (client as any).query;
    assert.deepEqual(read, { resources: 0, search_index: 0, unique_keys: 0 });
    // Only keyless creates: the two inserts as a statement of their own, not a call of the write function.
    const writes = sent.filter(isWriteStatement);
    assert.equal(writes.length, 2);
    assert.ok(!writes[0]!.includes('dsf_write_versions') && writes[0]!.startsWith('WITH res AS (INSERT INTO resources'), writes[0]);
    assert.ok(writes[1]!.startsWith('SELECT dsf_write_versions('), writes[1]);
    const ids = [...lone, ...mixed].map((w) => w.id);
    const rows = (await db.pool.query('SELECT id, version, current, deleted, size, resource FROM resources WHERE id = ANY($1::uuid[]) ORDER BY change_seq', [ids])).rows;
    assert.deepEqual(
      rows.map((r) => [r.id, r.version, r.current, r.deleted, r.size, r.resource.identifier[0].value]),
      [...lone, ...mixed].map((w) => [w.id, 1, true, false, Buffer.byteLength(w.json!), w.indexRows[0]!.code]),
    );
    const index = (await db.pool.query('SELECT resource_id, count(*)::int AS n FROM search_index WHERE resource_id = ANY($1::uuid[]) GROUP BY 1', [ids])).rows;
    assert.deepEqual(new Map(index.map((r) => [r.resource_id, r.n])), new Map(ids.map((id) => [id, 2])));
    const keys = (await db.pool.query('SELECT resource_id, key FROM unique_keys WHERE resource_id = ANY($1::uuid[])', [ids])).rows;
    assert.deepEqual(keys, [{ resource_id: mixed[1]!.id, key: 'identifier:mixed-2' }]);
    // A keyless create of an id that exists fails as a whole, as any other write statement.
    await assert.rejects(writeVersions(client, [keyless(randomUUID(), 'fresh'), keyless(lone[0]!.id, 'again')]), { code: '23505' });
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM resources WHERE resource->'identifier'->0->>'value' = 'fresh'`)).rows[0].n, 0);
  } finally {
    client.release();
  }
});

test('updates and deletes without keys replace the versions, their index rows and the keys they held, and read no table sequentially once the tables grew past the statistics their plan was made from', async () => {
  const keyless = (id: string, version: number, value: string, previousKeys: string[] = []): VersionWrite => ({ ...patient(id, version, value), keys: [], previousKeys });
  // A database of its own: the tables must be small when the statement is first planned. A plain
  // prepared statement of the same steps (no function, so no enable_seqscan = off) failed here: its
  // generic plan, made from the small tables' statistics, deleted the old index rows by scanning all of
  // search_index (15,016 rows per update once the tables grew).
  const own = await createTestDatabase('dsf_write_plans_keyless');
  await migrate(own.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(own.pool, 'fhir-events', EVENT_MIGRATIONS);
  const client = await own.pool.connect();
  try {
    const sent: string[] = [];
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      sent.push(String(args[0]));
      return (query as any).apply(this, args);
    };
    const ids = Array.from({ length: 8 }, () => randomUUID());
    assert.equal(await writeVersions(client, [patient(ids[0]!, 1, 'keyed-0')]), undefined); // holds a key
    assert.equal(await writeVersions(client, ids.slice(1).map((id, i) => keyless(id, 1, `v1-${i}`))), undefined);
    // Statistics of small tables (autovacuum analyses a new site's tables early), then updates often
    // enough that PostgreSQL may settle on a generic plan for the statement, made from those statistics.
    await own.pool.query('ANALYZE resources; ANALYZE search_index; ANALYZE unique_keys');
    for (let round = 0; round < 8; round++) {
      for (const [i, id] of ids.entries()) {
        assert.equal(await writeVersions(client, [keyless(id, round + 2, `v${round + 2}-${i}`, round === 0 && i === 0 ? ['identifier:keyed-0'] : [])]), undefined);
      }
    }
    const grow = (n: number) => growPatients(own.pool, n);
    await grow(5000);
    const deleteMarker: VersionWrite = { ...keyless(ids[1]!, 10, 'gone'), json: undefined, indexRows: [] };
    const read = await rowsReadSequentially(client, () => writeVersions(client, [keyless(ids[0]!, 10, 'last-0'), deleteMarker]));
    delete (client as any).query;
    assert.deepEqual(read, { resources: 0, search_index: 0, unique_keys: 0 });
    // Creates without keys are the statement of two inserts; every other write calls the write function.
    const writes = sent.filter(isWriteStatement);
    assert.equal(writes.filter((w) => w.startsWith('WITH res AS (INSERT INTO resources')).length, 1);
    assert.equal(writes.filter((w) => w.startsWith('SELECT dsf_write_versions(')).length, writes.length - 1);

    // One current version each, the last written; every version kept in the history.
    const current = (await own.pool.query('SELECT id, version, deleted, resource FROM resources WHERE id = ANY($1::uuid[]) AND current', [ids])).rows;
    assert.deepEqual(
      new Map(current.map((r) => [r.id, [r.version, r.deleted, r.resource?.identifier[0].value ?? null]])),
      new Map(ids.map((id, i) => [id, i === 0 ? [10, false, 'last-0'] : i === 1 ? [10, true, null] : [9, false, `v9-${i}`]])),
    );
    assert.equal((await own.pool.query('SELECT count(*)::int AS n FROM resources WHERE id = ANY($1::uuid[])', [ids])).rows[0].n, 8 * 9 + 2);
    // Index rows of the current versions only (none for the deleted one); the key of the first version dropped.
    const index = (await own.pool.query('SELECT resource_id, param, code FROM search_index WHERE resource_id = ANY($1::uuid[]) ORDER BY param', [ids])).rows;
    assert.deepEqual(
      new Map(ids.map((id) => [id, index.filter((r) => r.resource_id === id).map((r) => [r.param, r.code])])),
      new Map(ids.map((id, i) => [id, i === 1 ? [] : [['active', 'true'], ['identifier', i === 0 ? 'last-0' : `v9-${i}`]]])),
    );
    assert.equal((await own.pool.query('SELECT count(*)::int AS n FROM unique_keys WHERE resource_id = ANY($1::uuid[])', [ids])).rows[0].n, 0);
  } finally {
    client.release();
    await own.drop();
  }
});
