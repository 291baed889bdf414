// A search page's byte bound (search-query.ts boundedPage, bounded-rows.ts): the page statement ships a
// resource only when it is within the bound divided by the page's rows, and the rows kept whose resource
// was not shipped are read afterwards by their exact version. Each page must still be exactly what the
// bound keeps (the first row always, then while the sizes add up within the bound), with what is left
// out and the bytes left for the includes as before: batched through a coalescer and alone, in every
// form, and with a write between the page's two statements.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch, type SearchOptions, type SearchResult } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { StatementCoalescer, type StatementRunner } from '../../../src/db/coalesced-statements.ts';

const BASE = 'https://localhost/fhir';
const SYSTEM = 'http://example.org/bounded-page';
let db: TestDatabase;
let store: ResourceStore;
/** Ids by search code, in the page's order. */
const ids: Record<string, string[]> = {};
let endpoint: string;
const sizes = new Map<string, number>();
/** The bound of the 'middle' page: its first two rows and the endpoint, exactly. */
let bound: number;

const org = (code: string, size: number, endpointId?: string) =>
  ({ resourceType: 'Organization', identifier: [{ system: SYSTEM, value: code }], active: true, address: [{ text: 'x'.repeat(size) }], ...(endpointId ? { endpoint: [{ reference: `Endpoint/${endpointId}` }] } : {}) }) as Resource;

before(async () => {
  db = await createTestDatabase('dsf_bounded_page');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  store = new ResourceStore(db.pool, BASE);
  const create = async (r: Resource) => (await store.transaction((c) => store.create(c, r))).resource.id!;
  endpoint = await create({ resourceType: 'Endpoint', status: 'active', address: 'https://e.org/' + 'e'.repeat(1000) } as Resource);
  // A first resource larger than the whole bound, then small ones.
  ids.first = [await create(org('first', 30_000, endpoint)), await create(org('first', 100, endpoint)), await create(org('first', 100))];
  // Small, one larger than bound / rows that still fits, one that does not fit, small.
  ids.middle = [await create(org('middle', 300, endpoint)), await create(org('middle', 5_000, endpoint)), await create(org('middle', 6_000)), await create(org('middle', 100))];
  // All small: every row shipped and kept.
  ids.small = [await create(org('small', 100)), await create(org('small', 200))];
  for (const row of (await db.pool.query('SELECT id, size FROM resources WHERE current')).rows) sizes.set(row.id, row.size);
  const [s1, s2, s3] = ids.middle.map((id) => sizes.get(id)!);
  const e = sizes.get(endpoint)!;
  bound = s1! + s2! + e;
  // The test's own premises: the middle one is not shipped (bound / 4 rows), the third does not fit.
  assert.ok(s2! > bound / 4 && s3! > e && sizes.get(ids.first[0]!)! > bound);
  await db.pool.query('ANALYZE');
});
after(() => db?.drop());

const request = (code: string, count = 4, page = 1) =>
  parseSearchRequest('Organization', [['identifier', `${SYSTEM}|${code}`], ['_count', String(count)], ['_page', String(page)], ['_include', 'Organization:endpoint']], { strict: true, defaultCount: 20 });

/** What a page is: matches' ids and versions in order, total, includes' ids, includes left out; resources whole. */
function answer(result: SearchResult<any>, asText: boolean) {
  const parse = (r: any) => (asText ? { ...JSON.parse(r.text), typeColumn: r.type, idColumn: r.id } : r);
  return { total: result.total, matches: result.matches.map(parse), included: result.included.map(parse), includesLeftOut: result.includesLeftOut ?? 0 };
}

/** The page the bound keeps, from the stored sizes: the first row, then while the sum stays within the bound. */
function expected(code: string, budget: number, withTotal: boolean) {
  const kept: string[] = [];
  let sum = 0;
  for (const id of ids[code]!) {
    if (kept.length && sum + sizes.get(id)! > budget) break;
    kept.push(id);
    sum += sizes.get(id)!;
  }
  const refs = kept.some((id) => ids.first!.slice(0, 2).includes(id) || ids.middle!.slice(0, 2).includes(id));
  const includeFits = refs && sizes.get(endpoint)! <= Math.max(0, budget - sum);
  return { total: withTotal ? ids[code]!.length : -1, matches: kept, included: includeFits ? [endpoint] : [], includesLeftOut: refs && !includeFits ? 1 : 0 };
}

const FORMS: SearchOptions[] = [{}, { asText: true }, { total: false }, { total: false, asText: true }];

async function check(runner: StatementRunner, codes: string[], budget: number, opts: SearchOptions) {
  const results = await Promise.all(codes.map((code) => executeSearch(runner, request(code), BASE, undefined, { ...opts, maxPageBytes: budget } as SearchOptions & { asText?: false })));
  for (const [k, code] of codes.entries()) {
    const got = answer(results[k]!, opts.asText === true);
    const want = expected(code, budget, opts.total !== false);
    const label = `${code} ${budget} ${JSON.stringify(opts)}`;
    assert.deepEqual({ ...got, matches: got.matches.map((r: any) => r.id), included: got.included.map((r: any) => r.id) }, want, label);
    // Each resource whole, as stored (its text form's type and id columns too).
    for (const r of [...got.matches, ...got.included]) {
      assert.equal(r.meta.versionId, '1', label);
      if (opts.asText) assert.deepEqual([r.typeColumn, r.idColumn], [r.resourceType, r.id], label);
    }
  }
}

/**
 * Records the texts sent; of each page (each vector of a batch) the resources shipped add up to at most
 * the bound (the page's last value), so that a page's memory stays bounded before the rows are cut.
 */
/** A bounded page statement (alone or batched); the read of a page's resources not shipped. */
const isPage = (text: string) => text.includes('END AS later');
const isLaterRead = (text: string) => text.includes('r.version AS later');

const recording = (sent: string[]): StatementRunner => ({
  query: async (text, values) => {
    sent.push(text);
    const res = await db.pool.query(text, values);
    if (isPage(text)) {
      const shipped = new Map<unknown, number>();
      for (const row of res.rows) if (row.resource != null) shipped.set(row.batch_k, (shipped.get(row.batch_k) ?? 0) + Number(row.size));
      for (const bytes of shipped.values()) assert.ok(bytes <= Number(values.at(-1)), `${bytes} shipped, bound ${values.at(-1)}`);
    }
    return res;
  },
});

test('pages with resources larger than the bound / rows: the same rows, left out and includes as the bound keeps, alone and batched', async () => {
  for (const opts of FORMS) {
    for (const budget of [bound, bound - 1, 1, 1 << 24]) {
      const alone: string[] = [];
      for (const code of ['first', 'middle', 'small']) await check(recording(alone), [code], budget, opts);
      const batched: string[] = [];
      const coalescer = new StatementCoalescer();
      await check(coalescer.view(recording(batched), undefined), ['first', 'middle', 'small', 'middle'], budget, opts);
      assert.ok(coalescer.stats.coalesced >= 4 && coalescer.stats.failedBatches === 0, JSON.stringify(coalescer.stats));
      assert.ok(batched[0]!.includes('CROSS JOIN LATERAL (SELECT DISTINCT s.resource_id'), 'the batch form');
      // Unless the bound is large, some kept resource is larger than bound / rows and is read after the page.
      assert.equal(alone.some(isLaterRead), budget < 1 << 24, `${budget}`);
    }
  }
});

test("a write between the page and the read of its large resources: the version the page counted", async () => {
  for (const asText of [false, true]) {
    const target = ids.middle![1]!;
    let written = false;
    const runner: StatementRunner = {
      query: async (text, values) => {
        const res = await db.pool.query(text, values);
        if (!written && isPage(text)) {
          written = true;
          const cur = (await db.pool.query('SELECT resource FROM resources WHERE id = $1 AND current', [target])).rows[0].resource as Resource;
          await store.transaction((c) => store.update(c, { ...cur, name: 'changed', address: [{ text: 'y' }] } as Resource & { id: string }));
        }
        return res;
      },
    };
    const result = await executeSearch(runner, request('middle'), BASE, undefined, { maxPageBytes: bound, asText } as SearchOptions & { asText?: false });
    assert.ok(written);
    const got = answer(result, asText);
    assert.deepEqual(got.matches.map((r: any) => [r.id, r.meta.versionId, r.name]), [[ids.middle![0], '1', undefined], [target, '1', undefined]]);
    assert.equal(got.matches[1].address[0].text.length, 5_000);
    // Back to the page's data for the other tests.
    await db.pool.query('DELETE FROM resources WHERE id = $1 AND version > 1', [target]);
    await db.pool.query('UPDATE resources SET current = true WHERE id = $1', [target]);
  }
});

test('a version the page counted and deleted for good before it is read: the page is read again', async () => {
  const victim = (await store.transaction((c) => store.create(c, org('gone', 8_000)))).resource.id!;
  const other = (await store.transaction((c) => store.create(c, org('gone', 100)))).resource.id!;
  let pages = 0;
  const runner: StatementRunner = {
    query: async (text, values) => {
      const res = await db.pool.query(text, values);
      if (isPage(text) && pages++ === 0) {
        await store.transaction((c) => store.delete(c, 'Organization', victim));
        await store.transaction((c) => store.permanentDelete(c, 'Organization', victim));
      }
      return res;
    },
  };
  const result = await executeSearch(runner, request('gone'), BASE, undefined, { maxPageBytes: 10_000 });
  assert.equal(pages, 2);
  assert.deepEqual([result.total, result.matches.map((r) => r.id)], [1, [other]]);
});

test('a version deleted for good before every attempt to read it: the page answers without it, no error', async () => {
  const kept = (await store.transaction((c) => store.create(c, org('vanishing', 100)))).resource.id!;
  const victims: string[] = [];
  for (let k = 0; k < 3; k++) victims.push((await store.transaction((c) => store.create(c, org('vanishing', 8_000)))).resource.id!);
  let pages = 0;
  const runner: StatementRunner = {
    query: async (text, values) => {
      const res = await db.pool.query(text, values);
      // After each page statement, one of the large rows it counted (and did not ship) goes for good.
      if (isPage(text)) {
        const rows = res.rows.filter((r) => r.later != null);
        const victim = rows.length ? String(rows[0].later).split('/')[0]! : undefined;
        pages++;
        if (victim) {
          await store.transaction((c) => store.delete(c, 'Organization', victim));
          await store.transaction((c) => store.permanentDelete(c, 'Organization', victim));
        }
      }
      return res;
    },
  };
  const result = await executeSearch(runner, request('vanishing'), BASE, undefined, { maxPageBytes: 10_000 });
  assert.equal(pages, 3);
  assert.ok(result.matches.every((r) => r.id === kept || victims.includes(r.id!)));
  assert.ok(result.matches.some((r) => r.id === kept));
  assert.ok(result.matches.every((r) => r.resourceType === 'Organization'));
});
