// string: case- and accent-insensitive starts-with (default), :contains, or :exact on the original text.
// HumanName and Address are searched by each of their parts.
import { indexRow, isObj, type IndexRow } from '../index-row.ts';
import type { SearchParamTypeModule } from './param-type.ts';
import { prefixUpperBound } from './string-prefix-range.ts';

/** Lower case without diacritics: FHIR string search is case- and accent-insensitive. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

/** HumanName and Address hold their strings one or two levels down; nothing searchable is deeper. */
const MAX_STRING_DEPTH = 4;

function rows(param: string, v: unknown, out: IndexRow[], depth = 0): void {
  if (typeof v === 'string') out.push(indexRow(param, { code: v, norm: normalizeString(v) }));
  else if (isObj(v) && depth < MAX_STRING_DEPTH) for (const x of Object.values(v)) rows(param, Array.isArray(x) ? x.join(' ') : x, out, depth + 1);
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export const string: SearchParamTypeModule = {
  type: 'string',
  modifiers: ['exact', 'contains'],
  sortColumn: 's.code',
  indexRows: (def, v, _baseUrl, out) => rows(def.code, v, out),
  sql(f, value, p) {
    if (f.modifier === 'exact') return `s.code = ${p.add(value)}`;
    if (f.modifier === 'contains') return `s.norm LIKE ${p.add(`%${likeEscape(normalizeString(value))}%`)}`;
    // Starts-with: the LIKE decides, the range (string-prefix-range.ts) bounds the index scan.
    const norm = normalizeString(value);
    const like = `s.norm LIKE ${p.add(`${likeEscape(norm)}%`)}`;
    if (norm === '') return like;
    const upper = prefixUpperBound(norm);
    return `s.norm ~>=~ ${p.add(norm)}${upper === undefined ? '' : ` AND s.norm ~<~ ${p.add(upper)}`} AND ${like}`;
  },
  matches(f, value, row) {
    if (f.modifier === 'exact') return row.code === value;
    if (f.modifier === 'contains') return row.norm !== null && row.norm.includes(normalizeString(value));
    return row.norm !== null && row.norm.startsWith(normalizeString(value));
  },
};
