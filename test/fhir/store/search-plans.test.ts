// A search's statements kept with its frozen request (search-plans.ts): each search still sends the
// text and values its statements build anew, for every caller and page form, two callers with
// different access each get their own matches from one kept request, and what a caller might change
// (the values' list) is its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { parseSearchRequest, type SearchRequest } from '../../../src/fhir/search/search-request.ts';
import { SearchRequestMemo } from '../../../src/fhir/search/search-request-memo.ts';
import { executeSearch, type SearchOptions } from '../../../src/fhir/store/search-query.ts';
import { firstStatementBuiltAnew, firstStatementSent } from '../../support/search-statements.ts';
import { readAccessTags, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { searchPlanFor, MAX_PLANS_PER_REQUEST, type SearchPlan } from '../../../src/fhir/store/search-plans.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';

const BASE = 'https://localhost/fhir';
const SYS = 'http://example.org/search-plans';
const memo = new SearchRequestMemo({ defaultCount: 20 });
const local: AccessFilter = () => readAccessTags({ local: true, organizationIdentifier: 'a.org' });
const remote: AccessFilter = () => readAccessTags({ local: false, organizationIdentifier: 'b.org' });

const builtAnew = (req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions) => firstStatementBuiltAnew(BASE, req, access, opts);
const sent = (req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions) => firstStatementSent(BASE, req, access, opts);

test('a kept plan sends what the statements build anew, for every caller and form', async () => {
  const queries: [string, [string, string][]][] = [
    ['Organization', [['identifier', `${SYS}|a`]]],
    ['Organization', [['identifier', `${SYS}|a`], ['_count', '3'], ['_page', '2']]],
    ['Organization', [['identifier', `${SYS}|a,${SYS}|b`], ['_sort', '-name']]],
    ['Organization', [['_id', '7f1c0a34-8f5e-4b8e-9a55-0f3d6e0c2b11,7f1c0a34-8f5e-4b8e-9a55-0f3d6e0c2b12']]],
    ['Organization', [['identifier', `${SYS}|a`], ['_summary', 'count']]],
    ['Organization', [['identifier', `${SYS}|a`], ['_count', '0']]],
    ['Task', [['status', 'requested']]],
    ['Task', [['authored-on', 'ge2020-01-01']]],
  ];
  const forms: SearchOptions[] = [{}, { total: false }, { asText: true }, { maxPageBytes: 1000 }, { maxPageBytes: 2000, asText: true }];
  for (let pass = 0; pass < 2; pass++) {
    for (const [type, query] of queries) {
      const req = memo.parse(type, query, true);
      assert.ok(Object.isFrozen(req));
      for (const access of [undefined, local, remote]) {
        for (const form of forms) {
          const got = await sent(req, access, form);
          assert.deepEqual(got, builtAnew(parseSearchRequest(type, query, { strict: true, defaultCount: 20 }), access, form), `${type}?${JSON.stringify(query)} ${JSON.stringify(form)}`);
          assert.ok(!Object.isFrozen(got.values), 'the values list is the caller\'s own');
          got.values.push('changed');
          got.values[0] = 'changed';
        }
      }
    }
  }
});

test('plans are kept for frozen requests only, at most so many each, and never with a date among their values', () => {
  let builds = 0;
  const plan = (values: unknown[]) => (): SearchPlan => (builds++, { where: 'r.current', whereValues: values, page: { text: 'SELECT 1', values: [...values, 20, 0] } });
  const open = parseSearchRequest('Organization', [['identifier', `${SYS}|x`]], { strict: true, defaultCount: 20 });
  searchPlanFor(open, BASE, undefined, true, false, undefined, plan(['a']));
  searchPlanFor(open, BASE, undefined, true, false, undefined, plan(['a']));
  assert.equal(builds, 2, 'an unfrozen request is planned each time');
  const frozen = memo.parse('Organization', [['identifier', `${SYS}|y`]], true);
  builds = 0;
  const first = searchPlanFor(frozen, BASE, undefined, true, false, undefined, plan(['a', ['x', 'y']]));
  assert.equal(searchPlanFor(frozen, BASE, undefined, true, false, undefined, plan(['a'])), first);
  assert.ok(Object.isFrozen(first.whereValues) && Object.isFrozen(first.whereValues[1]) && Object.isFrozen(first.page!.values));
  // Each caller, form, bound and base its own.
  const others: [string, AccessFilter | undefined, boolean, boolean, number | undefined][] = [
    [BASE, local, true, false, undefined],
    [BASE, remote, true, false, undefined],
    [BASE, undefined, false, false, undefined],
    [BASE, undefined, true, true, undefined],
    [BASE, undefined, true, false, 1000],
    ['https://other/fhir', undefined, true, false, undefined],
  ];
  for (const [base, access, total, asText, bound] of others) assert.notEqual(searchPlanFor(frozen, base, access, total, asText, bound, plan(['a'])), first);
  assert.equal(builds, 1 + others.length);
  // More than MAX_PLANS_PER_REQUEST forms: the oldest (the first) built again.
  for (let k = 0; k < MAX_PLANS_PER_REQUEST; k++) searchPlanFor(frozen, BASE, undefined, true, false, 5000 + k, plan(['a']));
  builds = 0;
  assert.notEqual(searchPlanFor(frozen, BASE, undefined, true, false, undefined, plan(['a'])), first);
  assert.equal(builds, 1);
  // A Date among the values (a date parameter's bound): built each time.
  const dated = memo.parse('Task', [['authored-on', 'ge2021-01-01']], true);
  builds = 0;
  searchPlanFor(dated, BASE, undefined, true, false, undefined, plan([new Date(0)]));
  searchPlanFor(dated, BASE, undefined, true, false, undefined, plan([new Date(0)]));
  assert.equal(builds, 2);
});

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_search_plans');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE);
  const create = (code: string, value: string) =>
    store.transaction((c) => store.create(c, { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, code }] }, identifier: [{ system: SYS, value }], active: true } as Resource));
  await create('ALL', 'shared');
  await create('LOCAL', 'shared');
  await create('LOCAL', 'local-only');
});
after(() => db?.drop());

test('two callers with different access each get their own matches from one kept request', async () => {
  const shared = memo.parse('Organization', [['identifier', `${SYS}|shared`]], false);
  const localOnly = memo.parse('Organization', [['identifier', `${SYS}|local-only`]], false);
  for (let round = 0; round < 3; round++) {
    for (const [access, sharedTotal, localTotal] of [[local, 2, 1], [remote, 1, 0], [local, 2, 1], [undefined, 2, 1]] as const) {
      for (const opts of [{}, { asText: true }, { maxPageBytes: 100_000 }] as SearchOptions[]) {
        const a = await executeSearch(db.pool, shared, BASE, access, opts as SearchOptions & { asText?: false });
        assert.equal(a.total, sharedTotal);
        assert.equal(a.matches.length, sharedTotal);
        const b = await executeSearch(db.pool, localOnly, BASE, access, opts as SearchOptions & { asText?: false });
        assert.equal(b.total, localTotal);
        assert.equal(b.matches.length, localTotal);
      }
    }
  }
});
