// date: dates, dateTimes, instants and Periods as half-open ranges [lo, hi) by their precision
// (2024 is the whole year), compared by prefix (eq, ne, gt, lt, ge, le, sa, eb) as comparison.ts says.
import { DATE_PREFIXES, prefixHolds, prefixSql, splitPrefix, type Prefix, type SearchBound } from '../comparison.ts';
import { dateRange, type DateRange } from '../date-range.ts';
import { indexRow, isObj, type Obj } from '../index-row.ts';
import type { SqlParams } from '../../../db/sql-params.ts';
import type { SearchParamTypeModule } from './param-type.ts';

/** A searched date: its prefix and the range it stands for; undefined when malformed. */
export function parseDateValue(value: string): { prefix: Prefix; range: DateRange } | undefined {
  const { prefix, rest } = splitPrefix(value, DATE_PREFIXES);
  const range = dateRange(rest);
  return range ? { prefix, range } : undefined;
}

function periodRange(p: Obj): DateRange | undefined {
  const start = typeof p.start === 'string' ? dateRange(p.start) : undefined;
  const end = typeof p.end === 'string' ? dateRange(p.end) : undefined;
  if (!start && !end) return undefined;
  return { lo: start?.lo ?? new Date(-8.64e15), hi: end?.hi ?? new Date(8.64e15) };
}

/** The condition of a searched date on stored columns (the index row's, or _lastUpdated's). */
export function dateSql(value: string, stored: { lo: string; hi: string }, p: SqlParams): string {
  const { prefix, range } = parseDateValue(value)!;
  const search = (b: SearchBound) => `${p.add((b === 'hi' ? range.hi : range.lo).toISOString())}::timestamptz`;
  return prefixSql(DATE_PREFIXES[prefix]!, stored, search);
}

/** The same condition in memory, on a stored range in milliseconds. */
export function dateHolds(value: string, stored: { lo: number; hi: number }): boolean {
  const { prefix, range } = parseDateValue(value)!;
  return prefixHolds(DATE_PREFIXES[prefix]!, stored, { lo: range.lo.getTime(), hi: range.hi.getTime() });
}

export const date: SearchParamTypeModule = {
  type: 'date',
  modifiers: [],
  sortColumn: 's.lo',
  valueProblem: (value) => (parseDateValue(value) ? undefined : 'not a date'),
  indexRows(def, v, _baseUrl, out) {
    const range = isObj(v) ? periodRange(v) : typeof v === 'string' ? dateRange(v) : undefined;
    if (range) out.push(indexRow(def.code, { lo: range.lo.toISOString(), hi: range.hi.toISOString() }));
  },
  sql: (_f, value, p) => dateSql(value, { lo: 's.lo', hi: 's.hi' }, p),
  matches: (_f, value, row) => row.lo !== null && row.hi !== null && dateHolds(value, { lo: Date.parse(row.lo), hi: Date.parse(row.hi) }),
};
