// The rows a caller of the StatementCoalescer gets from a batch: its own rows without batch_k and
// batch_row, every other key in the same order with the same values (the same objects), whatever keys
// a row has; and plain objects with V8's fast properties (not the dictionary mode a `delete` of the
// first key gives), checked in a child process with V8's natives syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { StatementCoalescer, type StatementRunner } from '../../src/db/coalesced-statements.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const nested = { a: [1, 2] };

/** A runner answering a batch with rows of differing keys: batch_k first, batch_row last, as batches select them. */
const runner: StatementRunner = {
  query: async (_text, values) => {
    const names = values.find(Array.isArray) as string[];
    const rows = names.flatMap((name, k) => [
      { batch_k: String(k + 1), id: name, n: null, '1': 'integer-like key', nested, batch_row: '1' },
      { batch_k: String(k + 1), id: `${name}-2`, other: true, batch_row: '2' },
    ]);
    return { rows };
  },
};

test('each caller gets its rows without batch_k and batch_row, other keys in order, values the same objects', async () => {
  const coalescer = new StatementCoalescer();
  const group = {};
  const names = ['a', 'b', 'c'];
  const results = await Promise.all(names.map((name) => coalescer.query(runner, group, 'SELECT $1', [name])));
  assert.deepEqual(coalescer.stats.batchStatements, 1);
  for (const [k, name] of names.entries()) {
    const rows = results[k]!.rows;
    assert.deepEqual(rows, [
      { id: name, n: null, '1': 'integer-like key', nested },
      { id: `${name}-2`, other: true },
    ]);
    assert.deepEqual(Object.keys(rows[0]!), ['1', 'id', 'n', 'nested']);
    assert.deepEqual(Object.keys(rows[1]!), ['id', 'other']);
    assert.equal(rows[0]!.nested, nested);
    assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
  }
});

test('the rows from a batch have fast properties', () => {
  const script = `
    const { StatementCoalescer } = await import(${JSON.stringify(new URL('../../src/db/coalesced-statements.ts', import.meta.url).href)});
    const runner = { query: async (_t, values) => ({ rows: values[0].map((v, k) => ({ batch_k: String(k + 1), resource: v, rtype: 'Organization', size: 400, kept: true, batch_row: '1' })) }) };
    const c = new StatementCoalescer(); const g = {};
    const results = await Promise.all(['x', 'y'].map((v) => c.query(runner, g, 'SELECT $1', [v])));
    console.log(JSON.stringify(results.map((r) => r.rows.map((row) => %HasFastProperties(row)))));`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', TS_LOADER, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), [[true], [true]]);
});
