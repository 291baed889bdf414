// A new version's time is the current time as toISOString() formats it, also with its text up to the
// seconds kept from an earlier call: never a millisecond that has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimeFormatter, versionTime } from '../../../src/fhir/store/version-time.ts';
import { nextMillisecond } from '../../support/clock.ts';

test('the current time in ISO 8601 UTC with milliseconds, as toISOString gives it', () => {
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const t = versionTime();
    const after = Date.now();
    assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(new Date(t).toISOString(), t);
    assert.ok(Date.parse(t) >= before && Date.parse(t) <= after, `${t} not within ${before}..${after}`);
    nextMillisecond();
  }
});

test('calls in the same millisecond agree; a later millisecond gives a later time', () => {
  nextMillisecond();
  const a = versionTime();
  const b = versionTime();
  if (Date.parse(a) === Date.parse(b)) assert.equal(a, b);
  nextMillisecond();
  const c = versionTime();
  assert.ok(c > b, `${c} after ${b}`);
  assert.equal(Date.parse(c) >= Date.now() - 1000, true);
});

test('the formatter gives what toISOString gives, across seconds, minutes, days, years and far from now', () => {
  const format = isoTimeFormatter();
  const check = (ms: number) => assert.equal(format(ms), new Date(ms).toISOString(), String(ms));
  const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, -1001, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 11, 31, 23, 59, 59, 990), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1, 0, 0, 0, 5), 8.64e15, -8.64e15];
  for (const ms of edges) for (const d of [-2, -1, 0, 1, 2]) if (Math.abs(ms + d) <= 8.64e15) check(ms + d);
  // Rising and falling runs through many seconds, as the clock and its tests give them.
  const start = Date.UTC(2026, 11, 7, 8, 59, 58, 0);
  for (let ms = start; ms < start + 4000; ms += 7) check(ms);
  for (let ms = start + 4000; ms > start; ms -= 13) check(ms);
  let seed = 42;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    check(Math.floor((seed / 2 ** 31) * 4102444800000));
  }
});
