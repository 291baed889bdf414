// uri: exact, or :below (the value as a prefix).
import { indexRow } from '../index-row.ts';
import type { SearchParamTypeModule } from './param-type.ts';

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export const uri: SearchParamTypeModule = {
  type: 'uri',
  modifiers: ['below', 'exact'],
  sortColumn: 's.code',
  // The value in code only: every condition here reads code, and a norm would cost each row an entry
  // in search_index_norm (rows written before keep theirs, unread).
  indexRows(def, v, _baseUrl, out) {
    if (typeof v === 'string') out.push(indexRow(def.code, { code: v }));
  },
  sql: (f, value, p) => (f.modifier === 'below' ? `s.code LIKE ${p.add(`${likeEscape(value)}%`)}` : `s.code = ${p.add(value)}`),
  matches: (f, value, row) => (f.modifier === 'below' ? row.code !== null && row.code.startsWith(value) : row.code === value),
};
