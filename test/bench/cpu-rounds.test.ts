import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuNanosPerCall } from '../../bench/lib/cpu-rounds.ts';

test('cpuNanosPerCall warms up once, then counts every round of every variant, alternating the order', () => {
  const order: string[] = [];
  const calls = new Map<string, number[]>();
  const variant = (name: string) => [name, (i: number) => {
    if (i === 0) order.push(name);
    calls.set(name, [...(calls.get(name) ?? []), i]);
  }] as const;
  const nanos = cpuNanosPerCall([variant('a'), variant('b')], 3, 5);
  // Round 0 (warm-up) a, b; round 1 reversed; round 2 as listed; round 3 reversed.
  assert.deepEqual(order, ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
  assert.deepEqual(calls.get('a'), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  assert.deepEqual([...nanos.keys()], ['a', 'b']);
  for (const xs of nanos.values()) {
    assert.equal(xs.length, 3);
    for (const x of xs) assert.ok(Number.isFinite(x) && x >= 0);
  }
});

test('cpuNanosPerCall measures CPU time per call: a variant doing more work costs more', () => {
  let sink = 0;
  const work = (n: number) => () => { for (let k = 0; k < n; k++) sink += Math.sqrt(k); };
  const nanos = cpuNanosPerCall([['light', work(10)], ['heavy', work(20_000)]], 4, 200);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  assert.ok(median(nanos.get('heavy')!) > 10 * median(nanos.get('light')!), `${sink}`);
});
