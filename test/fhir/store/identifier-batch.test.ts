// Coalesced identifier searches (one token with system and code) run in their own batch form
// (search-query.ts, coalesced-statements.ts BatchForm): each vector's index rows looked up as a read
// looks up its row, the pages cut by windows partitioned by vector. Each search must still get exactly
// what its own statement gives: the same matches in the same order, the same total, the same byte bound,
// with matches shared between searches, several of a resource's index rows matching, rows the caller may
// not read, deleted and older versions, pages past the last match.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch, type SearchOptions } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { StatementCoalescer, type StatementRunner } from '../../../src/db/coalesced-statements.ts';
import { readAccessTags, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';
import { genericPlan, type RecordedStatement } from '../../support/generic-plan.ts';

const BASE = 'https://localhost/fhir';
const SYSTEM = 'http://example.org/identifier-batch';
const OTHER = 'http://example.org/other-system';
const ALL = { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] };
const access: AccessFilter = () => readAccessTags({ local: true, organizationIdentifier: 'a.org' });
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('dsf_identifier_batch');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE);
  const create = async (identifier: { system: string; value: string }[], meta: object = ALL, size = 0) =>
    (await store.transaction((c) => store.create(c, { resourceType: 'Organization', meta, identifier, active: true, address: [{ text: 'x'.repeat(size) }] } as Resource))).resource;
  for (let i = 0; i < 4; i++) await create([{ system: SYSTEM, value: `one-${i}` }]);
  // Seven matches of different sizes, for pages, order and the byte bound; one of them also matches one-0.
  const many: Resource[] = [];
  for (let i = 0; i < 7; i++) many.push(await create([{ system: SYSTEM, value: 'many' }, ...(i === 3 ? [{ system: SYSTEM, value: 'one-0' }] : [])], ALL, 100 + 300 * ((i * 3) % 5)));
  // Updated later: the order by last update is not the order by id (ids are time-ordered).
  for (const r of [many[0]!, many[2]!]) await store.transaction((c) => store.update(c, { ...r, name: 'later' } as Resource & { id: string }));
  await create([{ system: SYSTEM, value: 'twice' }, { system: SYSTEM, value: 'twice' }]);
  await create([{ system: OTHER, value: 'other' }]);
  await create([{ system: SYSTEM, value: 'hidden' }], {});
  await create([{ system: SYSTEM, value: 'hidden' }]);
  const gone = await create([{ system: SYSTEM, value: 'deleted' }]);
  await store.transaction((c) => store.delete(c, 'Organization', gone.id!));
  const changed = await create([{ system: SYSTEM, value: 'before' }]);
  await store.transaction((c) => store.update(c, { ...changed, identifier: [{ system: SYSTEM, value: 'after' }] } as Resource & { id: string }));
  // Other resources, so that PostgreSQL plans with the tables' indexes as on a server with data.
  await store.transaction(async (c) => {
    for (let i = 0; i < 400; i++) await store.create(c, { resourceType: 'Patient', meta: ALL, identifier: [{ system: SYSTEM, value: `p-${i}` }] } as Resource);
  });
  await db.pool.query('ANALYZE');
});
after(() => db?.drop());

const CODES = ['one-0', 'one-1', 'many', 'one-2', 'twice', 'other', 'hidden', 'none', 'deleted', 'before', 'after', 'many', 'one-3'];
const FORMS: SearchOptions[] = [{}, { total: false }, { asText: true }, { maxPageBytes: 900 }, { maxPageBytes: 1500, asText: true }, { maxPageBytes: 1, total: false }];

const request = (code: string, count: number, page: number, system = SYSTEM) =>
  parseSearchRequest('Organization', [['identifier', `${system}|${code}`], ['_count', String(count)], ['_page', String(page)]], { strict: true, defaultCount: 20 });

/** The searches run at once through one coalescer, and each alone; the statements the batch sent. */
async function together(reqs: ReturnType<typeof request>[], opts: SearchOptions) {
  const sent: string[] = [];
  const recording: StatementRunner = { query: (text, values) => (sent.push(text), db.pool.query(text, values)) };
  const coalescer = new StatementCoalescer();
  const view = coalescer.view(recording, access);
  const search = (runner: StatementRunner, req: ReturnType<typeof request>) => executeSearch(runner, req, BASE, access, opts as SearchOptions & { asText?: false });
  const results = await Promise.all(reqs.map((req) => search(view, req)));
  for (const [k, req] of reqs.entries()) assert.deepEqual(results[k], await search(db.pool, req), `${JSON.stringify(opts)} ${req.filters[0]!.values[0]} _count=${req.count} _page=${req.page}`);
  return { sent, stats: coalescer.stats };
}

const batchForm = (text: string) => text.includes('CROSS JOIN LATERAL (SELECT DISTINCT s.resource_id FROM search_index s');

test('identifier searches of one batch each get their own matches, order, total and byte bound', async () => {
  for (const opts of FORMS) {
    for (const [count, page] of [[20, 1], [3, 1], [3, 2], [3, 3], [2, 4]] as const) {
      const { sent, stats } = await together(CODES.map((code) => request(code, count, page)), opts);
      // Pages past the last match may then count their matches in a second batch.
      assert.ok(stats.batchStatements >= 1 && stats.failedBatches === 0, JSON.stringify(stats));
      assert.equal(stats.coalesced >= CODES.length, true);
      assert.ok(batchForm(sent[0]!), sent[0]);
    }
  }
});

test('the data says what it should: shared matches, a resource matched twice counted once, unreadable and old rows left out', async () => {
  const { sent } = await together(['many', 'one-0', 'twice', 'hidden', 'before', 'after', 'deleted'].map((code) => request(code, 3, 1)), {});
  assert.ok(batchForm(sent[0]!));
  const results = await Promise.all(['many', 'one-0', 'twice', 'hidden', 'before', 'after', 'deleted'].map((code) => executeSearch(db.pool, request(code, 3, 1), BASE, access)));
  assert.deepEqual(
    results.map((r) => [r.total, r.matches.length]),
    [[7, 3], [2, 2], [1, 1], [1, 1], [0, 0], [1, 1], [0, 0]],
  );
});

test('a batch whose pages differ in size or place, or in the system, takes the general form, with the same answers', async () => {
  const mixed = await together([request('many', 3, 1), request('many', 2, 2), request('one-1', 20, 1), request('many', 3, 2)], { maxPageBytes: 900 });
  // One batch for the pages; the resources larger than a page's bound / rows come in one batch more (search-query.ts boundedPage).
  assert.equal(mixed.sent.filter((text) => !text.includes('r.version AS later')).length, 1);
  assert.ok(!batchForm(mixed.sent[0]!), 'the general form');
  const systems = await together([request('many', 3, 1), request('other', 3, 1, OTHER), request('one-2', 3, 1)], {});
  assert.equal(systems.stats.batchStatements, 1);
  assert.ok(batchForm(systems.sent[0]!), 'the system varies where the vectors are in scope');
});

/** Nodes of a plan (EXPLAIN, JSON), depth first. */
const nodes = (plan: Record<string, any>): Record<string, any>[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

test('under a generic plan the batch looks up each vector by its code in the index and sorts the matches once', async () => {
  const sent: RecordedStatement[] = [];
  const recording: StatementRunner = { query: (text, values) => (sent.push({ text, values }), db.pool.query(text, values)) };
  const view = new StatementCoalescer().view(recording, access);
  await Promise.all(['one-0', 'one-1', 'many'].map((code) => executeSearch(view, request(code, 20, 1), BASE, access, { maxPageBytes: 1 << 24, asText: true })));
  assert.ok(batchForm(sent[0]!.text));
  const plan = nodes(await genericPlan(db.pool, sent[0]!));
  // Each vector's index rows are looked up by its code.
  const index = plan.filter((n) => n['Relation Name'] === 'search_index');
  assert.equal(index.length, 1);
  assert.match(index[0]!['Index Cond'] ?? '', /code = q\.v\d+/, JSON.stringify(index[0]));
  // One sort of the matches by vector and page order, none for the byte bound's window or the result;
  // besides it only each vector's few index rows made unique.
  const sorts = plan.filter((n) => String(n['Node Type']).endsWith('Sort')).map((n) => (n['Sort Key'] as string[]).join(', '));
  assert.deepEqual(sorts.filter((k) => k !== "s.resource_id"), ["q.batch_k, r_1.last_updated, r_1.id"], JSON.stringify(plan.map((n) => [n["Node Type"], n["Relation Name"], n["Plan Rows"]])));
});
