// The system history's _since reads the versions of that range through an index (FHIR migration 11:
// resources_history_all, a block range index on last_updated since), not by reading every version, and
// type history's through resources_current_type and resources_history_type (current versions in the
// one, the others in the other since migration 11); both find the same versions as without any index.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';

let db: TestDatabase;
let store: ResourceStore;
const recent = new Date(Date.UTC(2026, 0, 10));

before(async () => {
  db = await createTestDatabase('dsf_history_plan');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  // 30,000 older versions of three types, written in last_updated order (as a server writes them),
  // then 12 after `recent`: 8 Patients, 4 Tasks.
  await db.pool.query(`INSERT INTO resources (id, version, type, last_updated, current, resource, size)
    SELECT gen_random_uuid(), 1, (ARRAY['Patient', 'Task', 'Organization'])[1 + n % 3], '2025-01-01'::timestamptz + n * interval '1 minute', true,
      jsonb_build_object('resourceType', (ARRAY['Patient', 'Task', 'Organization'])[1 + n % 3]), 40
    FROM generate_series(1, 30000) AS n`);
  await db.pool.query(`INSERT INTO resources (id, version, type, last_updated, current, resource, size)
    SELECT gen_random_uuid(), 1, CASE WHEN n % 3 = 0 THEN 'Task' ELSE 'Patient' END, $1::timestamptz + n * interval '1 second', true,
      jsonb_build_object('resourceType', CASE WHEN n % 3 = 0 THEN 'Task' ELSE 'Patient' END), 40
    FROM generate_series(1, 12) AS n`, [recent.toISOString()]);
  // 3 of the recent Patients updated (their first versions no longer current), one of them deleted after.
  await db.pool.query(`WITH u AS (UPDATE resources SET current = false WHERE id IN (SELECT id FROM resources WHERE type = 'Patient' AND last_updated >= $1 ORDER BY last_updated LIMIT 3) RETURNING id, last_updated)
    INSERT INTO resources (id, version, type, last_updated, current, resource, size)
    SELECT id, 2, 'Patient', last_updated + interval '10 minutes', true, '{"resourceType":"Patient"}', 25 FROM u`, [recent.toISOString()]);
  await db.pool.query(`WITH u AS (UPDATE resources SET current = false WHERE id = (SELECT id FROM resources WHERE type = 'Patient' AND version = 2 ORDER BY last_updated LIMIT 1) AND current RETURNING id, last_updated)
    INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
    SELECT id, 3, 'Patient', last_updated + interval '1 minute', true, true, NULL, 0 FROM u`);
  await db.pool.query('VACUUM ANALYZE resources');
  store = new ResourceStore(db.pool, 'https://fhir.test/fhir');
});
after(() => db?.drop());

/** Rows of resources read by sequential scans during fn (a difference within one transaction on client). */
async function rowsReadSequentially(client: pg.PoolClient, fn: () => Promise<unknown>): Promise<number> {
  const count = async () => Number((await client.query(`SELECT pg_stat_get_xact_tuples_returned('resources'::regclass) AS n`)).rows[0].n);
  await client.query('BEGIN');
  try {
    const before = await count();
    await fn();
    return (await count()) - before;
  } finally {
    await client.query('ROLLBACK');
  }
}

test('system and type history with _since read their versions by index', async () => {
  const client = await db.pool.connect();
  try {
    let system: Awaited<ReturnType<ResourceStore['history']>> | undefined;
    assert.equal(await rowsReadSequentially(client, async () => (system = await store.history(client, { since: recent, count: 5, offset: 0 }))), 0);
    assert.equal(system!.total, 16);
    assert.equal(system!.entries.length, 5);
    let patients: Awaited<ReturnType<ResourceStore['history']>> | undefined;
    assert.equal(await rowsReadSequentially(client, async () => (patients = await store.history(client, { type: 'Patient', since: recent, count: 20, offset: 0 }))), 0);
    // 8 first versions (3 no longer current), 3 second versions (1 no longer current), 1 delete marker.
    assert.equal(patients!.total, 12);
    // The same versions, in the same order, as a plain scan finds.
    const plain = async (type?: string, since: Date | null = recent) =>
      (await client.query(`SELECT id, version, deleted FROM resources WHERE ($1::timestamptz IS NULL OR last_updated >= $1) AND ($2::text IS NULL OR type = $2) ORDER BY last_updated DESC, version DESC, id`, [since?.toISOString() ?? null, type ?? null])).rows.map((r) => `${r.id}/${r.version}${r.deleted ? ' deleted' : ''}`);
    const listed = (h: typeof patients) => h!.entries.map((e) => `${e.id}/${e.version}${e.deleted ? ' deleted' : ''}`);
    assert.deepEqual(listed(system), (await plain()).slice(0, 5));
    assert.deepEqual(listed(patients), await plain('Patient'));
    const tasks = await store.history(client, { type: 'Task', count: 5, offset: 0 });
    assert.equal(tasks.total, 10_004);
    assert.deepEqual(listed(tasks), (await plain('Task', null)).slice(0, 5));
  } finally {
    client.release();
  }
});

test('versions written after the index was last summarized are found too', async () => {
  const later = new Date(recent.getTime() + 3_600_000);
  await db.pool.query(`INSERT INTO resources (id, version, type, last_updated, current, resource, size)
    SELECT gen_random_uuid(), 1, 'Patient', $1::timestamptz + n * interval '1 second', true, '{"resourceType":"Patient"}', 25 FROM generate_series(1, 3) AS n`, [later.toISOString()]);
  const h = await store.history(db.pool, { since: later, count: 10, offset: 0 });
  assert.equal(h.total, 3);
  assert.equal((await store.history(db.pool, { since: recent, count: 10, offset: 0 })).total, 19);
});
