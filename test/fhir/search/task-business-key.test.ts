// Task?business-key=<key>: the Tasks of one process instance (the business-key input every DSF Task of
// it carries), found by the search index instead of by reading Tasks one by one (`dsf task show`
// follows a request across sites with it). Tasks stored before the parameter existed are indexed by
// the migration that brought it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { migrate } from '../../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { searchParameter } from '../../../src/fhir/search/parameters.ts';
import { BPMN_MESSAGE_SYSTEM } from '../../../src/common/trace.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const BASE = 'https://business-key.test/fhir';
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_business_key');
});
after(async () => {
  await db?.drop();
});

function task(inputs: Record<string, string>): Task {
  return {
    resourceType: 'Task',
    status: 'completed',
    intent: 'order',
    instantiatesCanonical: 'http://business-key.test/bpe/Process/test|1.0',
    authoredOn: '2026-01-01T00:00:00Z',
    input: Object.entries(inputs).map(([code, value]) => ({ type: { coding: [{ system: BPMN_MESSAGE_SYSTEM, code }] }, valueString: value })),
  };
}

const search = async (key: string) =>
  (
    await executeSearch(
      db.pool,
      { resourceType: 'Task', filters: [{ code: 'business-key', def: searchParameter('Task', 'business-key')!, values: [key] }], sort: [], count: 10, page: 1, include: [], revinclude: [], warnings: [], canonicalParams: [] },
      BASE,
    )
  ).matches
    .map((r) => r.id)
    .sort();

test('a Task stored before the parameter existed is found after the upgrade; new Tasks are indexed when written; only the business-key input counts', async () => {
  const withoutBusinessKey = FHIR_MIGRATIONS.filter((m) => m.version <= 6);
  await migrate(db.pool, 'fhir', withoutBusinessKey);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  // Stored as the code before the parameter wrote it: the row, no business-key index row.
  const old = { ...task({ 'message-name': 'start', 'business-key': 'key-1' }), id: randomUUID(), meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00.000Z' } };
  await db.pool.query('INSERT INTO resources (id, version, type, last_updated, current, resource, size) VALUES ($1, 1, $2, $3, true, $4, 100)', [old.id, 'Task', '2026-01-01T00:00:00Z', old]);
  const deleted = randomUUID();
  await db.pool.query('INSERT INTO resources (id, version, type, last_updated, current, deleted, resource, size) VALUES ($1, 1, $2, $3, true, true, NULL, 0)', [deleted, 'Task', '2026-01-01T00:00:00Z']);

  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  assert.deepEqual(await search('key-1'), [old.id]);

  const store = new ResourceStore(db.pool, BASE);
  const create = async (t: Task) => (await store.transaction((c) => store.create(c, t))).id;
  const pong = await create(task({ 'message-name': 'pong', 'business-key': 'key-1', 'correlation-key': 'key-2' }));
  const other = await create(task({ 'message-name': 'start', 'business-key': 'key-2' }));
  assert.deepEqual(await search('key-1'), [old.id, pong].sort());
  assert.deepEqual(await search('key-2'), [other], 'a correlation key of the same value does not count');
  assert.deepEqual(await search('key'), [], 'whole values only');
  // The index row the migration wrote is the one the code writes.
  const names = new Map([[old.id, 'old'], [pong, 'pong'], [other, 'other']]);
  const rows = await db.pool.query(`SELECT resource_id::text AS id, system, code, norm, ref_id, lo, hi, num FROM search_index WHERE param = 'business-key'`);
  assert.deepEqual(rows.rows.map((r) => [names.get(r.id), r.system, r.code, r.norm, r.ref_id, r.lo, r.hi, r.num].join(' ')).sort(), ['old  key-1     ', 'other  key-2     ', 'pong  key-1     ']);
});
