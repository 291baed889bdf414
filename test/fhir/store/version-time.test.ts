// A new version's time is the current time as toISOString() formats it, also when it is formatted
// only once per millisecond: never a millisecond that has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { versionTime } from '../../../src/fhir/store/version-time.ts';
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
