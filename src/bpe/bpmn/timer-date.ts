// ISO-8601 date-times as used in timeDate and cycle start points: YYYY-MM-DD, optionally with
// Thh:mm[:ss[.fff]] and an offset (Z, ±hh, ±hhmm, ±hh:mm). Text without an offset is read as UTC.
import { daysInMonth } from './timer-duration.ts';
import { TimerError } from './timer-error.ts';

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseDateTime(text: string): Date {
  const trimmed = text.trim();
  const match = DATE_TIME.exec(trimmed);
  const fail = (): never => {
    throw new TimerError(`Invalid ISO-8601 date-time '${text}'`);
  };
  if (!match) return fail();
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) fail();
  if (hour > 23 || minute > 59 || second > 59) fail();
  const millis = match[7] ? Math.floor(Number(`0.${match[7]}`) * 1000) : 0;
  const offsetMinutes = parseOffset(match[8]) ?? fail();
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return new Date(utc - offsetMinutes * 60_000);
}

/** Minutes east of UTC, or null when out of range. */
function parseOffset(text: string | undefined): number | null {
  if (text === undefined || text === 'Z') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 18 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}
