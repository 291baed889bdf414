// number: integers and decimals, stored as points and searched with the prefixes and implied precision
// of R4 (comparison.ts NUMBER_PREFIXES, decimal-range.ts): 100 matches [99.5, 100.5), gt100 anything
// above exactly 100, ap100 within 10 %.
import { NUMBER_PREFIXES, prefixHolds, prefixSql, splitPrefix, type Prefix, type SearchBound } from '../comparison.ts';
import { decimalRange, type DecimalRange } from '../decimal-range.ts';
import { indexRow } from '../index-row.ts';
import type { SqlParams } from '../../../db/sql-params.ts';
import type { SearchParamTypeModule } from './param-type.ts';

/** A searched number: its prefix and range; undefined when malformed. */
export function parseNumberValue(value: string): { prefix: Prefix; range: DecimalRange } | undefined {
  const { prefix, rest } = splitPrefix(value, NUMBER_PREFIXES);
  const range = decimalRange(rest);
  return range ? { prefix, range } : undefined;
}

/** A stored number as decimal text (JSON numbers of any size PostgreSQL's numeric reads). */
export function numberText(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** The condition of a searched number on the index row's num column. */
export function numberSql(parsed: { prefix: Prefix; range: DecimalRange }, p: SqlParams): string {
  const bound = (b: SearchBound) => `${p.add(parsed.range[b])}::numeric`;
  return prefixSql(NUMBER_PREFIXES[parsed.prefix]!, { lo: 's.num', hi: 's.num' }, bound);
}

/** The same in memory; both sides come from decimal text, so they compare as PostgreSQL's numeric does for any realistic value. */
export function numberHolds(parsed: { prefix: Prefix; range: DecimalRange }, stored: string | null): boolean {
  if (stored === null) return false;
  const v = Number(stored);
  const r = parsed.range;
  return prefixHolds(NUMBER_PREFIXES[parsed.prefix]!, { lo: v, hi: v }, { lo: Number(r.lo), hi: Number(r.hi), value: Number(r.value), apLo: Number(r.apLo), apHi: Number(r.apHi) });
}

export const number: SearchParamTypeModule = {
  type: 'number',
  modifiers: [],
  sortColumn: 's.num',
  valueProblem: (value) => (parseNumberValue(value) ? undefined : 'not a number'),
  indexRows(def, v, _baseUrl, out) {
    const num = numberText(v);
    if (num !== undefined) out.push(indexRow(def.code, { num }));
  },
  sql: (_f, value, p) => numberSql(parseNumberValue(value)!, p),
  matches: (_f, value, row) => numberHolds(parseNumberValue(value)!, row.num),
};
