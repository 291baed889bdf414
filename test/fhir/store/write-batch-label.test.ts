// A held-back write carries the label the batch had when it was added (a transaction's entry), on a
// copy: the caller's write is not changed, and the copy has the write's fields in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBatch } from '../../../src/fhir/store/write-batch.ts';
import type { VersionWrite } from '../../../src/fhir/store/version-writes.ts';

const write = (id: string): VersionWrite => ({ id, type: 'Patient', version: 1, lastUpdated: '2026-12-07T00:00:00.000Z', json: '{}', replaces: false, indexRows: [], keys: [], previousKeys: [] });

test('held-back writes are copies carrying the label of the moment they were added', async () => {
  const sent: VersionWrite[][] = [];
  const batch = new WriteBatch(async (writes) => void sent.push(writes));
  const [a, b, c] = [write('a'), write('b'), write('c')];
  await batch.add(a);
  batch.label = { entry: 1 };
  await batch.add(b);
  batch.label = 'entry 2';
  await batch.add(c);
  await batch.send();
  assert.equal(sent.length, 1);
  const [ca, cb, cc] = sent[0]!;
  assert.deepEqual(Object.keys(ca!), [...Object.keys(a), 'label']);
  assert.ok(Object.hasOwn(ca!, 'label') && ca!.label === undefined);
  assert.deepEqual(cb, { ...b, label: { entry: 1 } });
  assert.equal(cc!.label, 'entry 2');
  for (const [copy, original] of [[ca, a], [cb, b], [cc, c]] as const) {
    assert.notEqual(copy, original);
    assert.equal(original.label, undefined);
    assert.ok(!Object.hasOwn(original, 'label'));
    assert.equal(copy!.indexRows, original.indexRows);
  }
});
