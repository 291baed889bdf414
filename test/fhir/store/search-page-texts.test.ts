// The page statement's text is kept by the text of its WHERE clause and the page's form
// (search-page-texts.ts). Whatever the order searches come in, each must send exactly the text and values
// the page statement builds for it anew: two searches whose statements differ never share a kept text.
// And the texts kept stay bounded however many shapes come.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSearchRequest, type SearchRequest } from '../../../src/fhir/search/search-request.ts';
import type { SearchOptions } from '../../../src/fhir/store/search-query.ts';
import { firstStatementBuiltAnew, firstStatementSent } from '../../support/search-statements.ts';
import { readAccessTags, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { MAX_PAGE_TEXT_CHARS, MAX_PAGE_TEXTS, MAX_PAGE_TEXTS_PER_LENGTH, pageStatementFor, pageTextsKept, type PageShape } from '../../../src/fhir/store/search-page-texts.ts';

const BASE = 'https://localhost/fhir';
const SYS = 'http://example.org/sid';

const builtAnew = (req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions) => firstStatementBuiltAnew(BASE, req, access, opts);
const sent = (req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions) => firstStatementSent(BASE, req, access, opts);

const tokens = [`${SYS}|a`, `${SYS}|`, '|a', 'a', `${SYS}|a,b`, `${SYS}|a,|b`, 'a,b,c'];
const queries: [string, [string, string][]][] = [
  ...tokens.map((t): [string, [string, string][]] => ['Organization', [['identifier', t]]]),
  ...tokens.map((t): [string, [string, string][]] => ['Patient', [['identifier', t]]]),
  ...tokens.map((t): [string, [string, string][]] => ['Organization', [['identifier:not', t]]]),
  ['Organization', [['name', 'x']]],
  ['Organization', [['name:exact', 'x']]],
  ['Organization', [['name:contains', 'x']]],
  ['Organization', [['name', 'x'], ['identifier', `${SYS}|a`]]],
  ['Organization', [['identifier', `${SYS}|a`], ['name', 'x']]],
  ['Organization', [['identifier', `${SYS}|a`], ['identifier', `${SYS}|b`]]],
  ['Organization', [['endpoint', 'Endpoint/1']]],
  ['Organization', [['endpoint:identifier', `${SYS}|a`]]],
  ['Organization', [['_id', '7f1c0a34-8f5e-4b8e-9a55-0f3d6e0c2b11']]],
  ['Organization', [['_id', 'not-a-uuid']]],
  ['Organization', [['_lastUpdated', 'gt2020-01-01']]],
  ['Organization', [['_lastUpdated', 'lt2020-01-01']]],
  ['Organization', [['_lastUpdated', '2020-01-01']]],
  ['Task', [['authored-on', 'ge2020-01-01']]],
  ['Task', [['authored-on', '2020']]],
  ['Task', [['status', 'requested']]],
  ['Task', [['requester', 'Organization/1']]],
  ['Task', [['requester:identifier', `${SYS}|a`]]],
  ['Organization', []],
];
const sorts = ['', '_id', '-_id', '_lastUpdated', 'name', '-name', 'name,-_lastUpdated'];
const forms: SearchOptions[] = [{}, { total: false }, { asText: true }, { maxPageBytes: 1000 }, { maxPageBytes: 2000, asText: true, total: false }];
const accesses: (AccessFilter | undefined)[] = [undefined, () => readAccessTags({ local: true, organizationIdentifier: 'a.org' }), () => readAccessTags({ local: false, organizationId: '7f1c0a34-8f5e-4b8e-9a55-0f3d6e0c2b12', organizationIdentifier: 'b.org' })];

test('every search sends the text and values its page statement builds anew, whatever came before', async () => {
  const cases: [SearchRequest, AccessFilter | undefined, SearchOptions][] = [];
  for (const [type, query] of queries) {
    for (const sort of sorts) {
      if (sort.includes('name') && type !== 'Organization') continue;
      const req = parseSearchRequest(type, [...query, ...(sort ? [['_sort', sort] as [string, string]] : []), ['_count', String(3 + (cases.length % 4))], ['_page', String(1 + (cases.length % 3))]], { strict: true, defaultCount: 20 });
      for (const access of accesses) for (const form of forms) cases.push([req, access, form]);
    }
  }
  // Twice over, the second time in another order: most texts then come from what the first pass kept.
  const order = [...cases.keys(), ...[...cases.keys()].sort((a, b) => ((a * 7919) % cases.length) - ((b * 7919) % cases.length))];
  const texts = new Set<string>();
  for (const k of order) {
    const [req, access, form] = cases[k]!;
    const expected = builtAnew(req, access, form);
    assert.deepEqual(await sent(req, access, form), expected, `case ${k}`);
    texts.add(expected.text);
  }
  assert.ok(texts.size > 500, `${texts.size} distinct texts`);
});

test('the kept texts are bounded in number and in characters', async () => {
  // Distinct WHERE clauses: one more OR-ed value each.
  for (let n = 1; n <= MAX_PAGE_TEXTS + 50; n++) {
    const req = parseSearchRequest('Organization', [['identifier', Array.from({ length: n }, (_, k) => `${SYS}|${k}`).join(',')]], { strict: true, defaultCount: 20, maxValues: 10_000 });
    await sent(req, undefined, {});
    const kept = pageTextsKept();
    assert.ok(kept.texts <= MAX_PAGE_TEXTS && kept.chars <= MAX_PAGE_TEXT_CHARS, JSON.stringify(kept));
  }
  assert.ok(pageTextsKept().texts > 0);
  // A statement of thousands of values is built each time, not kept.
  const before = pageTextsKept();
  const huge = parseSearchRequest('Organization', [['identifier', Array.from({ length: 9000 }, (_, k) => `${SYS}|${k}`).join(',')]], { strict: true, defaultCount: 20, maxValues: 10_000 });
  const expected = builtAnew(huge, undefined, {});
  assert.ok(expected.text.length > MAX_PAGE_TEXT_CHARS / 16);
  assert.deepEqual(await sent(huge, undefined, {}), expected);
  assert.deepEqual(pageTextsKept(), before);
});

// The texts are found by the clause's length, then compared field by field: a shape or clause that
// differs in any one part, at the same length, must get its own text.
test('a clause of the same length, or the same clause in another shape, never takes another\'s text', () => {
  const base: PageShape = { resourceType: 'Organization', sort: [{ code: 'name', descending: false }], wantTotal: true, asText: false, bounded: false };
  const variants: [string, PageShape, string, number][] = [
    ['base', base, 'r.x = $1 AND r.y', 1],
    ['other clause, same length', base, 'r.z = $1 AND r.y', 1],
    ['other count of clause values', base, 'r.x = $1 AND r.y', 2],
    ['other type', { ...base, resourceType: 'Endpoint' }, 'r.x = $1 AND r.y', 1],
    ['descending', { ...base, sort: [{ code: 'name', descending: true }] }, 'r.x = $1 AND r.y', 1],
    ['other sort code', { ...base, sort: [{ code: 'type', descending: false }] }, 'r.x = $1 AND r.y', 1],
    ['two sorts', { ...base, sort: [{ code: 'name', descending: false }, { code: '_id', descending: false }] }, 'r.x = $1 AND r.y', 1],
    ['no sort', { ...base, sort: [] }, 'r.x = $1 AND r.y', 1],
    ['no total', { ...base, wantTotal: false }, 'r.x = $1 AND r.y', 1],
    ['as text', { ...base, asText: true }, 'r.x = $1 AND r.y', 1],
    ['bounded', { ...base, bounded: true }, 'r.x = $1 AND r.y', 1],
  ];
  const statementOf = (k: number, whereValues: unknown[]) => () => ({ text: `page ${k} ${Math.random()}`, values: [...whereValues, 5, 0] });
  const first = new Map<number, string>();
  for (let pass = 0; pass < 2; pass++) {
    for (const [k, [name, shape, where, n]] of variants.entries()) {
      const whereValues = Array.from({ length: n }, (_, i) => `v${i}`);
      let built = false;
      const got = pageStatementFor(shape, where, whereValues, [5, 0], () => ((built = true), statementOf(k, whereValues)()));
      assert.deepEqual(got.values, [...whereValues, 5, 0], name);
      if (pass === 0) {
        assert.ok(built, `${name}: built the first time`);
        first.set(k, got.text);
      } else {
        assert.ok(!built, `${name}: kept`);
        assert.equal(got.text, first.get(k), name);
      }
    }
  }
});

test('at most so many texts are kept for one length of the clause, the newest, each found as its own', () => {
  const shape: PageShape = { resourceType: 'Patient', sort: [], wantTotal: true, asText: false, bounded: false };
  const count = MAX_PAGE_TEXTS_PER_LENGTH * 3;
  // Clauses of one length (none of the searches' clauses is this long and this shape).
  const whereOf = (k: number) => `r.same_length_${String(k).padStart(4, '0')} = $1`;
  const before = pageTextsKept();
  for (let k = 0; k < count; k++) pageStatementFor(shape, whereOf(k), ['v'], [1, 0], () => ({ text: `text ${k}`, values: ['v', 1, 0] }));
  const kept = pageTextsKept();
  assert.ok(kept.texts - before.texts <= MAX_PAGE_TEXTS_PER_LENGTH, JSON.stringify({ before, kept }));
  const builtAgain: number[] = [];
  // Newest first, so that looking the older ones up (and keeping them again) does not push out the newer.
  for (let k = count - 1; k >= 0; k--) {
    const got = pageStatementFor(shape, whereOf(k), ['v'], [1, 0], () => (builtAgain.push(k), { text: `text ${k}`, values: ['v', 1, 0] }));
    assert.equal(got.text, `text ${k}`);
  }
  assert.deepEqual(builtAgain, Array.from({ length: count - MAX_PAGE_TEXTS_PER_LENGTH }, (_, i) => count - MAX_PAGE_TEXTS_PER_LENGTH - 1 - i));
  assert.ok(pageTextsKept().texts <= MAX_PAGE_TEXTS && pageTextsKept().chars <= MAX_PAGE_TEXT_CHARS);
});
