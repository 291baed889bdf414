// spreadWith must give what `{ ...source, ...extra }` gives: the same own properties, in the same
// order (as JSON.stringify shows them), the same values, and the same prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spreadWith } from '../../src/common/spread-with.ts';

function same(source: object | undefined, extra: object): void {
  const expected = { ...source, ...extra };
  const got = spreadWith(source, extra);
  assert.deepEqual(Reflect.ownKeys(got), Reflect.ownKeys(expected));
  assert.equal(JSON.stringify(got), JSON.stringify(expected));
  assert.equal(Object.getPrototypeOf(got), Object.prototype);
  for (const k of Reflect.ownKeys(expected)) assert.deepEqual(Object.getOwnPropertyDescriptor(got, k), Object.getOwnPropertyDescriptor(expected, k), String(k));
}

test('spreadWith adds new properties at the end and replaces given ones in place', () => {
  same({ tag: [{ code: 'ALL' }] }, { versionId: '1', lastUpdated: '2026-12-07T00:00:00.000Z' });
  same({ versionId: '9', tag: [], lastUpdated: 'old', security: [] }, { versionId: '1', lastUpdated: 'new' });
  same({ lastUpdated: 'old' }, { versionId: '1', lastUpdated: 'new' });
  same(undefined, { profile: ['p'] });
  same({}, { profile: ['p'] });
  same({ a: 1, b: undefined, c: null }, { b: 2 });
});

test('spreadWith keeps the key order of objects with integer-like and odd keys', () => {
  same(JSON.parse('{"b":1,"2":2,"a":3,"1":4,"-1":5,"01":6}'), { z: 1, 0: 'zero' });
  same(JSON.parse('{"constructor":1,"toString":2,"hasOwnProperty":3}'), { valueOf: 4 });
});

test('a "__proto__" key of parsed JSON stays an own property and does not change the prototype', () => {
  const parsed = JSON.parse('{"__proto__":{"polluted":true},"tag":[]}');
  same(parsed, { versionId: '1' });
  const got = spreadWith(parsed, { versionId: '1' }) as Record<string, unknown>;
  assert.equal(got.polluted, undefined);
  assert.ok(Object.hasOwn(got, '__proto__'));
  same({ a: 1 }, JSON.parse('{"__proto__":{"x":1}}'));
});

test('inherited properties are not copied; the inputs are not changed', () => {
  const source = Object.create({ inherited: 1 }) as Record<string, unknown>;
  source.own = 2;
  same(source, { extra: 3 });
  const meta = { tag: [] as unknown[] };
  const copy = spreadWith(meta, { versionId: '1' });
  assert.deepEqual(meta, { tag: [] });
  assert.equal(copy.tag, meta.tag); // a shallow copy, as the spread
});
