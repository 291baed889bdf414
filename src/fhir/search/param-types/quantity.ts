// quantity: Quantity values (and its kinds: Age, Duration, Money's value...) as number, system and code
// (unit kept too). Searched as `[prefix]number`, `[prefix]number|system|code`, or `[prefix]number||code`
// (code or unit, any system); the number as number.ts compares it.
import { indexRow, isObj } from '../index-row.ts';
import type { SqlParams } from '../../../db/sql-params.ts';
import type { IndexRow } from '../index-row.ts';
import type { SearchParamTypeModule } from './param-type.ts';
import { numberHolds, numberSql, numberText, parseNumberValue } from './number.ts';

interface QuantityValue {
  number: NonNullable<ReturnType<typeof parseNumberValue>>;
  system?: string;
  code?: string;
}

function parseQuantity(value: string): QuantityValue | undefined {
  const parts = value.split('|');
  if (parts.length !== 1 && parts.length !== 3) return undefined;
  const number = parseNumberValue(parts[0]!);
  if (!number) return undefined;
  return { number, system: parts[1] || undefined, code: parts[2] || undefined };
}

function unitSql(q: QuantityValue, p: SqlParams): string {
  if (q.system !== undefined && q.code !== undefined) return ` AND s.system = ${p.add(q.system)} AND s.code = ${p.add(q.code)}`;
  if (q.system !== undefined) return ` AND s.system = ${p.add(q.system)}`;
  if (q.code !== undefined) return ` AND (s.code = ${p.add(q.code)} OR s.norm = ${p.add(q.code)})`;
  return '';
}

function unitMatches(q: QuantityValue, row: IndexRow): boolean {
  if (q.system !== undefined && row.system !== q.system) return false;
  if (q.code === undefined) return true;
  return q.system !== undefined ? row.code === q.code : row.code === q.code || row.norm === q.code;
}

export const quantity: SearchParamTypeModule = {
  type: 'quantity',
  modifiers: [],
  sortColumn: 's.num',
  valueProblem: (value) => (parseQuantity(value) ? undefined : 'not a quantity ([prefix]number, [prefix]number|system|code or [prefix]number||code)'),
  indexRows(def, v, _baseUrl, out) {
    if (!isObj(v)) return;
    const num = numberText(v.value);
    if (num === undefined) return;
    const text = (x: unknown) => (typeof x === 'string' ? x : null);
    out.push(indexRow(def.code, { num, system: text(v.system), code: text(v.code), norm: text(v.unit) }));
  },
  sql(_f, value, p) {
    const q = parseQuantity(value)!;
    return `${numberSql(q.number, p)}${unitSql(q, p)}`;
  },
  matches(_f, value, row) {
    const q = parseQuantity(value)!;
    return numberHolds(q.number, row.num) && unitMatches(q, row);
  },
};
