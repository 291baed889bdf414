// The watch for references that reference cleaning could change (ReferenceCleaningWatch, used by reads
// and searchsets written from stored text) decides by its rule on every text, called detached as
// compactJsonbText calls it: it never misses a resource cleaning changes; and a searchset with such a
// reference is not written from the stored texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceCleaningWatch, cleanLiteralReferences } from '../../../src/fhir/references/reference-cleaner.ts';
import { compactJsonbText } from '../../../src/fhir/store/jsonb-text.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { searchsetJson } from '../../../src/fhir/service/result-bundles.ts';

/** jsonb's text form of a value (a space after ':' and ','), as PostgreSQL gives it. */
const jsonbText = (v: unknown): string => JSON.stringify(v).replace(/":/g, '": ').replace(/,"/g, ', "');

/** Resources with `reference` and `identifier` at every depth, in one object or apart, reference as string or not. */
function resources(): unknown[] {
  const out: unknown[] = [];
  const holders = [
    {},
    { reference: 'Organization/1' },
    { identifier: { system: 's', value: 'v' } },
    { reference: 'Organization/1', identifier: { system: 's', value: 'v' } },
    { reference: 7, identifier: { system: 's', value: 'v' } },
    { reference: { x: 1 }, identifier: [] },
  ];
  for (const a of holders) {
    for (const b of holders) {
      out.push({ resourceType: 'Task', ...a, owner: b });
      out.push({ resourceType: 'Task', input: [{ valueReference: a }, { valueReference: b }] });
      out.push({ resourceType: 'Task', identifier: [{ value: 'x' }], owner: { ...a, extension: [{ url: 'u', valueReference: b }] } });
    }
  }
  return out;
}

/** The rule, on the parsed resource: some object below the resource has a string `reference`, some an `identifier`. */
function expected(value: unknown, depth = 1): { reference: boolean; identifier: boolean } {
  const found = { reference: false, identifier: false };
  const walk = (v: unknown, d: number) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, d));
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (d >= 2 && k === 'reference' && typeof x === 'string') found.reference = true;
      if (d >= 2 && k === 'identifier') found.identifier = true;
      walk(x, d + 1);
    }
  };
  walk(value, depth);
  return found;
}

test('the watch decides by its rule on every text, its key called detached, and misses no change by cleaning', () => {
  let changing = 0;
  for (const resource of resources()) {
    const text = jsonbText(resource);
    const watch = new ReferenceCleaningWatch();
    const detached = watch.key;
    assert.equal(compactJsonbText(text, detached), JSON.stringify(resource));
    const rule = expected(resource);
    assert.equal(watch.mayChange, rule.reference && rule.identifier, text);
    if (cleanLiteralReferences(resource as never) !== resource) assert.ok(watch.mayChange, `cleaning changes ${text}`);
    if (watch.mayChange) changing++;
  }
  assert.ok(changing > 20, 'texts that cleaning could change are among them');
});

test('a searchset with a reference that carries an identifier is not written from the stored texts', () => {
  const req = parseSearchRequest('Task', [['status', 'requested']], { strict: true, defaultCount: 20 });
  const text = (resource: unknown) => ({ type: 'Task', id: '1', text: jsonbText({ id: '1', ...(resource as object) }) });
  const plain = { resourceType: 'Task', owner: { reference: 'Organization/1' } };
  const cleaned = { resourceType: 'Task', owner: { reference: 'Organization/1', identifier: { system: 's', value: 'v' } } };
  assert.notEqual(searchsetJson('https://x/fhir', req, { total: 1, offset: 0, matches: [text(plain)], included: [] }), undefined);
  assert.equal(searchsetJson('https://x/fhir', req, { total: 1, offset: 0, matches: [text(cleaned)], included: [] }), undefined);
  assert.equal(searchsetJson('https://x/fhir', req, { total: 2, offset: 0, matches: [text(plain)], included: [text(cleaned)] }), undefined);
});
