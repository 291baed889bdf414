// The set form of a single-token search's page (search-query.ts pageStatement, db/set-forms.ts): the
// searches of one turn that differ only in the token's values run as one statement that joins the index
// once for all of them. Each caller must get exactly what its own statement gives (matches, order,
// total, byte bound, access filter), and the batch must keep its generic plan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch, type SearchOptions } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { StatementCoalescer, type StatementRunner } from '../../../src/db/coalesced-statements.ts';
import { usePreparedStatementsOn } from '../../../src/db/prepared-statements.ts';
import { readAccessTags, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';

const BASE = 'https://localhost/fhir';
const S1 = 'http://example.org/sid/one';
const S2 = 'http://example.org/sid/two';
/** What marks the set form in a batch's text (the vectors joined to the index once). */
const SET_MARK = 'SELECT DISTINCT q.batch_k, s.resource_id';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_page_set');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE);
  const tags = [{ code: 'ALL' }, { code: 'LOCAL' }, { code: 'ORGANIZATION', extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization', valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'org-a' } }] }];
  for (let i = 0; i < 40; i++) {
    const identifier: Record<string, string>[] = [{ system: S1, value: `v${i % 8}` }, { system: S2, value: `w${i % 3}` }];
    // Two index rows of one token for one resource (must still come once), and tokens without a system.
    if (i % 7 === 0) identifier.push({ system: S1, value: `v${i % 8}` });
    if (i % 5 === 0) identifier.push({ value: `v${i % 8}` });
    const org = { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, ...tags[i % 3] }] }, identifier, active: true, address: [{ text: 'x'.repeat(40 + 170 * (i % 6)) }], ...(i % 4 ? { name: ['b', 'a', 'c'][i % 3] } : {}) };
    const created = await store.transaction((c) => store.create(c, org as Resource));
    if (i % 9 === 4) await store.transaction((c) => store.delete(c, 'Organization', created.resource.id!));
  }
  for (let i = 0; i < 6; i++) await store.transaction((c) => store.create(c, { resourceType: 'Patient', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, identifier: [{ system: S1, value: `v${i % 4}` }] } as Resource));
  await db.pool.query('ANALYZE');
});
after(() => db?.drop());

const ACCESS: (AccessFilter | undefined)[] = [undefined, () => readAccessTags({ local: true, organizationIdentifier: 'local' }), () => readAccessTags({ local: false, organizationIdentifier: 'org-a' })];
const SORTS = ['', '-_lastUpdated', 'name', '-name', '_id'];
const PAGES: [number, number][] = [[20, 0], [1, 0], [3, 0], [3, 2], [2, 6]];
const OPTIONS: SearchOptions[] = [{ maxPageBytes: 16 * 1024 * 1024, asText: true }, { maxPageBytes: 1, asText: true }, { maxPageBytes: 600 }, {}, { total: false, maxPageBytes: 900, asText: true }];
/** Token value forms; each batch has duplicates and values that match nothing. */
const FORMS: ((k: number) => string)[] = [(k) => `${S1}|v${k % 9}`, (k) => `v${k % 9}`, (k) => `|v${k % 9}`, (k) => [S1, S2, 'http://none'][k % 3] + '|', (k) => `${S1}|v${k % 9},${S2}|w${k % 4}`];
const BATCH = [0, 1, 1, 5, 8, 3, 0];

const request = (type: string, value: string, sort: string, count: number, offset: number, extra: [string, string][] = []) =>
  parseSearchRequest(type, [['identifier', value], ...(sort ? [['_sort', sort] as [string, string]] : []), ['_count', String(count)], ...(offset ? [['_offset', String(offset)] as [string, string]] : []), ...extra], { strict: true, defaultCount: 20 });

/** Runs the searches in one turn through a coalescer and each alone; the results must be equal. Returns the statements the batch sent. */
async function sameAsAlone(searches: [string, string][], sort: string, count: number, offset: number, access: AccessFilter | undefined, opts: SearchOptions, extra: [string, string][] = []): Promise<string[]> {
  const sent: string[] = [];
  const recording: StatementRunner = { query: (text, values) => (sent.push(text), db.pool.query(text, values)) };
  const view = new StatementCoalescer().view(recording, access ?? {});
  const run = (runner: StatementRunner, [type, value]: [string, string]) => executeSearch(runner, request(type, value, sort, count, offset, extra), BASE, access, opts as SearchOptions & { asText?: false });
  const together = await Promise.all(searches.map((s) => run(view, s)));
  for (const [k, s] of searches.entries()) {
    const alone = await run(db.pool, s);
    assert.deepEqual(together[k], alone, `${JSON.stringify(s)} _sort=${sort} _count=${count} _offset=${offset} ${JSON.stringify(opts)} access ${ACCESS.indexOf(access)}`);
  }
  return sent;
}

test('a batch of single-token searches in its set form gives each search exactly its own result', async () => {
  let sets = 0;
  let configs = 0;
  for (const [f, form] of FORMS.entries())
    for (const sort of SORTS)
      for (const [count, offset] of PAGES)
        for (const [o, opts] of OPTIONS.entries()) {
          const access = ACCESS[(f + o + count) % ACCESS.length];
          const extra: [string, string][] = configs % 4 === 0 ? [['_total', 'accurate']] : [];
          const sent = await sameAsAlone(BATCH.map((k) => ['Organization', form(k + configs)]), sort, count, offset, access, opts, extra);
          configs++;
          if (sent.some((t) => t.includes(SET_MARK))) sets++;
        }
  // Every configuration's page went as a set (pages past the last match count on their own too).
  assert.equal(sets, configs);
});

test('a batch whose searches differ outside the token (Organizations and Patients) runs as copies per search, with the same results', async () => {
  const searches: [string, string][] = [['Organization', `${S1}|v1`], ['Patient', `${S1}|v1`], ['Organization', `${S1}|v2`], ['Patient', `${S1}|v3`]];
  const sent = await sameAsAlone(searches, '', 20, 0, undefined, { maxPageBytes: 1 << 24, asText: true });
  assert.ok(sent.some((t) => t.includes('CROSS JOIN LATERAL')), sent.join('\n'));
  assert.ok(!sent.some((t) => t.includes(SET_MARK)));
});

test('searches with a filter besides the token, or a negated token, keep the copies per search', async () => {
  const sent = await sameAsAlone(BATCH.map((k) => ['Organization', `${S1}|v${k}`]), '', 5, 0, undefined, { maxPageBytes: 1 << 24 }, [['name', 'a']]);
  assert.ok(!sent.some((t) => t.includes(SET_MARK)));
  const negated: string[] = [];
  const recording: StatementRunner = { query: (text, values) => (negated.push(text), db.pool.query(text, values)) };
  const view = new StatementCoalescer().view(recording, {});
  const req = (k: number) => parseSearchRequest('Organization', [['identifier:not', `${S1}|v${k}`]], { strict: true, defaultCount: 20 });
  const together = await Promise.all([1, 2, 3].map((k) => executeSearch(view, req(k), BASE)));
  for (const [i, k] of [1, 2, 3].entries()) assert.deepEqual(together[i], await executeSearch(db.pool, req(k), BASE));
  assert.ok(!negated.some((t) => t.includes(SET_MARK)));
});

test('the set form keeps its generic plan over batches of different sizes (no planning per batch)', async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    usePreparedStatementsOn(client);
    const coalescer = new StatementCoalescer();
    const access: AccessFilter = () => readAccessTags({ local: true, organizationIdentifier: 'local' });
    for (let i = 0; i < 14; i++) {
      const values = Array.from({ length: 2 + (i % 7) }, (_, k) => `${S1}|v${(i + k) % 9}`);
      const view = coalescer.view(client, access);
      await Promise.all(values.map((v) => executeSearch(view, request('Organization', v, '', 20, 0), BASE, access, { maxPageBytes: 1 << 24, asText: true })));
    }
    const plans = (await client.query(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%${SET_MARK}%'`)).rows;
    assert.equal(plans.length, 1);
    assert.equal(Number(plans[0].generic_plans) + Number(plans[0].custom_plans), 14);
    assert.ok(plans[0].generic_plans >= 8, JSON.stringify(plans[0]));
  } finally {
    await client.end();
  }
});
