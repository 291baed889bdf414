// compactJsonbText on PostgreSQL's own jsonb text: the same text as JSON.stringify(JSON.parse(text)),
// or undefined where that could differ (then callers parse).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { compactJsonbText } from '../../../src/fhir/store/jsonb-text.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_jsonb_text');
});
after(() => db?.drop());

/** PostgreSQL's text of a JSON document stored as jsonb. */
async function jsonbText(json: string): Promise<string> {
  return (await db.pool.query('SELECT $1::jsonb::text AS t', [json])).rows[0].t as string;
}

const SAME = [
  { resourceType: 'Patient', id: 'a', meta: { versionId: '1' }, active: true, identifier: [{ system: 'http://x', value: 'p, "1": x' }] },
  { s: 'quote " backslash \\ slash / tab \t newline \n cr \r bell \u0007 del \u007f nul-free \u001f' },
  { s: 'non-ASCII äöü € 😀, line separator \u2028 and paragraph \u2029' },
  { s: 'spaces   inside : strings , kept', 'key with space': ' ', '': 'empty key' },
  { n: [0, 1, -1, 42, 123456789012345, -123456789012345], b: [true, false, null], e: [[], {}, [[]], [{}]] },
  { nested: { a: { b: { c: [1, { d: 'e' }] } } }, 'x"y': 'escaped key', 'back\\slash': 1 },
  { ends: 'with backslash \\', next: '\\"' },
];

test('the compact text equals JSON.stringify of the parsed text', async () => {
  for (const doc of SAME) {
    const text = await jsonbText(JSON.stringify(doc));
    assert.notEqual(text, JSON.stringify(JSON.parse(text)), 'PostgreSQL adds spaces (else the test proves little)');
    assert.equal(compactJsonbText(text), JSON.stringify(JSON.parse(text)), text);
  }
});

test('undefined where parsing gives a different text: decimals kept as written, long integers, -0, integer-like keys', async () => {
  for (const json of ['{"d": 1.0}', '{"d": 1.50}', '{"n": 12345678901234567890}', '{"10": 1, "ab": 2, "b": 3}']) {
    const text = await jsonbText(json);
    const compact = text.replaceAll(' ', '');
    assert.notEqual(JSON.stringify(JSON.parse(text)), compact, `${json}: the case differs`);
    assert.equal(compactJsonbText(text), undefined, `${json} -> ${text}`);
  }
  // Where jsonb's numbers could differ they are refused too; never a different text.
  for (const json of ['{"n": -0}', '{"e": 1e3}', '{"e": 1E-2}', '{"d": 0.1}', '{"n": 1234567890123456}', '[{"0x": 1}]']) {
    const text = await jsonbText(json);
    const r = compactJsonbText(text);
    assert.ok(r === undefined || r === JSON.stringify(JSON.parse(text)), `${json} -> ${text} -> ${r}`);
  }
});

test('the key watcher sees every key with the first character of its value and its depth', async () => {
  const text = await jsonbText('{"a": {"reference": "Organization/1", "identifier": {"value": "x"}}, "identifier": [1], "s": "\\"k\\": 1"}');
  const seen: string[] = [];
  compactJsonbText(text, (key, valueStart, depth) => seen.push(`${key}:${String.fromCharCode(valueStart)}:${depth}`));
  assert.deepEqual(seen.sort(), ['a:{:1', 'identifier:[:1', 'identifier:{:2', 'reference:":2', 's:":1', 'value:":3'].sort());
});
