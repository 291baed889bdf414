// Turns a SearchRequest into SQL over resources (alias r) and search_index. Every filter is an
// EXISTS on the index (semi-join on an indexed column), so no resource is filtered in JavaScript.
import type { SqlParams } from '../../db/sql-params.ts';
import { normalizeString } from '../search/index-rows.ts';
import { parseReference } from '../search/reference.ts';
import { parseDateValue, type Filter, type SearchRequest, type SortSpec } from '../search/search-request.ts';

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function dateCondition(prefix: string, lo: string, hi: string, range: { lo: Date; hi: Date }, p: SqlParams): string {
  // Parameters are added only when used: PostgreSQL cannot type an unused parameter.
  const slo = () => `${p.add(range.lo.toISOString())}::timestamptz`;
  const shi = () => `${p.add(range.hi.toISOString())}::timestamptz`;
  switch (prefix) {
    case 'ne':
      return `NOT (${lo} >= ${slo()} AND ${hi} <= ${shi()})`;
    case 'gt':
      return `${hi} > ${shi()}`;
    case 'lt':
      return `${lo} < ${slo()}`;
    case 'ge':
      return `${hi} > ${slo()}`;
    case 'le':
      return `${lo} < ${shi()}`;
    case 'sa':
      return `${lo} >= ${shi()}`;
    case 'eb':
      return `${hi} <= ${slo()}`;
    default:
      return `${lo} >= ${slo()} AND ${hi} <= ${shi()}`;
  }
}

/** The condition on one index row (alias s) for one value of a filter. */
function valueCondition(f: Filter, value: string, baseUrl: string, p: SqlParams): string {
  const def = f.def!;
  switch (def.type) {
    case 'token': {
      const bar = value.indexOf('|');
      if (bar < 0) return `s.code = ${p.add(value)}`;
      const system = value.slice(0, bar);
      const code = value.slice(bar + 1);
      if (system === '') return `s.system IS NULL AND s.code = ${p.add(code)}`;
      if (code === '') return `s.system = ${p.add(system)}`;
      return `s.code = ${p.add(code)} AND s.system = ${p.add(system)}`;
    }
    case 'string':
      if (f.modifier === 'exact') return `s.code = ${p.add(value)}`;
      if (f.modifier === 'contains') return `s.norm LIKE ${p.add(`%${likeEscape(normalizeString(value))}%`)}`;
      return `s.norm LIKE ${p.add(`${likeEscape(normalizeString(value))}%`)}`;
    case 'uri':
      if (f.modifier === 'below') return `s.code LIKE ${p.add(`${likeEscape(value)}%`)}`;
      return `s.code = ${p.add(value)}`;
    case 'reference': {
      if (f.modifier === 'identifier') {
        const bar = value.indexOf('|');
        if (bar < 0) return `s.code = ${p.add(value)}`;
        const system = value.slice(0, bar);
        const code = value.slice(bar + 1);
        if (code === '') return `s.system = ${p.add(system)}`;
        return system === '' ? `s.system IS NULL AND s.code = ${p.add(code)}` : `s.code = ${p.add(code)} AND s.system = ${p.add(system)}`;
      }
      const typeModifier = f.modifier && f.modifier !== 'identifier' ? f.modifier : undefined;
      // A canonical (url, or url|version) even where the url looks like a literal reference (.../Questionnaire/x).
      if (def.canonical && value.includes('://')) return `(s.norm = ${p.add(value)} OR s.code = ${p.add(value)})`;
      const ref = parseReference(value, baseUrl);
      if (ref?.local) return `s.system = ${p.add(ref.type)} AND s.code = ${p.add(ref.id)}`;
      if (ref) return `s.norm = ${p.add(value)}`;
      if (/^https?:\/\//.test(value) || value.startsWith('urn:')) return `(s.norm = ${p.add(value)} OR s.code = ${p.add(value)})`;
      if (typeModifier) return `s.system = ${p.add(typeModifier)} AND s.code = ${p.add(value)}`;
      return `s.code = ${p.add(value)}`;
    }
    case 'date': {
      const d = parseDateValue(value)!;
      return dateCondition(d.prefix, 's.lo', 's.hi', d.range, p);
    }
    default:
      return 'false';
  }
}

function filterCondition(f: Filter, type: string, baseUrl: string, p: SqlParams): string {
  if (f.code === '_id') {
    const ids = f.values.filter((v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
    return ids.length ? `r.id = ANY(${p.add(ids)}::uuid[])` : 'false';
  }
  if (f.code === '_lastUpdated') {
    return `(${f.values
      .map((v) => {
        const d = parseDateValue(v)!;
        return dateCondition(d.prefix, 'r.last_updated', "(r.last_updated + interval '1 millisecond')", d.range, p);
      })
      .join(' OR ')})`;
  }
  const param = f.modifier === 'identifier' ? `${f.code}:identifier` : f.code;
  const ors = f.values.map((v) => `(${valueCondition(f, v, baseUrl, p)})`).join(' OR ');
  const exists = `EXISTS (SELECT 1 FROM search_index s WHERE s.resource_id = r.id AND s.type = ${p.add(type)} AND s.param = ${p.add(param)} AND (${ors}))`;
  return f.modifier === 'not' ? `NOT ${exists}` : exists;
}

/** WHERE clause (without the keyword) selecting the current, not deleted resources that match. */
export function buildWhere(req: SearchRequest, baseUrl: string, p: SqlParams, extra: string[] = []): string {
  const parts = [`r.type = ${p.add(req.resourceType)}`, 'r.current', 'NOT r.deleted', ...extra];
  for (const f of req.filters) parts.push(filterCondition(f, req.resourceType, baseUrl, p));
  return parts.join(' AND ');
}

export function buildOrderBy(sort: SortSpec[], type: string, p: SqlParams): string {
  const keys = sort.map((s) => {
    const dir = s.descending ? 'DESC' : 'ASC';
    if (s.code === '_id') return `r.id ${dir}`;
    if (s.code === '_lastUpdated') return `r.last_updated ${dir}`;
    const agg = s.descending ? 'max' : 'min';
    const col = `coalesce(s.lo::text, s.code)`;
    return `(SELECT ${agg}(${col}) FROM search_index s WHERE s.resource_id = r.id AND s.type = ${p.add(type)} AND s.param = ${p.add(s.code)}) ${dir} NULLS LAST`;
  });
  // A stable order makes paging deterministic.
  keys.push('r.last_updated ASC', 'r.id ASC');
  return keys.join(', ');
}
