// An entry's fullUrl in the searchset written as text (searchsetJson) is put in quotes as it is when
// base URL, type and id need no escaping, else escaped: either way the same bytes as JSON.stringify of
// the searchset built as objects, for every UTF-16 code unit in the id, in the base URL and in the type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { searchsetBundle, searchsetJson } from '../../../src/fhir/service/result-bundles.ts';

const req = parseSearchRequest('Organization', [['name', 'x']], { strict: true, defaultCount: 20 });

function check(base: string, type: string, id: string): void {
  const resource = { resourceType: type, id } as Resource;
  const text = { type, id, text: JSON.stringify(resource).replace(/":/g, '": ') };
  const json = searchsetJson(base, req, { total: 1, offset: 0, matches: [text], included: [] });
  const bundle = searchsetBundle(base, req, { total: 1, offset: 0, matches: [resource], included: [] });
  assert.equal(json, JSON.stringify(bundle), JSON.stringify([base, type, id]));
}

test('every code unit in the id, the base URL and the type: the same bytes as JSON.stringify', () => {
  let escaped = 0;
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    if (JSON.stringify(ch) !== `"${ch}"`) escaped++;
    // A text compactJsonbText takes as it is (no digit-led key, no whitespace to cut inside the id's string).
    check('https://localhost:8001/fhir', 'Organization', `a${ch}b`);
    if (c % 7 === 0 || c < 0x80 || (c >= 0xd800 && c < 0xe000)) {
      check(`https://h${ch}st/fhir`, 'Organization', 'id-1');
      check('https://localhost/fhir', `Organ${ch}ization`, 'id-1');
    }
  }
  assert.ok(escaped > 2000, 'control characters, quote, backslash and lone surrogates are escaped');
});

test('pairs of surrogates, non-ASCII, and plain ids', () => {
  for (const id of ['😀', 'a\ud83d', '\ude00b', 'äöü', '\u2028', 'x\u007fy', '0c7a3f5e-4d7b-4a7e-9b7c-000000000001', 'a.b-c', '']) {
    check('https://localhost:8001/fhir', 'Organization', id);
    check('https://lo😀calhost/fhir', 'Organization', id);
  }
});
