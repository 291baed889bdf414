import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedulingMark, schedulingSince } from '../../bench/lib/scheduling.ts';

test('a thread that spins shows as running, one that sleeps as sleeping', async () => {
  const before = schedulingMark(process.pid);
  const end = performance.now() + 200;
  while (performance.now() < end);
  const spun = schedulingSince(before, schedulingMark(process.pid), 2);
  // Running or waiting for a CPU (the host may be busy), hardly asleep.
  assert.ok(spun.run + spun.wait > 0.8, JSON.stringify(spun));
  assert.ok(spun.sleep < 0.2, JSON.stringify(spun));
  assert.ok(spun.idleCores >= 0 && spun.idleCores <= 2);

  const resting = schedulingMark(process.pid);
  await new Promise((r) => setTimeout(r, 200));
  const slept = schedulingSince(resting, schedulingMark(process.pid), 2);
  assert.ok(slept.sleep > 0.8, JSON.stringify(slept));
  assert.ok(slept.run < 0.2, JSON.stringify(slept));
});

test('shares from two marks: wall time from the marks, idle ticks scaled to cores, sleep the rest', () => {
  const before = { idle: 100, total: 1000, run: 0, wait: 0, at: 0 };
  const after = { idle: 150, total: 1200, run: 600, wait: 300, at: 1 }; // 1 ms = 1,000 µs later
  const s = schedulingSince(before, after, 2);
  assert.deepEqual([s.idleCores, s.run, s.wait], [0.5, 0.6, 0.3]);
  assert.ok(Math.abs(s.sleep - 0.1) < 1e-9);
  // A thread gone (no schedstat): 0 run and wait, all sleep.
  assert.equal(schedulingSince(before, { ...after, run: 0, wait: 0 }, 2).sleep, 1);
});
