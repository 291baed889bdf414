// reference: a literal reference to this server (Type/id, or its absolute form), to another server
// (the full URL), a canonical (url, or url|version), or :identifier (the reference's identifier, as a
// token). A target-type modifier (:Organization) applies to a bare id.
import { indexRow, isObj, type IndexRow } from '../index-row.ts';
import { parseReference } from '../reference.ts';
import type { SearchParamTypeModule } from './param-type.ts';
import { tokenMatches, tokenSql } from './token.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function rows(param: string, v: unknown, baseUrl: string, out: IndexRow[]): void {
  if (typeof v === 'string') {
    // canonical
    out.push(indexRow(param, { code: v.split('|')[0], norm: v }));
    return;
  }
  if (!isObj(v)) return;
  if (typeof v.reference === 'string') {
    const ref = parseReference(v.reference, baseUrl);
    if (ref) out.push(indexRow(param, { system: ref.type, code: ref.id, norm: ref.local ? `${ref.type}/${ref.id}` : v.reference, refId: ref.local && UUID_RE.test(ref.id) ? ref.id : null }));
    else out.push(indexRow(param, { norm: v.reference }));
  }
  if (isObj(v.identifier) && typeof v.identifier.value === 'string') {
    out.push(indexRow(`${param}:identifier`, { system: typeof v.identifier.system === 'string' ? v.identifier.system : null, code: v.identifier.value }));
  }
}

/** How one searched value is compared, decided once for SQL and memory alike. */
type Comparison =
  | { kind: 'identifier' }
  | { kind: 'url-or-canonical' }
  | { kind: 'local'; type: string; id: string }
  | { kind: 'full' }
  | { kind: 'typed-id'; type: string }
  | { kind: 'id' };

function comparisonOf(canonical: boolean, modifier: string | undefined, value: string, baseUrl: string): Comparison {
  if (modifier === 'identifier') return { kind: 'identifier' };
  // A canonical (url, or url|version) even where the url looks like a literal reference (.../Questionnaire/x).
  if (canonical && value.includes('://')) return { kind: 'url-or-canonical' };
  const ref = parseReference(value, baseUrl);
  if (ref?.local) return { kind: 'local', type: ref.type, id: ref.id };
  if (ref) return { kind: 'full' };
  if (/^https?:\/\//.test(value) || value.startsWith('urn:')) return { kind: 'url-or-canonical' };
  if (modifier) return { kind: 'typed-id', type: modifier };
  return { kind: 'id' };
}

export const reference: SearchParamTypeModule = {
  type: 'reference',
  modifiers: ['identifier'],
  indexParam: (code, modifier) => (modifier === 'identifier' ? `${code}:identifier` : code),
  indexRows: (def, v, baseUrl, out) => rows(def.code, v, baseUrl, out),
  sql(f, value, p, baseUrl) {
    const c = comparisonOf(f.def.canonical, f.modifier, value, baseUrl);
    switch (c.kind) {
      case 'identifier':
        return tokenSql(value, (v) => p.add(v));
      case 'url-or-canonical':
        return `(s.norm = ${p.add(value)} OR s.code = ${p.add(value)})`;
      case 'local':
        return `s.system = ${p.add(c.type)} AND s.code = ${p.add(c.id)}`;
      case 'full':
        return `s.norm = ${p.add(value)}`;
      case 'typed-id':
        return `s.system = ${p.add(c.type)} AND s.code = ${p.add(value)}`;
      case 'id':
        return `s.code = ${p.add(value)}`;
    }
  },
  matches(f, value, row, baseUrl) {
    const c = comparisonOf(f.def.canonical, f.modifier, value, baseUrl);
    switch (c.kind) {
      case 'identifier':
        return tokenMatches(value, row);
      case 'url-or-canonical':
        return row.norm === value || row.code === value;
      case 'local':
        return row.system === c.type && row.code === c.id;
      case 'full':
        return row.norm === value;
      case 'typed-id':
        return row.system === c.type && row.code === value;
      case 'id':
        return row.code === value;
    }
  },
};
