// A string search's starts-with bounds the index scan by a range (string-prefix-range.ts) as well as
// the LIKE: under a generic plan (and in a coalesced batch, where the value is a column) the LIKE alone
// read every indexed string of the parameter. The matches stay those of starts-with, edge characters too.
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
import { normalizeString } from '../../../src/fhir/search/param-types/string.ts';
import { prefixUpperBound } from '../../../src/fhir/search/param-types/string-prefix-range.ts';

const BASE = 'https://localhost/fhir';
const NAMES = ['Org 1', 'Org 10', 'Org 19', 'Org 2', 'org 1x', 'Örg 1', 'Org_1', 'Org%1', 'Org\\1', 'Org \u{10FFFF}', 'Org \u{10FFFF}a', 'Org \uD7FF', 'Org \uE000', 'Org 😀', 'Org 😁', 'Org', 'Or', 'Zeta'];
const PREFIXES = ['Org 1', 'org 1', 'ORG', 'Or', 'Org_', 'Org%', 'Org\\', 'Org \u{10FFFF}', 'Org \uD7FF', 'Org 😀', 'örg', 'Z', 'Zeta', 'Zetas', '\u{10FFFF}'];
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_string_prefix');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE);
  for (const name of NAMES) await store.transaction((c) => store.create(c, { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, active: true, name } as Resource));
  // Filler, so that the planner prefers the index as it does with a real site's organisations.
  for (let i = 0; i < 200; i++) await store.transaction((c) => store.create(c, { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, active: true, name: `Filler ${i}` } as Resource));
  await db.pool.query('ANALYZE');
});
after(() => db?.drop());

test('the upper bound is the least string above every string with the prefix', () => {
  assert.equal(prefixUpperBound(''), undefined);
  assert.equal(prefixUpperBound('\u{10FFFF}'), undefined);
  assert.equal(prefixUpperBound('org 1'), 'org 2');
  assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
  assert.equal(prefixUpperBound('a\uD7FF'), 'a\uE000');
  assert.equal(prefixUpperBound('a😀'), 'a😁');
  assert.equal(prefixUpperBound('a\uDC00'), 'a\uFFFE', 'a lone surrogate goes as U+FFFD');
});

test('starts-with finds exactly the names that start with the value, case and accents aside', async () => {
  for (const prefix of PREFIXES) {
    const want = NAMES.filter((n) => normalizeString(n).startsWith(normalizeString(prefix))).sort();
    const result = await executeSearch(db.pool, parseSearchRequest('Organization', [['name', prefix]], { strict: true, defaultCount: 50 }), BASE);
    assert.deepEqual(result.matches.map((m) => (m as Organization).name!).sort(), want, `name=${prefix}`);
  }
});

test('several values: the names that start with any of them', async () => {
  const values = ['Zeta', 'Org 1', 'Or\u{10FFFF}'];
  const want = NAMES.filter((n) => values.some((v) => normalizeString(n).startsWith(normalizeString(v)))).sort();
  const result = await executeSearch(db.pool, parseSearchRequest('Organization', [['name', values.join(',')]], { strict: true, defaultCount: 50 }), BASE);
  assert.deepEqual(result.matches.map((m) => (m as Organization).name!).sort(), want);
});

/** Index conditions of the plan's scans of search_index (EXPLAIN, JSON). */
function indexConds(plan: Record<string, any>): string[] {
  const own = plan['Relation Name'] === 'search_index' || String(plan['Index Name'] ?? '').startsWith('search_index') ? [String(plan['Index Cond'] ?? '')] : [];
  return [...own, ...(plan.Plans ?? []).flatMap((p: Record<string, any>) => indexConds(p))];
}

test('under a generic plan the name index is scanned by the prefix, not for every name', async () => {
  const { runner, statements } = recordingRunner(db.pool);
  await executeSearch(runner, parseSearchRequest('Organization', [['name', 'Org 1']], { strict: true, defaultCount: 20 }), BASE, undefined, { maxPageBytes: 1 << 24 });
  const conds = indexConds(await genericPlan(db.pool, statements[0]!));
  assert.ok(conds.some((c) => /norm ~>=~/.test(c) && /norm ~<~/.test(c)), `index conditions: ${JSON.stringify(conds)}`);
});
