// Quartz-style cron expressions as Camunda accepts them in timeCycle: six or seven fields
// (second minute hour day-of-month month day-of-week [year]), with `*`, `?`, values, ranges `a-b`,
// lists `a,b`, steps `a/n` / `*/n` / `a-b/n`, month names JAN-DEC and weekday names SUN-SAT (1 = Sunday).
// `L`, `W` and `#` are not supported. Times are computed in UTC.
import { TimerError } from './timer-error.ts';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month', min: 1, max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/** Allowed values of one field; null means unrestricted (`*` or `?`). */
type FieldValues = ReadonlySet<number> | null;

export interface CronSchedule {
  /** The first fire time strictly after `after`, or null when the schedule has none left. */
  nextAfter(after: Date): Date | null;
}

const MAX_SEARCH_STEPS = 200_000;

export function isCronText(text: string): boolean {
  const fields = text.trim().split(/\s+/);
  return fields.length === 6 || fields.length === 7;
}

export function parseCron(text: string): CronSchedule {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 6 && fields.length !== 7) {
    throw new TimerError(`Invalid cron expression '${text}': expected 6 or 7 fields`);
  }
  const [sec, min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string, string?];
  const fail = (detail: string): never => {
    throw new TimerError(`Invalid cron expression '${text}': ${detail}`);
  };
  const seconds = parseField(sec, SECOND, fail);
  const minutes = parseField(min, MINUTE, fail);
  const hours = parseField(hour, HOUR, fail);
  const daysOfMonth = parseField(dom, DAY_OF_MONTH, fail, true);
  const months = parseField(month, MONTH, fail);
  const daysOfWeek = parseField(dow, DAY_OF_WEEK, fail, true);
  const years = year === undefined ? null : parseField(year, YEAR, fail);
  if (daysOfMonth !== null && daysOfWeek !== null) fail('day-of-month and day-of-week cannot both be restricted; use ? in one');
  const lastYear = years === null ? Infinity : Math.max(...years);

  return {
    nextAfter(after: Date): Date | null {
      // Start at the next whole second; each step jumps to the start of the first unit that mismatches.
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const searchLimit = after.getTime() + 400 * 366 * 86_400_000;
      for (let step = 0; step < MAX_SEARCH_STEPS && t.getTime() < searchLimit; step++) {
        const y = t.getUTCFullYear();
        if (y > lastYear) return null;
        if (years !== null && !years.has(y)) {
          t.setTime(Date.UTC(y + 1, 0, 1));
        } else if (months !== null && !months.has(t.getUTCMonth() + 1)) {
          t.setTime(Date.UTC(y, t.getUTCMonth() + 1, 1));
        } else if (
          (daysOfMonth !== null && !daysOfMonth.has(t.getUTCDate())) ||
          (daysOfWeek !== null && !daysOfWeek.has(t.getUTCDay() + 1))
        ) {
          t.setTime(Date.UTC(y, t.getUTCMonth(), t.getUTCDate() + 1));
        } else if (hours !== null && !hours.has(t.getUTCHours())) {
          t.setTime(Date.UTC(y, t.getUTCMonth(), t.getUTCDate(), t.getUTCHours() + 1));
        } else if (minutes !== null && !minutes.has(t.getUTCMinutes())) {
          t.setTime(Date.UTC(y, t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes() + 1));
        } else if (seconds !== null && !seconds.has(t.getUTCSeconds())) {
          t.setTime(t.getTime() + 1000);
        } else {
          return new Date(t.getTime());
        }
      }
      return null;
    },
  };
}

function parseField(text: string, spec: FieldSpec, fail: (detail: string) => never, allowQuestionMark = false): FieldValues {
  if (text === '?') {
    if (!allowQuestionMark) fail(`'?' is only allowed for day-of-month or day-of-week, not ${spec.name}`);
    return null;
  }
  if (text === '*') return null;
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined || rangeText === undefined || rangeText === '') fail(`bad ${spec.name} item '${item}'`);
    let from: number;
    let to: number;
    if (rangeText === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (rangeText!.includes('-')) {
      const [a, b, more] = rangeText!.split('-');
      if (more !== undefined) fail(`bad ${spec.name} range '${rangeText}'`);
      from = parseValue(a!, spec, fail);
      to = parseValue(b!, spec, fail);
      if (to < from) fail(`${spec.name} range '${rangeText}' runs backwards`);
    } else {
      from = parseValue(rangeText!, spec, fail);
      to = stepText === undefined ? from : spec.max;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!/^\d+$/.test(stepText ?? '1') || step < 1) fail(`bad ${spec.name} step '${stepText}'`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function parseValue(text: string, spec: FieldSpec, fail: (detail: string) => never): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + spec.min;
  if (!/^\d+$/.test(text)) fail(`unsupported ${spec.name} value '${text}'`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) fail(`${spec.name} value ${value} outside ${spec.min}-${spec.max}`);
  return value;
}
