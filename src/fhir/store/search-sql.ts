// Turns a SearchRequest (search/search-request.ts) into SQL over resources (alias r) and search_index.
// Every filter is an EXISTS on the index (semi-join on an indexed column) whose value condition the
// parameter's type module writes (search/param-types/), so no resource is filtered in JavaScript.
import type { SqlParams } from '../../db/sql-params.ts';
import { searchParameter } from '../search/parameters.ts';
import { paramTypeModule } from '../search/param-types/index.ts';
import { dateSql } from '../search/param-types/date.ts';
import { tokenSql } from '../search/param-types/token.ts';
import type { Filter, SearchRequest, SortSpec } from '../search/search-request.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A uuid[] parameter for `= ANY(...)`, behind a subquery. With the bare parameter, a custom plan knows how
 * many ids it holds while the generic plan assumes ten, so PostgreSQL kept planning the prepared statement
 * anew on every run; behind a subquery both plans estimate alike and the generic one is kept.
 */
export const uuidArray = (placeholder: string) => `(SELECT ${placeholder}::uuid[])::uuid[]`;

/** How a filter's EXISTS on the index begins; its condition on the index rows (alias s) follows (indexMatchOf takes it out again). */
const INDEX_EXISTS = 'EXISTS (SELECT 1 FROM search_index s WHERE s.resource_id = r.id AND ';

function filterCondition(f: Filter, type: string, baseUrl: string, p: SqlParams): string {
  if (f.code === '_id') {
    const ids = f.values.filter((v) => UUID.test(v));
    return ids.length ? `r.id = ANY(${uuidArray(p.add(ids))})` : 'false';
  }
  if (f.code === '_lastUpdated') {
    // An instant: the range of one millisecond.
    return `(${f.values.map((v) => dateSql(v, { lo: 'r.last_updated', hi: "(r.last_updated + interval '1 millisecond')" }, p)).join(' OR ')})`;
  }
  const def = f.def!;
  const module = paramTypeModule(def.type);
  const param = module.indexParam?.(f.code, f.modifier) ?? f.code;
  const ors = f.values.map((v) => `(${module.sql({ def, modifier: f.modifier }, v, p, baseUrl)})`).join(' OR ');
  let exists = `${INDEX_EXISTS}s.type = ${p.add(type)} AND s.param = ${p.add(param)} AND (${ors}))`;
  if (def.type === 'reference' && f.modifier === 'identifier') exists = `(${exists} OR ${resolvedIdentifierCondition(f, type, p)})`;
  return module.negatedBy !== undefined && f.modifier === module.negatedBy ? `NOT ${exists}` : exists;
}

/**
 * :identifier also matches a literal reference to a resource of this server that has the identifier, as
 * the reference server does (an allow-list Bundle's `endpoint:identifier=` finds an affiliation whose
 * endpoint is a plain `Endpoint/<id>`).
 */
function resolvedIdentifierCondition(f: Filter, type: string, p: SqlParams): string {
  const ors = f.values.map((v) => `(${tokenSql(v, (x) => p.add(x), 't')})`).join(' OR ');
  return (
    `EXISTS (SELECT 1 FROM search_index s JOIN search_index t ON t.resource_id = s.ref_id AND t.type = s.system AND t.param = 'identifier' ` +
    `WHERE s.resource_id = r.id AND s.type = ${p.add(type)} AND s.param = ${p.add(f.code)} AND s.ref_id IS NOT NULL AND (${ors}))`
  );
}

/** WHERE clause (without the keyword) selecting the current, not deleted resources that match. */
export function buildWhere(req: SearchRequest, baseUrl: string, p: SqlParams, extra: string[] = []): string {
  return whereParts(req, baseUrl, p, extra).join(' AND ');
}

/** The conditions buildWhere joins with AND, the filters' last, in the filters' order. */
export function whereParts(req: SearchRequest, baseUrl: string, p: SqlParams, extra: string[] = []): string[] {
  const parts = [`r.type = ${p.add(req.resourceType)}`, 'r.current', 'NOT r.deleted', ...extra];
  for (const f of req.filters) parts.push(filterCondition(f, req.resourceType, baseUrl, p));
  return parts;
}

/**
 * For a search by one token with system and code (an identifier search: one match, or a few), the
 * condition its EXISTS puts on the index rows (alias s) and the WHERE clause's other conditions, so
 * that a batch of such searches can look up each one's index rows as a read looks up its row.
 */
export function indexMatchOf(req: SearchRequest, parts: readonly string[]): { rest: string; match: string } | undefined {
  if (req.filters.length !== 1 || req.sort.length) return undefined;
  const f = req.filters[0]!;
  if (f.def?.type !== 'token' || f.modifier !== undefined || f.values.length !== 1) return undefined;
  const bar = f.values[0]!.indexOf('|');
  if (bar <= 0 || bar === f.values[0]!.length - 1) return undefined;
  const last = parts.at(-1)!;
  if (!last.startsWith(INDEX_EXISTS) || !last.endsWith(')')) return undefined;
  return { rest: parts.slice(0, -1).join(' AND '), match: last.slice(INDEX_EXISTS.length, -1) };
}

/** One key of a search's order: an expression on a row of resources (alias r) and its direction. */
export interface OrderKey {
  expr: string;
  /** `ASC`, `DESC`, with `NULLS LAST` where the key may be null. */
  dir: string;
}

/** The keys of a search's order, the sort parameters' first, then last update and id (a total order). */
export function orderKeys(sort: SortSpec[], type: string, p: SqlParams): OrderKey[] {
  const keys = sort.map((s): OrderKey => {
    const dir = s.descending ? 'DESC' : 'ASC';
    if (s.code === '_id') return { expr: 'r.id', dir };
    if (s.code === '_lastUpdated') return { expr: 'r.last_updated', dir };
    const def = searchParameter(type, s.code)!;
    const agg = s.descending ? 'max' : 'min';
    const column = paramTypeModule(def.type).sortColumn!;
    return { expr: `(SELECT ${agg}(${column}) FROM search_index s WHERE s.resource_id = r.id AND s.type = ${p.add(type)} AND s.param = ${p.add(s.code)})`, dir: `${dir} NULLS LAST` };
  });
  // A stable order makes paging deterministic.
  keys.push({ expr: 'r.last_updated', dir: 'ASC' }, { expr: 'r.id', dir: 'ASC' });
  return keys;
}
