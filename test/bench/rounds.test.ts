// The FHIR bench's method: the order of a round, the reference each workload is compared with, the
// window's work count and the time-bounded load loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bracketing, roundPlan, spread } from '../../bench/lib/rounds.ts';
import { runFor, windowWork } from '../../bench/lib/load.ts';

test('a round measures the baselines before, between and after the groups of workloads', () => {
  assert.deepEqual(roundPlan(['B', 'P'], ['a', 'b', 'c'], 2), ['B', 'P', 'a', 'b', 'B', 'P', 'c', 'B', 'P']);
  assert.deepEqual(roundPlan(['B'], ['a'], 5), ['B', 'a', 'B']);
});

test('a workload is compared with the mean of the nearest reference segments on each side', () => {
  const plan = ['B', 'a', 'b', 'B', 'c', 'B'];
  const values = [100, 1, 2, 300, 3, 500];
  assert.equal(bracketing(plan, values, 1, 'B'), 200);
  assert.equal(bracketing(plan, values, 2, 'B'), 200);
  assert.equal(bracketing(plan, values, 4, 'B'), 400);
  // A reference measured once a round: the one side there is.
  assert.equal(bracketing(plan, values, 4, 'a'), 1);
  assert.equal(bracketing(plan, values, 1, 'c'), 3);
  assert.equal(bracketing(plan, values, 1, 'missing'), undefined);
});

test('spread gives the median (mean of the middle two for an even count) and the extremes', () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
});

test('the window counts requests ended inside it and the inside share of one that straddles its end', () => {
  const spans: [number, number][] = [
    [0, 10],
    [10, 20],
    [15, 35], // a quarter of it after the end at 30
    [0, 30], // ends exactly at the end
  ];
  assert.equal(windowWork(spans, 30), 3.75);
});

test('runFor stops issuing at the end of its time, awaits the requests in flight and counts every one', async () => {
  let started = 0;
  let inFlight = 0;
  let most = 0;
  const r = await runFor('sleep', 4, 200, async () => {
    const n = ++started; // this request's number, before other workers start theirs
    most = Math.max(most, ++inFlight);
    await new Promise((res) => setTimeout(res, 5));
    inFlight--;
    return n % 10 !== 0; // every tenth one fails
  });
  assert.equal(inFlight, 0);
  assert.equal(most, 4);
  assert.equal(r.requests, started);
  assert.equal(r.errors, Math.floor(started / 10));
  assert.ok(r.rps > 0);
});
