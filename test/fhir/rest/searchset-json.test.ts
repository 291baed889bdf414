// A plain JSON searchset is written from the stored texts (searchsetJson); it must be, byte for byte, what
// JSON.stringify gives of the Bundle built as objects (searchsetBundle, cleaned for output): links with
// every kind of parameter, pages in the middle and past the end, totals of zero, warnings and included
// resources left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { searchsetBundle, searchsetJson } from '../../../src/fhir/service/result-bundles.ts';
import { cleanForOutput } from '../../../src/fhir/references/reference-cleaner.ts';
import type { ResourceText, SearchResult } from '../../../src/fhir/store/search-query.ts';

const BASE = 'https://localhost:8443/fhir';
const stored = (i: number) =>
  `{"id": "0c7a3f5e-4d7b-4a7e-9b7c-${String(i).padStart(12, '0')}", "meta": {"versionId": "1", "lastUpdated": "2026-12-06T23:44:30.123+00:00"}, "name": "Org \\"${i}\\" ä", "active": true, "identifier": [{"value": "org-${i}", "system": "http://dsf.dev/sid/organization-identifier"}], "resourceType": "Organization"}`;
const text = (i: number): ResourceText => ({ type: 'Organization', id: `0c7a3f5e-4d7b-4a7e-9b7c-${String(i).padStart(12, '0')}`, text: stored(i) });

const queries: [string, string][][] = [
  [['identifier', 'http://dsf.dev/sid/organization-identifier|org-1']],
  [['identifier', 'a|b,c'], ['name', 'x & y=z'], ['_count', '2']],
  [['name:contains', 'ä ö "q" \\ /'], ['_sort', '-_lastUpdated'], ['_page', '3'], ['_count', '1']],
  [['identifier', 'x'], ['_offset', '5'], ['_count', '3']],
  [['_summary', 'count']],
  [['identifier', 'x'], ['unknown', '1'], ['_total', 'accurate'], ['_count', '0']],
  [['identifier', 'x'], ['_include', 'Organization:endpoint'], ['_format', 'json']],
];

test('searchsetJson gives the bytes of the Bundle built as objects', () => {
  for (const query of queries) {
    const req = parseSearchRequest('Organization', query, { strict: false, defaultCount: 20 });
    for (const [total, matches, included, leftOut] of [
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [7, 3, 2, 0],
      [120, 2, 1, 4],
    ] as const) {
      const result: SearchResult<ResourceText> = {
        total,
        offset: req.offset ?? (req.page - 1) * req.count,
        matches: Array.from({ length: matches }, (_, i) => text(i)),
        included: Array.from({ length: included }, (_, i) => text(100 + i)),
        ...(leftOut ? { includesLeftOut: leftOut } : {}),
      };
      const parsed: SearchResult = { ...result, matches: result.matches.map((r) => JSON.parse(r.text) as Resource), included: result.included.map((r) => JSON.parse(r.text) as Resource) };
      assert.equal(searchsetJson(BASE, req, result), JSON.stringify(cleanForOutput(searchsetBundle(BASE, req, parsed))), JSON.stringify(query));
    }
  }
});
