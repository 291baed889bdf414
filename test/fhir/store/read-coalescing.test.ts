// The batching rules of ReadCoalescer (read-coalescing.ts), with a plain function as the batch
// statement: a lone read runs on its own, reads of one turn share one statement, a full batch goes at
// once, a failed batch sends every read back to its own statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadCoalescer, type RowsById } from '../../../src/fhir/store/read-coalescing.ts';

const rowsOf = (ids: string[]): RowsById => new Map(ids.filter((id) => id !== 'missing').map((id) => [id, { id }]));

test('a read alone in its turn is answered undefined (the caller sends its own statement), without a batch', async () => {
  const c = new ReadCoalescer();
  let batches = 0;
  const r = await c.load(undefined, 'Patient|true', 'A', async (ids) => (batches++, rowsOf(ids)));
  assert.equal(r, undefined);
  assert.equal(batches, 0);
});

test('reads of one turn with the same filter and shape share one statement; distinct ids once, lower case', async () => {
  const c = new ReadCoalescer();
  const sent: string[][] = [];
  const select = async (ids: string[]) => (sent.push(ids), rowsOf(ids));
  const filter = {};
  const results = await Promise.all(['A', 'b', 'a', 'missing'].map((id) => c.load(filter, 'Patient|true', id, select)));
  assert.deepEqual(sent, [['a', 'b', 'missing']]);
  for (const r of results) assert.ok(r);
  assert.deepEqual(results[0]!.get('a'), { id: 'a' });
  assert.equal(results[3]!.get('missing'), undefined);
  assert.deepEqual(c.stats, { coalesced: 4, batchStatements: 1, failedBatches: 0 });
});

test('other filters (identities) and other shapes (types, result forms) never share a statement', async () => {
  const c = new ReadCoalescer();
  const sent: string[][] = [];
  const select = async (ids: string[]) => (sent.push(ids), rowsOf(ids));
  const one = {};
  const other = {};
  const loads = [c.load(one, 'Patient|true', 'a', select), c.load(other, 'Patient|true', 'b', select), c.load(one, 'Patient|false', 'c', select), c.load(one, 'Task|true', 'd', select), c.load(undefined, 'Patient|true', 'e', select)];
  // Each alone in its group: every one reads on its own.
  assert.deepEqual(await Promise.all(loads), [undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual(sent, []);
});

test('a full batch is sent at once; the reads after it start a new batch', async () => {
  const c = new ReadCoalescer(3);
  const sent: string[][] = [];
  const select = async (ids: string[]) => (sent.push(ids), rowsOf(ids));
  const loads = ['a', 'b', 'c', 'd', 'e'].map((id) => c.load(undefined, 'Patient|true', id, select));
  assert.deepEqual(sent, [['a', 'b', 'c']], 'sent before the end of the turn');
  await Promise.all(loads);
  assert.deepEqual(sent, [['a', 'b', 'c'], ['d', 'e']]);
});

test('a failed batch answers every read undefined (each then runs its own statement), and the next turn batches again', async () => {
  const c = new ReadCoalescer();
  let fail = true;
  const select = async (ids: string[]) => {
    if (fail) throw Object.assign(new Error('canceling statement due to user request'), { code: '57014' });
    return rowsOf(ids);
  };
  assert.deepEqual(await Promise.all(['a', 'b'].map((id) => c.load(undefined, 'Patient|true', id, select))), [undefined, undefined]);
  assert.equal(c.stats.failedBatches, 1);
  fail = false;
  const again = await Promise.all(['a', 'b'].map((id) => c.load(undefined, 'Patient|true', id, select)));
  assert.deepEqual(again[1]!.get('b'), { id: 'b' });
});
