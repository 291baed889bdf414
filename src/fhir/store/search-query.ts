// Runs a parsed search: one query for the page, one for the total, and one per _include/_revinclude.
import type { Resource } from '@medplum/fhirtypes';
import { SqlParams } from '../../db/sql-params.ts';
import type { Db } from '../../db/pool.ts';
import { buildOrderBy, buildWhere } from './search-sql.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { boundedRows, ROW_SIZE } from './bounded-rows.ts';
import type { AccessFilter } from './access-condition.ts';
import { accessConditions } from './access-sql.ts';

export interface SearchResult {
  total: number;
  /** Where this page starts among all matches. */
  offset: number;
  matches: Resource[];
  included: Resource[];
  /** Included resources left out because the page would have passed its byte bound. */
  includesLeftOut?: number;
}

/** A page's first match: _offset when given (a link of a page that ended early), else from _page. */
export function pageOffset(req: SearchRequest): number {
  return req.offset ?? (req.page - 1) * req.count;
}

/** maxPageBytes: the bound of the page's resources in bytes (matches first, then includes); none when undefined. */
export async function executeSearch(db: Db, req: SearchRequest, baseUrl: string, access?: AccessFilter, maxPageBytes?: number): Promise<SearchResult> {
  const p = new SqlParams();
  const where = buildWhere(req, baseUrl, p, accessConditions(access, p, [req.resourceType]));
  const countSql = `SELECT count(*)::int AS n FROM resources r WHERE ${where}`;
  const start = pageOffset(req);
  if (req.summary === 'count' || req.count === 0) {
    const total = (await db.query(countSql, p.values)).rows[0].n as number;
    return { total, offset: start, matches: [], included: [] };
  }
  const pageParams = new SqlParams();
  pageParams.values.push(...p.values);
  const order = buildOrderBy(req.sort, req.resourceType, pageParams);
  const limit = pageParams.add(req.count);
  const offset = pageParams.add(start);
  const pageSql = `SELECT r.resource, ${ROW_SIZE} AS size FROM resources r WHERE ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`;
  const [countRes, page] = await Promise.all([
    db.query(countSql, p.values),
    maxPageBytes === undefined
      ? db.query(pageSql, pageParams.values).then((r) => ({ resources: r.rows.map((row) => row.resource as Resource), bytes: 0 }))
      : boundedRows(db, pageSql, pageParams.values, maxPageBytes, true).then((b) => ({ resources: b.rows.map((row) => row.resource as Resource), bytes: b.bytes })),
  ]);
  const matches = page.resources;
  const budget = maxPageBytes === undefined ? undefined : Math.max(0, maxPageBytes - page.bytes);
  const { included, leftOut } = await includes(db, req, matches, access, budget);
  return { total: countRes.rows[0].n as number, offset: start, matches, included, ...(leftOut ? { includesLeftOut: leftOut } : {}) };
}

/**
 * Targets of canonical values (index rows with the url in code, url|version in norm, no system): the
 * resource of a target type with that url and that version, or, for a canonical without version, the
 * one without a version (as the reference's include).
 */
function canonicalInclude(ids: string[], inc: SearchRequest['include'][number], types: string[], access?: AccessFilter): [string, SqlParams] {
  const p = new SqlParams();
  const idsParam = p.add(ids);
  const typesParam = p.add(types);
  const acc = accessConditions(access, p, types);
  const sql = `SELECT r.resource, ${ROW_SIZE} AS size FROM search_index s
     JOIN search_index t ON t.type = ANY(${typesParam}::text[]) AND t.param = 'url' AND t.code = s.code
     JOIN resources r ON r.id = t.resource_id AND r.current AND NOT r.deleted
     WHERE s.resource_id = ANY(${idsParam}::uuid[]) AND s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)}
       AND s.system IS NULL AND s.ref_id IS NULL AND s.code IS NOT NULL
       AND (CASE WHEN strpos(s.norm, '|') > 0 THEN r.resource->>'version' = split_part(s.norm, '|', 2) ELSE r.resource->'version' IS NULL END)${acc.map((a) => ` AND ${a}`).join('')}`;
  return [sql, p];
}

async function includes(db: Db, req: SearchRequest, matches: Resource[], access?: AccessFilter, budget?: number): Promise<{ included: Resource[]; leftOut: number }> {
  if (!matches.length || (!req.include.length && !req.revinclude.length)) return { included: [], leftOut: 0 };
  const ids = matches.map((m) => m.id!);
  const seen = new Set(ids);
  const out: Resource[] = [];
  let left = budget;
  let leftOut = 0;
  const run = async (sql: string, p: SqlParams) => {
    let rows: Resource[];
    if (left === undefined) rows = (await db.query(sql, p.values)).rows.map((row) => row.resource as Resource);
    else {
      // In id order, so that which ones fit does not depend on the plan.
      const bounded = await boundedRows(db, `${sql} ORDER BY r.id`, p.values, left, false);
      rows = bounded.rows.map((row) => row.resource as Resource);
      left -= bounded.bytes;
      leftOut += bounded.leftOut;
    }
    for (const r of rows) {
      if (!seen.has(r.id!)) {
        seen.add(r.id!);
        out.push(r);
      }
    }
  };
  for (const inc of req.include) {
    const p = new SqlParams();
    const idsParam = p.add(ids);
    // Knowing the target types keeps the access filter to their rules only (cheaper to plan).
    const types = inc.targetType ? [inc.targetType] : inc.targets?.length ? inc.targets : undefined;
    const target = types ? ` AND r.type = ANY(${p.add(types)}::text[])` : '';
    const acc = accessConditions(access, p, types);
    await run(
      `SELECT r.resource, ${ROW_SIZE} AS size FROM resources r WHERE r.current AND NOT r.deleted${target}${acc.map((a) => ` AND ${a}`).join('')}
       AND r.id IN (SELECT s.ref_id FROM search_index s WHERE s.resource_id = ANY(${idsParam}::uuid[]) AND s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)} AND s.ref_id IS NOT NULL)`,
      p,
    );
    if (inc.canonical && types) await run(...canonicalInclude(ids, inc, types, access));
  }
  for (const inc of req.revinclude) {
    const p = new SqlParams();
    const idsParam = p.add(ids);
    const acc = accessConditions(access, p, [inc.sourceType]);
    await run(
      `SELECT r.resource, ${ROW_SIZE} AS size FROM resources r WHERE r.current AND NOT r.deleted AND r.type = ${p.add(inc.sourceType)}${acc.map((a) => ` AND ${a}`).join('')}
       AND r.id IN (SELECT s.resource_id FROM search_index s WHERE s.ref_id = ANY(${idsParam}::uuid[]) AND s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)})`,
      p,
    );
  }
  return { included: out, leftOut };
}
