// A searchset's paging links: self, first, previous, next and last, each by _page where the page starts
// at a multiple of _count, else by _offset. The page's own URL is built once and given again to first and
// last where they are the same page; every link must still be the one its page's formula gives, in the
// Bundle built as objects and in the JSON written as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BundleLink } from '@medplum/fhirtypes';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { SearchRequestMemo } from '../../../src/fhir/search/search-request-memo.ts';
import { searchsetBundle, searchsetJson } from '../../../src/fhir/service/result-bundles.ts';
import type { ResourceText } from '../../../src/fhir/store/search-query.ts';

const BASE = 'https://localhost:8443/fhir';
const QUERY: [string, string][] = [['identifier', 'http://dsf.dev/sid/organization-identifier|org-1']];

/** The links as each relation's own URL, built from scratch (the formula the links follow). */
function expected(offset: number, count: number, total: number, returned: number): BundleLink[] {
  const params = new URLSearchParams(QUERY);
  params.set('_count', String(count));
  const url = (o: number) => `${BASE}/Organization?${params}&${count > 0 && o % count === 0 ? `_page=${o / count + 1}` : `_offset=${o}`}`;
  const links: BundleLink[] = [{ relation: 'self', url: url(offset) }];
  if (count === 0) return links;
  const last = Math.max(0, Math.ceil(total / count) - 1) * count;
  links.push({ relation: 'first', url: url(0) });
  if (offset > 0) links.push({ relation: 'previous', url: url(Math.min(Math.max(0, offset - count), last)) });
  if (offset + returned < total) links.push({ relation: 'next', url: url(offset + returned) });
  links.push({ relation: 'last', url: url(last) });
  return links;
}

const text = (i: number): ResourceText => ({ type: 'Organization', id: String(i), text: `{"id": "${i}", "resourceType": "Organization"}` });

test('every page, first, last, in the middle, past the end and after an early end, has its own links', () => {
  let checked = 0;
  for (const count of [0, 1, 2, 3, 20]) {
    for (const total of [0, 1, 2, 5, 7, 20, 21, 41]) {
      for (const offset of [0, 1, 2, 3, 4, 6, 20, 40, 60]) {
        // A page of `count` rows or fewer (the byte bound ends a page early), never past the total.
        for (const returned of new Set([Math.min(count, Math.max(0, total - offset)), Math.min(1, count, Math.max(0, total - offset))])) {
          const query: [string, string][] = [...QUERY, ['_count', String(count)]];
          if (count > 0 && offset % count === 0) query.push(['_page', String(offset / count + 1)]);
          else query.push(['_offset', String(offset)]);
          const req = parseSearchRequest('Organization', query, { strict: true, defaultCount: 20 });
          const result = { total, offset, matches: Array.from({ length: returned }, (_, i) => text(i)), included: [] };
          const want = expected(offset, count, total, returned);
          const parsed = { ...result, matches: result.matches.map((r) => JSON.parse(r.text)) };
          assert.deepEqual(searchsetBundle(BASE, req, parsed).link, want, JSON.stringify({ count, total, offset, returned }));
          assert.deepEqual(JSON.parse(searchsetJson(BASE, req, result)!).link, want, JSON.stringify({ count, total, offset, returned }));
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 300);
});

test('a one-page result: self, first and last are one URL, written alike', () => {
  const req = parseSearchRequest('Organization', QUERY, { strict: true, defaultCount: 20 });
  const json = searchsetJson(BASE, req, { total: 1, offset: 0, matches: [text(1)], included: [] })!;
  const self = `${BASE}/Organization?identifier=http%3A%2F%2Fdsf.dev%2Fsid%2Forganization-identifier%7Corg-1&_count=20&_page=1`;
  assert.ok(json.startsWith(`{"resourceType":"Bundle","type":"searchset","total":1,"link":[{"relation":"self","url":"${self}"},{"relation":"first","url":"${self}"},{"relation":"last","url":"${self}"}],"entry":[`), json);
});

// A frozen request (the service's memo of requests) keeps its last frame: each answer must still be
// the frame of its own result, whatever the result before it was.
test('a kept request\'s searchsets, one after another with other totals, offsets, counts and bases, each have their own frame', () => {
  const memo = new SearchRequestMemo({ defaultCount: 20 });
  const others = ['https://other:8443/fhir', BASE];
  let checked = 0;
  for (const count of [0, 1, 3, 20]) {
    for (const offset of [0, 1, 3, 6, 20]) {
      const query: [string, string][] = [...QUERY, ['_count', String(count)]];
      if (count > 0 && offset % count === 0) query.push(['_page', String(offset / count + 1)]);
      else query.push(['_offset', String(offset)]);
      const req = memo.parse('Organization', query, true);
      const open = parseSearchRequest('Organization', query, { strict: true, defaultCount: 20 });
      assert.ok(Object.isFrozen(req) && !Object.isFrozen(open));
      // Each total and number returned twice in a row (the second from the kept frame), then the next.
      for (const total of [1, 1, 0, 7, 7, 21, 1, 41]) {
        for (const returned of [Math.min(count, Math.max(0, total - offset)), Math.min(1, count, Math.max(0, total - offset))]) {
          for (const base of [BASE, BASE, ...others]) {
            const result = { total, offset, matches: Array.from({ length: returned }, (_, i) => text(i)), included: [] };
            assert.equal(searchsetJson(base, req, result), searchsetJson(base, open, result), JSON.stringify({ base, count, total, offset, returned }));
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 500);
});
