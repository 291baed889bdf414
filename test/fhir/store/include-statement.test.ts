// The _include statement (store/search-query.ts) finds the index rows of the page's matches by their
// resource ids: it never reads every index row of the included parameter (which grows with the data and
// was read once per search of a coalesced statement). Statements with a list of ids (_include,
// _revinclude, _id) keep one generic plan as prepared statements instead of being planned anew on
// every run. The resources found stay the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';

const ORGANIZATIONS = 2000;
let db: TestDatabase;
let organizations: string[];
let endpoints: string[];
before(async () => {
  db = await createTestDatabase('dsf_include_statement');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  // Each Organization references its own Endpoint (index row of Organization.endpoint) and has a name row.
  const ids = await db.pool.query(
    `SELECT gen_random_uuid() AS org, gen_random_uuid() AS endpoint, n FROM generate_series(1, ${ORGANIZATIONS}) AS n ORDER BY n`,
  );
  organizations = ids.rows.map((r) => r.org);
  endpoints = ids.rows.map((r) => r.endpoint);
  await db.pool.query(
    `INSERT INTO resources (id, version, type, last_updated, current, resource)
     SELECT x.id, 1, x.type, now(), true, jsonb_build_object('resourceType', x.type, 'id', x.id, 'name', 'n')
     FROM (SELECT unnest($1::uuid[]) AS id, 'Organization' AS type UNION ALL SELECT unnest($2::uuid[]), 'Endpoint') x`,
    [organizations, endpoints],
  );
  await db.pool.query(
    `INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id)
     SELECT o, 'Organization', 'endpoint', 'Endpoint', e::text, 'Endpoint/' || e, e FROM unnest($1::uuid[], $2::uuid[]) AS x(o, e)
     UNION ALL SELECT o, 'Organization', 'name', NULL, 'n', 'n', NULL FROM unnest($1::uuid[]) AS o`,
    [organizations, endpoints],
  );
  await db.pool.query('VACUUM ANALYZE resources');
  await db.pool.query('VACUUM ANALYZE search_index');
});
after(() => db?.drop());

/** The statements a search sends, run on the test database. */
async function searchStatements(query: [string, string][], type = 'Organization') {
  const sent: { text: string; values: unknown[] }[] = [];
  const runner = { query: (text: string, values: unknown[]) => (sent.push({ text, values }), db.pool.query(text, values)) };
  const req = parseSearchRequest(type, query, { strict: true, defaultCount: 20, maxParameters: 100, maxValues: 100 });
  const result = await executeSearch(runner, req, 'https://localhost/fhir', undefined, { maxPageBytes: 1 << 24 });
  return { sent, result };
}

test("_include of a page: the page's targets only, found by the matches' ids, with one generic plan", async () => {
  const page = [organizations[5]!, organizations[17]!, organizations[1200]!];
  const { sent, result } = await searchStatements([
    ['_id', page.join(',')],
    ['_include', 'Organization:endpoint'],
  ]);
  assert.deepEqual(result.matches.map((m) => m.id).sort(), [...page].sort());
  assert.deepEqual(result.included.map((r) => r.id).sort(), [endpoints[5], endpoints[17], endpoints[1200]].sort());
  const include = sent.find((s) => s.text.includes('DISTINCT ON (u.id)'));
  assert.ok(include, 'an include statement was sent');

  const plan = (await db.pool.query(`EXPLAIN ${include.text}`, include.values)).rows.map((r) => r['QUERY PLAN'] as string);
  // No scan of the search index by the parameter (every Organization.endpoint row), only by resource id.
  const byParam = plan.filter((line) => /Index Cond: .*param = /.test(line));
  assert.deepEqual(byParam, [], plan.join('\n'));
  assert.ok(plan.some((line) => /search_index_resource/.test(line)), plan.join('\n'));

  await assertPlannedOnce(include);
});

test('_id and _revinclude by ids: each statement planned once (generic), the same resources', async () => {
  const page = [endpoints[3]!, endpoints[40]!];
  const { sent, result } = await searchStatements(
    [
      ['_id', page.join(',')],
      ['_revinclude', 'Organization:endpoint'],
    ],
    'Endpoint',
  );
  assert.deepEqual(result.matches.map((m) => m.id).sort(), [...page].sort());
  assert.deepEqual(result.included.map((r) => r.id).sort(), [organizations[3], organizations[40]].sort());
  assert.equal(sent.length, 2, 'the page with its total, the revinclude');
  for (const statement of sent) await assertPlannedOnce(statement);
});

/** Run as a prepared statement a dozen times: PostgreSQL settles on its generic plan, not a new plan per run. */
let statements = 0;
async function assertPlannedOnce(statement: { text: string; values: unknown[] }) {
  const name = `planned_once_${statements++}`;
  const client = await db.pool.connect();
  try {
    for (let i = 0; i < 12; i++) await client.query({ name, text: statement.text, values: statement.values });
    const counts = (await client.query(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1`, [name])).rows[0];
    assert.ok(Number(counts.generic_plans) >= 6, `generic ${counts.generic_plans}, custom ${counts.custom_plans}: ${statement.text}`);
  } finally {
    client.release();
  }
}

