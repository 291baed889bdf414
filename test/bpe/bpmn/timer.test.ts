import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryCycle, parseTimer, TimerError, type TimerDefinition } from '../../../src/bpe/bpmn/timer.ts';

const now = new Date('2026-03-15T10:00:00Z');
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
const after = (text: string, from: Date = now): string => iso(parseTimer('timeDuration', text).firstDue(from))!;

/** Collects up to `limit` due dates: firstDue, then nextDue with the running fired count. */
function schedule(timer: TimerDefinition, limit: number, from: Date = now): (string | null)[] {
  const out: (string | null)[] = [];
  let due: Date | null = timer.firstDue(from);
  for (let fired = 1; due !== null && out.length < limit; fired++) {
    out.push(iso(due));
    due = timer.nextDue(due, fired);
  }
  if (due === null && out.length < limit) out.push(null);
  return out;
}

function assertTimerError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof TimerError && pattern.test(e.message));
}

describe('timeDuration', () => {
  test('time components add elapsed time', () => {
    assert.equal(after('PT5S'), '2026-03-15T10:00:05.000Z');
    assert.equal(after('PT2M'), '2026-03-15T10:02:00.000Z');
    assert.equal(after('PT1H30M'), '2026-03-15T11:30:00.000Z');
    assert.equal(after('PT1.5S'), '2026-03-15T10:00:01.500Z');
    assert.equal(after('PT0,25S'), '2026-03-15T10:00:00.250Z');
    assert.equal(after('PT36H'), '2026-03-16T22:00:00.000Z');
  });

  test('days, weeks, months and years are calendar-correct', () => {
    assert.equal(after('P1D'), '2026-03-16T10:00:00.000Z');
    assert.equal(after('P2W'), '2026-03-29T10:00:00.000Z');
    assert.equal(after('P1M'), '2026-04-15T10:00:00.000Z');
    assert.equal(after('P1Y'), '2027-03-15T10:00:00.000Z');
    assert.equal(after('P1Y2M3DT4H5M6S'), '2027-05-18T14:05:06.000Z');
    assert.equal(after('P1M', new Date('2026-01-31T00:00:00Z')), '2026-02-28T00:00:00.000Z', 'clamps to month end');
    assert.equal(after('P1M', new Date('2028-01-31T00:00:00Z')), '2028-02-29T00:00:00.000Z', 'leap year');
    assert.equal(after('P1Y', new Date('2028-02-29T12:00:00Z')), '2029-02-28T12:00:00.000Z');
    assert.equal(after('P12M', new Date('2026-12-01T00:00:00Z')), '2027-12-01T00:00:00.000Z');
    assert.equal(after('P1D', new Date('2026-12-31T23:00:00Z')), '2027-01-01T23:00:00.000Z');
  });

  test('fires once', () => {
    const timer = parseTimer('timeDuration', ' PT1M ');
    assert.deepEqual(schedule(timer, 3), ['2026-03-15T10:01:00.000Z', null]);
  });

  test('bad durations are rejected', () => {
    for (const text of ['', 'P', 'PT', 'P1DT', '5S', 'PT5', 'P1H', 'PT-5S', '-PT5S', 'P1.5D', 'PT1S2M', 'P1M1Y', 'R/PT1M', 'PTS']) {
      assert.throws(() => parseTimer('timeDuration', text), TimerError, text);
    }
  });
});

describe('timeDate', () => {
  const at = (text: string): string => iso(parseTimer('timeDate', text).firstDue(now))!;

  test('offsets, Z, fractions and local time read as UTC', () => {
    assert.equal(at('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00.000Z');
    assert.equal(at('2026-01-01T01:00:00+01:00'), '2026-01-01T00:00:00.000Z');
    assert.equal(at('2026-01-01T01:00:00+0100'), '2026-01-01T00:00:00.000Z');
    assert.equal(at('2025-12-31T19:30:00-04:30'), '2026-01-01T00:00:00.000Z');
    assert.equal(at('2026-01-01T00:00:00.123Z'), '2026-01-01T00:00:00.123Z');
    assert.equal(at('2026-07-04T12:30'), '2026-07-04T12:30:00.000Z');
    assert.equal(at('2026-07-04'), '2026-07-04T00:00:00.000Z');
  });

  test('a date in the past is still its due date, and it fires once', () => {
    const timer = parseTimer('timeDate', '2020-02-29T00:00:00Z');
    assert.deepEqual(schedule(timer, 3), ['2020-02-29T00:00:00.000Z', null]);
  });

  test('bad dates are rejected', () => {
    for (const text of ['2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-1-1', 'tomorrow', '2026-01-01T00:00:00+25:00', 'PT1M', '2026-01-01 00:00:00Z']) {
      assert.throws(() => parseTimer('timeDate', text), TimerError, text);
    }
  });
});

describe('timeCycle with ISO repeating intervals', () => {
  test('R5/PT10S fires five times, ten seconds apart, counted from each previous due date', () => {
    assert.deepEqual(schedule(parseTimer('timeCycle', 'R5/PT10S'), 10), [
      '2026-03-15T10:00:10.000Z',
      '2026-03-15T10:00:20.000Z',
      '2026-03-15T10:00:30.000Z',
      '2026-03-15T10:00:40.000Z',
      '2026-03-15T10:00:50.000Z',
      null,
    ]);
  });

  test('nextDue respects the fired count independent of dates', () => {
    const timer = parseTimer('timeCycle', 'R2/PT1M');
    assert.equal(iso(timer.nextDue(new Date('2030-01-01T00:00:00Z'), 1)), '2030-01-01T00:01:00.000Z');
    assert.equal(timer.nextDue(new Date('2030-01-01T00:00:00Z'), 2), null);
  });

  test('R/PT1M is unbounded', () => {
    const timer = parseTimer('timeCycle', 'R/PT1M');
    const dates = schedule(timer, 50);
    assert.equal(dates.length, 50);
    assert.ok(!dates.includes(null));
    assert.equal(dates[49], '2026-03-15T10:50:00.000Z');
    assert.notEqual(timer.nextDue(new Date('2100-01-01T00:00:00Z'), 1_000_000), null);
  });

  test('R3/<start>/PT1H starts at a future start date', () => {
    const timer = parseTimer('timeCycle', 'R3/2026-04-01T00:00:00Z/PT1H');
    assert.deepEqual(schedule(timer, 5), [
      '2026-04-01T00:00:00.000Z',
      '2026-04-01T01:00:00.000Z',
      '2026-04-01T02:00:00.000Z',
      null,
    ]);
  });

  test('a start in the past skips missed occurrences and counts them against the repetitions', () => {
    const timer = parseTimer('timeCycle', 'R3/2026-03-15T08:30:00Z/PT1H');
    assert.deepEqual(schedule(timer, 5), ['2026-03-15T10:30:00.000Z', null]);
    const exact = parseTimer('timeCycle', 'R3/2026-03-15T09:00:00Z/PT1H');
    assert.deepEqual(schedule(exact, 5), ['2026-03-15T10:00:00.000Z', '2026-03-15T11:00:00.000Z', null], 'an occurrence exactly now is due');
  });

  test('an exhausted cycle has no first due date', () => {
    assertTimerError(() => parseTimer('timeCycle', 'R3/2026-01-01T00:00:00Z/PT1H').firstDue(now), /no due date left/);
  });

  test('R/<start>/<duration> is unbounded and calendar-correct from the start', () => {
    const timer = parseTimer('timeCycle', 'R/2026-01-31T00:00:00Z/P1M');
    assert.deepEqual(schedule(timer, 4), [
      '2026-03-31T00:00:00.000Z',
      '2026-04-30T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-06-30T00:00:00.000Z',
    ]);
    const daily = parseTimer('timeCycle', 'R/2000-01-01T06:00:00+01:00/P1D');
    assert.equal(iso(daily.firstDue(now)), '2026-03-16T05:00:00.000Z', 'finds the next occurrence decades later');
  });

  test('bad cycles are rejected', () => {
    for (const text of ['R', 'R/', 'RX/PT1M', 'R0/PT1M', 'R3', 'R3/PT1M/PT1M', 'R3/2026-01-01T00:00:00Z', 'R3/PT1M/2026-01-01T00:00:00Z', 'R3/bad/PT1H', 'R-1/PT1M', 'R/PT0S', 'every minute', 'PT1M']) {
      assert.throws(() => parseTimer('timeCycle', text), TimerError, text);
    }
  });
});

describe('timeCycle with cron expressions', () => {
  test('0 0/5 * * * ? fires every five minutes on the minute', () => {
    const timer = parseTimer('timeCycle', '0 0/5 * * * ?');
    assert.deepEqual(schedule(timer, 3, new Date('2026-03-15T10:02:30Z')), [
      '2026-03-15T10:05:00.000Z',
      '2026-03-15T10:10:00.000Z',
      '2026-03-15T10:15:00.000Z',
    ]);
    assert.equal(iso(timer.firstDue(new Date('2026-03-15T10:05:00Z'))), '2026-03-15T10:10:00.000Z', 'strictly after now');
  });

  test('lists, ranges, names and steps', () => {
    const weekdays = parseTimer('timeCycle', '0 30 9 ? * MON-FRI');
    // 2026-03-13 is a Friday.
    assert.deepEqual(schedule(weekdays, 3, new Date('2026-03-13T10:00:00Z')), [
      '2026-03-16T09:30:00.000Z',
      '2026-03-17T09:30:00.000Z',
      '2026-03-18T09:30:00.000Z',
    ]);
    const monthly = parseTimer('timeCycle', '15 0 12 1,15 JAN,JUL ?');
    assert.deepEqual(schedule(monthly, 3), ['2026-07-01T12:00:15.000Z', '2026-07-15T12:00:15.000Z', '2027-01-01T12:00:15.000Z']);
    const sundays = parseTimer('timeCycle', '0 0 0 ? * 1');
    assert.equal(iso(sundays.firstDue(now)), '2026-03-22T00:00:00.000Z');
    const stepped = parseTimer('timeCycle', '*/20 10-12/2 * * * ?');
    assert.deepEqual(schedule(stepped, 4, new Date('2026-03-15T10:00:00Z')), [
      '2026-03-15T10:10:00.000Z',
      '2026-03-15T10:10:20.000Z',
      '2026-03-15T10:10:40.000Z',
      '2026-03-15T10:12:00.000Z',
    ]);
    assert.equal(iso(stepped.nextDue(new Date('2026-03-15T10:12:40Z'), 9)), '2026-03-15T11:10:00.000Z');
  });

  test('a year field ends the schedule', () => {
    const timer = parseTimer('timeCycle', '0 0 0 1 1 ? 2027-2028');
    assert.deepEqual(schedule(timer, 5), ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z', null]);
    assertTimerError(() => parseTimer('timeCycle', '0 0 0 1 1 ? 2020').firstDue(now), /no fire time/);
  });

  test('impossible dates end quickly with an error', () => {
    const started = Date.now();
    assertTimerError(() => parseTimer('timeCycle', '0 0 0 30 2 ?').firstDue(now), /no fire time/);
    assert.ok(Date.now() - started < 2000);
  });

  test('bad cron expressions are rejected', () => {
    for (const text of ['0 0 * * *', '0 60 * * * ?', '0 0 24 * * ?', '0 0 0 1 * MON', '? 0 0 * * ?', '0 0 0 L * ?', '0 0 0 ? * 2#1', '0 0 0 ? * 0', '0 0 0 ? FOO *', '0 0/0 * * * ?', '0 5-1 * * * ?', '0 0 0 * * ? 1900', 'a b c d e f']) {
      assert.throws(() => parseTimer('timeCycle', text), TimerError, text);
    }
  });
});

describe('failedJobRetryTimeCycle', () => {
  test('R<n>/<duration>', () => {
    assert.deepEqual(parseRetryCycle('R3/PT5S'), { retries: 3, intervalMs: 5000 });
    assert.deepEqual(parseRetryCycle(' R10/PT1M '), { retries: 10, intervalMs: 60_000 });
    assert.deepEqual(parseRetryCycle('R0/PT5S'), { retries: 0, intervalMs: 5000 });
    assert.deepEqual(parseRetryCycle('R1/P1D'), { retries: 1, intervalMs: 86_400_000 });
  });

  test('a comma list gives one retry per duration', () => {
    assert.deepEqual(parseRetryCycle('PT10S,PT1M, PT10M'), { retries: 3, intervalMs: 10_000, intervalsMs: [10_000, 60_000, 600_000] });
  });

  test('unbounded or malformed retry cycles are rejected', () => {
    for (const text of ['R/PT5S', 'R3', 'R3/2026-01-01T00:00:00Z/PT1H', 'R3/soon', 'PT5S,', 'three', '']) {
      assert.throws(() => parseRetryCycle(text), TimerError, text);
    }
  });
});
