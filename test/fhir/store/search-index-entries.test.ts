// The search index's own indexes (store/schema.ts, migration 9): a row has entries only where a search
// can use them, and every kind of condition the search modules write (param-types/) can still be
// answered from an index.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_search_index_entries');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  // 300 resources, each with two token rows (no norm) and one string row (code and norm).
  await db.pool.query(`INSERT INTO search_index (resource_id, type, param, system, code, norm)
    SELECT id, 'Patient', p.param, p.system, p.code || n, p.norm || n
    FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 300) AS n) r,
      (VALUES ('identifier', 'http://x', 'v', NULL), ('active', NULL, 'true', NULL), ('name', NULL, 'Name ', 'name ')) AS p(param, system, code, norm)`);
  await db.pool.query('VACUUM ANALYZE search_index');
});
after(() => db?.drop());

const indexEntries = async (index: string) => Number((await db.pool.query('SELECT reltuples FROM pg_class WHERE relname = $1', [index])).rows[0].reltuples);

test('a row without a norm has no entry in the norm index; every row has one in the code index and the resource index', async () => {
  assert.equal(await indexEntries('search_index_norm'), 300, 'only the string rows');
  assert.equal(await indexEntries('search_index_code'), 900);
  assert.equal(await indexEntries('search_index_resource'), 900);
  const indexes = (await db.pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'search_index' ORDER BY 1`)).rows.map((r) => r.indexname);
  assert.deepEqual(indexes, ['search_index_code', 'search_index_date', 'search_index_norm', 'search_index_num', 'search_index_ref', 'search_index_resource']);
});

/** The indexes a plan of the condition on search_index uses (sequential scans off: can it use one at all?). */
async function indexesUsed(condition: string, values: unknown[]): Promise<string[]> {
  const client = await db.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const plan = (await client.query(`EXPLAIN (FORMAT JSON) SELECT resource_id FROM search_index s WHERE s.type = 'Patient' AND ${condition}`, values)).rows[0]['QUERY PLAN'][0].Plan;
    const used = new Set<string>();
    const walk = (p: Record<string, any>) => {
      if (p['Index Name']) used.add(p['Index Name']);
      if (p['Node Type'] === 'Seq Scan') used.add('(sequential scan)');
      for (const c of p.Plans ?? []) walk(c);
    };
    walk(plan);
    return [...used].sort();
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}

test('every condition the search modules write is answered from an index', async () => {
  const cases: [string, string, unknown[], string[]][] = [
    ['token code|system', `s.param = 'identifier' AND s.code = $1 AND s.system = $2`, ['v7', 'http://x'], ['search_index_code']],
    ['token code', `s.param = 'identifier' AND s.code = $1`, ['v7'], ['search_index_code']],
    ['token |code', `s.param = 'active' AND s.system IS NULL AND s.code = $1`, ['true'], ['search_index_code']],
    ['token system|', `s.param = 'identifier' AND s.system = $1`, ['http://x'], ['search_index_code']],
    ['uri below', `s.param = 'identifier' AND s.code LIKE 'v1%'`, [], ['search_index_code']],
    ['string', `s.param = 'name' AND s.norm LIKE 'name 1%'`, [], ['search_index_norm']],
    ['string, parameter', `s.param = 'name' AND s.norm LIKE $1`, ['name 1%'], ['search_index_norm']],
    ['reference', `s.param = 'name' AND (s.norm = $1 OR s.code = $1)`, ['name 7'], ['search_index_code', 'search_index_norm']],
    ['string exact', `s.param = 'name' AND s.code = $1`, ['Name 7'], ['search_index_code']],
    ['by resource', `s.resource_id = $1`, [randomUUID()], ['search_index_resource']],
  ];
  for (const [what, condition, values, expected] of cases) assert.deepEqual(await indexesUsed(condition, values), expected, what);
  // And they find what they should.
  const n = async (condition: string, values: unknown[] = []) =>
    Number((await db.pool.query(`SELECT count(*) AS n FROM search_index s WHERE s.type = 'Patient' AND ${condition}`, values)).rows[0].n);
  assert.equal(await n(`s.param = 'identifier' AND s.code LIKE 'v1%'`), 1 + 10 + 100);
  assert.equal(await n(`s.param = 'name' AND s.norm LIKE 'name 29%'`), 1 + 10);
  assert.equal(await n(`s.param = 'active' AND s.system IS NULL AND s.code = 'true1'`), 1);
});
