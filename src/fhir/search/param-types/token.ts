// token: codes with an optional system (code, Coding, CodeableConcept, Identifier, ContactPoint,
// boolean). Searched as `code`, `system|code`, `|code` (no system) or `system|` (any code of it).
import { indexRow, isObj, type IndexRow } from '../index-row.ts';
import type { SearchParamTypeModule } from './param-type.ts';

function rows(param: string, v: unknown, out: IndexRow[]): void {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push(indexRow(param, { code: String(v) }));
  else if (isObj(v)) {
    if (Array.isArray(v.coding)) for (const c of v.coding) rows(param, c, out); // CodeableConcept
    else if ('value' in v || 'code' in v) {
      // Identifier, Coding, ContactPoint
      const code = (v.code ?? v.value) as unknown;
      if (typeof code === 'string') out.push(indexRow(param, { system: typeof v.system === 'string' ? v.system : null, code }));
    }
  }
}

/** `system|code` split; no bar: any system. */
export function splitToken(value: string): { system?: string; code: string } {
  const bar = value.indexOf('|');
  return bar < 0 ? { code: value } : { system: value.slice(0, bar), code: value.slice(bar + 1) };
}

/** The condition of a token value on system and code (also references' :identifier), on index rows of `alias`. */
export function tokenSql(value: string, add: (v: unknown) => string, alias = 's'): string {
  const { system, code } = splitToken(value);
  if (system === undefined) return `${alias}.code = ${add(code)}`;
  if (system === '') return `${alias}.system IS NULL AND ${alias}.code = ${add(code)}`;
  if (code === '') return `${alias}.system = ${add(system)}`;
  return `${alias}.code = ${add(code)} AND ${alias}.system = ${add(system)}`;
}

export function tokenMatches(value: string, row: IndexRow): boolean {
  const { system, code } = splitToken(value);
  if (system === undefined) return row.code === code;
  if (system === '') return row.system === null && row.code === code;
  if (code === '') return row.system === system;
  return row.code === code && row.system === system;
}

export const token: SearchParamTypeModule = {
  type: 'token',
  modifiers: ['not', 'exact'],
  negatedBy: 'not',
  sortColumn: 's.code',
  indexRows: (def, v, _baseUrl, out) => rows(def.code, v, out),
  sql: (_f, value, p) => tokenSql(value, (v) => p.add(v)),
  matches: (_f, value, row) => tokenMatches(value, row),
};
