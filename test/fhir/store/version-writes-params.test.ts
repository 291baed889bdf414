// writeVersions builds its array parameters element by element; each must be the literal the driver
// (pg-array-literal.ts) gives for the column as an array: same elements, order, quoting and NULLs,
// the index rows' positions 1-based, and the full statement's per-row ids and types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWriteStatement, writeVersions, type VersionWrite } from '../../../src/fhir/store/version-writes.ts';
import { pgArrayLiteral } from '../../../src/db/pg-array-literal.ts';
import { indexRow } from '../../../src/fhir/search/index-row.ts';
import type { TransactionClient } from '../../../src/db/pool.ts';

/** The values of the one statement writeVersions sends. */
async function sent(writes: VersionWrite[]): Promise<{ text: string; values: string[] }> {
  const calls: { text: string; values: string[] }[] = [];
  const client = { query: async (text: string, values: string[]) => (calls.push({ text, values }), { rows: [] }), release() {} } as unknown as TransactionClient;
  assert.equal(await writeVersions(client, writes), undefined);
  assert.equal(calls.length, 1);
  assert.ok(isWriteStatement(calls[0]!.text));
  return calls[0]!;
}

const odd = ['a"b', 'back\\slash', 'comma,brace{}', '', 'NULL', 'ümlaut ✓', ' spaced '];

function write(i: number, more: Partial<VersionWrite> = {}): VersionWrite {
  const id = `0190a0b0-0000-7000-8000-00000000000${i}`;
  return {
    id,
    type: i % 2 ? 'Patient' : 'Task',
    version: more.version ?? 1,
    lastUpdated: `2026-12-07T18:00:0${i}.123Z`,
    json: i === 3 ? undefined : JSON.stringify({ resourceType: 'X', id, text: odd[i % odd.length] }),
    replaces: false,
    indexRows:
      i === 2
        ? []
        : [
            indexRow('identifier', { system: odd[i % odd.length], code: odd[(i + 1) % odd.length] }),
            indexRow('name', { norm: odd[(i + 2) % odd.length] }),
            indexRow('subject', { system: 'Patient', code: 'x', refId: id, norm: 'Patient/x' }),
            indexRow('date', { lo: '2026-01-01T00:00:00.000Z', hi: '2026-01-02T00:00:00.000Z' }),
            indexRow('value', { num: String(i * 1.5), code: 'mg' }),
          ],
    keys: [],
    previousKeys: [],
    ...more,
  };
}

/** The columns as arrays, literals made by pgArrayLiteral. */
function expected(writes: VersionWrite[]) {
  const rows = writes.flatMap((w, i) => w.indexRows.map((r) => ({ w, n: i + 1, r })));
  return {
    writes: [
      pgArrayLiteral(writes.map((w) => w.id)),
      pgArrayLiteral(writes.map((w) => w.version)),
      pgArrayLiteral(writes.map((w) => w.type)),
      pgArrayLiteral(writes.map((w) => w.lastUpdated)),
      pgArrayLiteral(writes.map((w) => w.json === undefined)),
      pgArrayLiteral(writes.map((w) => (w.json === undefined ? 0 : Buffer.byteLength(w.json)))),
      `[${writes.map((w) => w.json ?? 'null').join(',')}]`,
    ],
    n: pgArrayLiteral(rows.map((x) => x.n)),
    ids: pgArrayLiteral(rows.map((x) => x.w.id)),
    types: pgArrayLiteral(rows.map((x) => x.w.type)),
    index: (['param', 'system', 'code', 'norm', 'refId', 'lo', 'hi', 'num'] as const).map((k) => pgArrayLiteral(rows.map((x) => x.r[k]))),
  };
}

test('creates without keys: the write columns, 1-based row positions and index columns are the driver literals of the arrays', async () => {
  const writes = [1, 2, 3, 4, 5].map((i) => write(i));
  const { values } = await sent(writes);
  const x = expected(writes);
  assert.deepEqual(values, [...x.writes, x.n, ...x.index]);
  assert.equal(x.n, '{"1","1","1","1","1","3","3","3","3","3","4","4","4","4","4","5","5","5","5","5"}');
});

test('the full statement (an update, keys): replaced ids, write columns, per-row ids and types, index and key columns', async () => {
  const writes = [write(1), write(2, { version: 2, replaces: true }), write(4, { keys: ['identifier:a"b', 'k2'], previousKeys: ['k2'] }), write(5, { version: 3, replaces: true })];
  const { values } = await sent(writes);
  const x = expected(writes);
  assert.deepEqual(values, [
    pgArrayLiteral([writes[1]!.id, writes[3]!.id]),
    ...x.writes,
    x.ids,
    x.types,
    ...x.index,
    pgArrayLiteral([writes[2]!.id, writes[2]!.id]),
    pgArrayLiteral(['Task', 'Task']),
    pgArrayLiteral(['identifier:a"b', 'k2']),
    pgArrayLiteral([false, true]),
  ]);
});

test('a single create with no index rows: empty index columns', async () => {
  const { values } = await sent([write(2)]);
  assert.deepEqual(values.slice(7), ['{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}']);
});
