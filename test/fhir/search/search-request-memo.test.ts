// The service's memo of parsed search requests (search-request-memo.ts): the same request as
// parseSearchRequest gives, frozen so that no caller changes what the next search gets, errors and
// warnings never kept, and bounded in entries and in the query's length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { MAX_KEPT_PER_KEY, MAX_KEPT_QUERY_CHARS, SearchRequestMemo } from '../../../src/fhir/search/search-request-memo.ts';
import { loadCoreDefinitions } from '../../../src/fhir/model/definitions-cache.ts';

loadCoreDefinitions();
const SYS = 'http://example.org/sid';
const OPTS = { defaultCount: 20, maxParameters: 8, maxValues: 8 };

const queries: [string, [string, string][]][] = [
  ['Organization', [['identifier', `${SYS}|a`]]],
  ['Endpoint', [['identifier', `${SYS}|a`]]],
  ['Organization', [['identifier:not', `${SYS}|a`]]],
  ['Organization', [['name', `${SYS}|a`]]],
  ['Organization', [['identifier', `${SYS}|a`], ['_count', '3']]],
  ['Organization', [['identifier', `${SYS}|a`], ['_count', '3'], ['_page', '2']]],
  ['Organization', [['identifier', `${SYS}|a&_count=3`]]],
  ['Organization', [['identifier', `${SYS}|a`], ['_sort', '-_lastUpdated'], ['_include', 'Organization:endpoint']]],
  ['Task', [['status', 'requested'], ['_elements', 'status']]],
  ['ActivityDefinition', [['url', 'http://example.org/ad|1.0']]],
  ['Organization', []],
];

test('a kept request is the one parseSearchRequest gives, for each type, handling and query', () => {
  const memo = new SearchRequestMemo(OPTS);
  for (let pass = 0; pass < 3; pass++) {
    for (const [type, query] of queries) {
      for (const strict of [true, false]) {
        const got = memo.parse(type, query, strict);
        assert.deepEqual(got, parseSearchRequest(type, query, { ...OPTS, strict }), `${type}?${JSON.stringify(query)} strict=${strict}`);
        assert.ok(Object.isFrozen(got));
        if (pass) assert.equal(memo.parse(type, query.map(([k, v]) => [k, v]), strict), got, 'the kept object for an equal query');
      }
    }
  }
});

test('a kept request cannot be changed by a caller, and the next search gets it as parsed', () => {
  const memo = new SearchRequestMemo(OPTS);
  const query: [string, string][] = [['identifier', `${SYS}|a,${SYS}|b`], ['_sort', '_id'], ['_include', 'Organization:endpoint']];
  const expected = parseSearchRequest('Organization', query, { ...OPTS, strict: true });
  const req = memo.parse('Organization', query, true);
  const changes: (() => void)[] = [
    () => ((req as { count: number }).count = 1),
    () => req.filters.push({ code: 'name', values: ['x'] }),
    () => req.filters[0]!.values.push('x'),
    () => ((req.filters[0] as { code: string }).code = 'name'),
    () => req.sort[0]!.descending = true,
    () => req.include.pop(),
    () => ((req.include[0] as { param: string }).param = 'partof'),
    () => req.canonicalParams.push(['_count', '1']),
    () => (req.canonicalParams[0]![1] = 'x'),
    () => req.warnings.push({ severity: 'warning', code: 'invalid' }),
  ];
  for (const change of changes) assert.throws(change, TypeError);
  // The caller's own query changed after the search: not what the kept request holds.
  query[0]![1] = `${SYS}|c`;
  assert.deepEqual(memo.parse('Organization', [['identifier', `${SYS}|a,${SYS}|b`], ['_sort', '_id'], ['_include', 'Organization:endpoint']], true), expected);
  assert.deepEqual(memo.parse('Organization', query, true).filters[0]!.values, [`${SYS}|c`]);
});

test('errors are thrown every time and requests with warnings are not kept', () => {
  const memo = new SearchRequestMemo(OPTS);
  const bad: [string, string][] = [['unknown-param', 'x']];
  for (let k = 0; k < 3; k++) assert.throws(() => memo.parse('Organization', bad, true), /Unknown search parameter/);
  const lenient = memo.parse('Organization', bad, false);
  assert.equal(lenient.warnings.length, 1);
  assert.ok(!Object.isFrozen(lenient));
  assert.notEqual(memo.parse('Organization', bad, false), lenient, 'parsed anew');
  // The same query strict after lenient, and the other way round: each its own answer.
  assert.throws(() => memo.parse('Organization', bad, true));
  const tooMany: [string, string][] = [['identifier', Array.from({ length: 9 }, (_, i) => `${SYS}|${i}`).join(',')]];
  for (const strict of [false, true, false]) assert.throws(() => memo.parse('Organization', tooMany, strict), /at most 8/);
  assert.equal(memo.size, 0);
});

test('the memo is bounded in requests, per key and in the query length', () => {
  const memo = new SearchRequestMemo(OPTS, 10);
  const q = (i: number): [string, string][] => [['identifier', `${SYS}|${i}`]];
  const first = memo.parse('Organization', q(0), true);
  for (let i = 1; i < 50; i++) memo.parse('Organization', q(i), true);
  assert.equal(memo.size, 10);
  assert.notEqual(memo.parse('Organization', q(0), true), first, 'the oldest went');
  const newest = memo.parse('Organization', q(49), true);
  assert.equal(memo.parse('Organization', q(49), true), newest, 'the newest kept');
  // One value under many types and handlings: at most MAX_KEPT_PER_KEY of them.
  const types = ['Organization', 'Endpoint', 'Patient', 'Practitioner', 'Location', 'HealthcareService'];
  for (const type of types) for (const strict of [true, false]) assert.deepEqual(memo.parse(type, q(7), strict), parseSearchRequest(type, q(7), { ...OPTS, strict }));
  assert.ok(memo.size <= 10);
  const sizeBefore = memo.size;
  const long: [string, string][] = [['identifier', `${SYS}|${'x'.repeat(MAX_KEPT_QUERY_CHARS)}`]];
  const a = memo.parse('Organization', long, true);
  assert.notEqual(memo.parse('Organization', long, true), a, 'a query beyond the length is parsed anew');
  assert.equal(memo.size, sizeBefore);
  assert.ok(MAX_KEPT_PER_KEY >= 2);
});
