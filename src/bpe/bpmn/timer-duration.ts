// ISO-8601 durations (PnYnMnDTnHnMnS and PnW, combinable) and calendar-correct addition in UTC:
// years and months move the calendar month and clamp the day (Jan 31 + P1M = Feb 28/29), days move
// calendar days, hours/minutes/seconds add elapsed time.
import { TimerError } from './timer-error.ts';

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  /** May carry a fraction (PT1.5S). */
  readonly seconds: number;
}

const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

export function isDurationText(text: string): boolean {
  return text.trim().startsWith('P');
}

export function parseDuration(text: string): IsoDuration {
  const trimmed = text.trim();
  const match = DURATION.exec(trimmed);
  // Requires at least one component, and at least one after a T.
  if (!match || trimmed === 'P' || trimmed.endsWith('T')) throw new TimerError(`Invalid ISO-8601 duration '${text}'`);
  const number = (group: string | undefined): number => (group === undefined ? 0 : Number(group.replace(',', '.')));
  const duration: IsoDuration = {
    years: number(match[1]),
    months: number(match[2]),
    weeks: number(match[3]),
    days: number(match[4]),
    hours: number(match[5]),
    minutes: number(match[6]),
    seconds: number(match[7]),
  };
  return duration;
}

/** Adds `times` × duration to a date, component by component (so monthly steps do not drift). */
export function addDuration(date: Date, duration: IsoDuration, times = 1): Date {
  const result = new Date(date.getTime());
  const monthShift = (duration.years * 12 + duration.months) * times;
  if (monthShift !== 0) {
    const day = result.getUTCDate();
    result.setUTCDate(1);
    result.setUTCMonth(result.getUTCMonth() + monthShift);
    result.setUTCDate(Math.min(day, daysInMonth(result.getUTCFullYear(), result.getUTCMonth())));
  }
  const dayShift = (duration.weeks * 7 + duration.days) * times;
  if (dayShift !== 0) result.setUTCDate(result.getUTCDate() + dayShift);
  const elapsed = Math.round(timeOfDayMillis(duration) * times);
  return new Date(result.getTime() + elapsed);
}

/** Length in milliseconds with nominal calendar units (year 365 days, month 30 days); for retry intervals. */
export function nominalMillis(duration: IsoDuration): number {
  const days = duration.years * 365 + duration.months * 30 + duration.weeks * 7 + duration.days;
  return Math.round(days * 86_400_000 + timeOfDayMillis(duration));
}

function timeOfDayMillis(duration: IsoDuration): number {
  return duration.hours * 3_600_000 + duration.minutes * 60_000 + duration.seconds * 1000;
}

export function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}
