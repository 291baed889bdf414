// A search page's statement (search-query.ts) orders the matches once: the order keys are carried out
// of the ids' subquery and the byte bound's window runs in the page's own level, so neither a row number
// nor a wrapping statement needs a sort of its own (PostgreSQL sets up every node of a prepared
// statement's plan on each run). The pages must still come in the order of the sort, cut at the bound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Organization, Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { genericPlan, recordingRunner } from '../../support/generic-plan.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';

const BASE = 'https://localhost/fhir';
const SYSTEM = 'http://example.org/page-plan';
const SORTS = ['', '_id', '-_id', '_lastUpdated', '-_lastUpdated', 'name', '-name'];
let db: TestDatabase;
let orgs: Organization[] = [];
before(async () => {
  db = await createTestDatabase('dsf_page_plan');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE);
  // Names with ties and gaps (no name sorts last either way); sizes that differ.
  for (let i = 0; i < 14; i++) {
    const o: Organization = { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, identifier: [{ system: SYSTEM, value: 'x' }], active: true, address: [{ text: 'x'.repeat(50 + 40 * (i % 5)) }] };
    if (i % 4) o.name = ['b', 'a', 'c'][i % 3];
    orgs.push((await store.transaction((c) => store.create(c, o as Resource))).resource as Organization);
  }
});
after(() => db?.drop());

const request = (sort: string, count: number, offset?: number) =>
  parseSearchRequest('Organization', [['identifier', `${SYSTEM}|x`], ...(sort ? [['_sort', sort] as [string, string]] : []), ['_count', String(count)], ...(offset !== undefined ? [['_offset', String(offset)] as [string, string]] : [])], { strict: true, defaultCount: 20 });

/** The order of `sort` over the organisations, written out: its key (missing ones last), then last update (as stored, in µs), then id. */
async function expectedOrder(sort: string): Promise<string[]> {
  const updated = new Map((await db.pool.query(`SELECT id::text AS id, (extract(epoch FROM last_updated) * 1000000)::bigint::text AS us FROM resources WHERE type = 'Organization' AND current`)).rows.map((r) => [r.id as string, BigInt(r.us)]));
  const desc = sort.startsWith('-');
  const code = sort.replace(/^-/, '');
  const key = (o: Organization): string | bigint | undefined => (code === '_id' ? o.id : code === '_lastUpdated' ? updated.get(o.id!) : code === 'name' ? o.name : '');
  const cmp = <T extends string | bigint>(a: T | undefined, b: T | undefined) => (a === b ? 0 : a === undefined ? 1 : b === undefined ? -1 : a < b ? -1 : 1);
  return [...orgs]
    .sort((a, b) => cmp(key(a), key(b)) * (desc && key(a) !== undefined && key(b) !== undefined ? -1 : 1) || cmp(updated.get(a.id!), updated.get(b.id!)) || cmp(a.id, b.id))
    .map((o) => o.id!);
}

/** Sort nodes of a plan (EXPLAIN, JSON). */
function sorts(plan: Record<string, any>): number {
  return (String(plan['Node Type']).endsWith('Sort') ? 1 : 0) + (plan.Plans ?? []).reduce((n: number, p: Record<string, any>) => n + sorts(p), 0);
}

test('the page statement sorts the matches at most once, under a generic plan, for every order', async () => {
  for (const sort of SORTS) {
    const { runner, statements } = recordingRunner(db.pool);
    const result = await executeSearch(runner, request(sort, 5), BASE, undefined, { maxPageBytes: 1 << 24 });
    assert.equal(result.matches.length, 5);
    assert.equal(statements.length, 1, 'the page with its total');
    const plan = await genericPlan(db.pool, statements[0]!);
    assert.ok(sorts(plan) <= 1, `_sort=${sort}: ${JSON.stringify(plan)}`);
  }
});

test('pages follow the order and end at the byte bound, the first match of a page always kept', async () => {
  const sizes = new Map((await db.pool.query(`SELECT id::text AS id, size FROM resources WHERE type = 'Organization' AND current`)).rows.map((r) => [r.id as string, Number(r.size)]));
  const largest = Math.max(...sizes.values());
  for (const sort of SORTS) {
    const expected = await expectedOrder(sort);
    for (const bound of [1, largest * 2 + 1, 1 << 24]) {
      const seen: string[] = [];
      let offset = 0;
      for (let pages = 0; offset < expected.length && pages < 20; pages++) {
        const result = await executeSearch(db.pool, request(sort, 4, offset), BASE, undefined, { maxPageBytes: bound });
        assert.equal(result.total, expected.length);
        const ids = result.matches.map((m) => m.id!);
        // The prefix within the bound; at least one.
        let kept = 0;
        let bytes = 0;
        for (const id of expected.slice(offset, offset + 4)) {
          bytes += sizes.get(id)!;
          if (kept > 0 && bytes > bound) break;
          kept++;
        }
        assert.deepEqual(ids, expected.slice(offset, offset + kept), `_sort=${sort}, bound ${bound}, offset ${offset}`);
        seen.push(...ids);
        offset += ids.length;
      }
      assert.deepEqual(seen, expected, `_sort=${sort}, bound ${bound}`);
    }
    // Unbounded (conditional writes): the same order.
    const all = await executeSearch(db.pool, request(sort, 20), BASE, undefined, { total: false });
    assert.deepEqual(all.matches.map((m) => m.id), expected, `_sort=${sort}, unbounded`);
  }
});
