// Runs a parsed search: one statement for the page with its total, one for all _include/_revinclude.
import type { Resource } from '@medplum/fhirtypes';
import { SqlParams } from '../../db/sql-params.ts';
import { BATCH_VECTORS, setBatchForm, type BatchForm, type StatementRunner } from '../../db/coalesced-statements.ts';
import { indexMatchOf, orderKeys, uuidArray, whereParts } from './search-sql.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { boundedRows, keptPrefix, LATER_COLUMN, LATER_OF_ROW, ROW_SIZE, shippedCondition } from './bounded-rows.ts';
import type { AccessFilter } from './access-condition.ts';
import { accessConditions } from './access-sql.ts';
import { pageStatementFor, pageTailValues } from './search-page-texts.ts';
import { searchPlanFor, type SearchPlan } from './search-plans.ts';

/** A resource as the text PostgreSQL keeps it in (jsonb's text form), with its type and id as stored in it. */
export interface ResourceText {
  type: string;
  id: string;
  text: string;
}

export interface SearchResult<R = Resource> {
  total: number;
  /** Where this page starts among all matches. */
  offset: number;
  matches: R[];
  included: R[];
  /** Included resources left out because the page would have passed its byte bound. */
  includesLeftOut?: number;
}

/** A page's first match: _offset when given (a link of a page that ended early), else from _page. */
export function pageOffset(req: SearchRequest): number {
  return req.offset ?? (req.page - 1) * req.count;
}

export interface SearchOptions {
  /** The bound of the page's resources in bytes (matches first, then includes); none when undefined. */
  maxPageBytes?: number;
  /** Whether the caller needs the total (conditional writes do not); default true. */
  total?: boolean;
  /** The resources as stored text (ResourceText), not parsed. */
  asText?: boolean;
}

/** The resource columns of a row of resources (alias r) in either form. */
const resourceColumns = (asText: boolean) => (asText ? "r.resource::text AS resource, r.resource->>'resourceType' AS rtype, r.resource->>'id' AS rid" : 'r.resource');

/** A result row's resource in the form asked for. */
const resourceOf = (asText: boolean) => (row: Record<string, any>): Resource | ResourceText => (asText ? { type: row.rtype, id: row.rid, text: row.resource } : row.resource);

/**
 * One statement for the page and its total: the matches' ids are ordered and counted (a window count
 * over the matching ids only), the page's resources joined to the ids of the page. Only a page past
 * the last match (no row to carry the count) needs a count of its own. The includes are one more.
 */
export async function executeSearch(db: StatementRunner, req: SearchRequest, baseUrl: string, access: AccessFilter | undefined, opts: SearchOptions & { asText: true }): Promise<SearchResult<ResourceText>>;
export async function executeSearch(db: StatementRunner, req: SearchRequest, baseUrl: string, access?: AccessFilter, opts?: SearchOptions & { asText?: false }): Promise<SearchResult>;
export async function executeSearch(db: StatementRunner, req: SearchRequest, baseUrl: string, access?: AccessFilter, opts: SearchOptions = {}): Promise<SearchResult<Resource | ResourceText>> {
  const { maxPageBytes, total: wantTotal = true, asText = false } = opts;
  const plan = searchPlanFor(req, baseUrl, access, wantTotal, asText, maxPageBytes, () => planSearch(req, baseUrl, access, wantTotal, asText, maxPageBytes));
  const countSql = () => `SELECT count(*)::int AS n FROM resources r WHERE ${plan.where}`;
  const start = pageOffset(req);
  const statement = plan.page;
  if (statement === undefined) {
    const total = (await db.query(countSql(), plan.whereValues.slice())).rows[0].n as number;
    return { total, offset: start, matches: [], included: [] };
  }
  if (statement.batchForm) setBatchForm(statement.text, statement.batchForm);
  const page = maxPageBytes === undefined ? await db.query(statement.text, statement.values.slice()).then((r) => ({ rows: r.rows, bytes: 0, all: r.rows })) : await boundedPage(db, statement, maxPageBytes, asText);
  const matches = page.rows.map(resourceOf(asText));
  let total = -1;
  if (wantTotal) total = page.all.length ? Number(page.all[0].total) : start === 0 ? 0 : ((await db.query(countSql(), plan.whereValues.slice())).rows[0].n as number);
  const budget = maxPageBytes === undefined ? undefined : Math.max(0, maxPageBytes - page.bytes);
  const { included, leftOut } = await includes(db, req, matches, asText, access, budget);
  return { total, offset: start, matches, included, ...(leftOut ? { includesLeftOut: leftOut } : {}) };
}

/** How often a bounded page is read again when a version it counted is gone before it is read (a permanent delete). */
const PAGE_ATTEMPTS = 3;

/**
 * A bounded page's rows: the statement ships the resources within budget / count (shippedCondition),
 * keptPrefix decides which rows are kept, and the kept ones not shipped are read by their exact
 * versions (a write in between cannot swap them; a version permanently deleted meanwhile reads the
 * page again, and on the last attempt the page goes without it, as a search a moment later would).
 * So at most the budget is shipped and at most the budget read afterwards (or the first row).
 */
async function boundedPage(db: StatementRunner, statement: { text: string; values: readonly unknown[] }, budget: number, asText: boolean) {
  for (let attempt = 1; ; attempt++) {
    const page = keptPrefix((await db.query(statement.text, statement.values.slice())).rows, budget, true);
    const later = page.rows.filter((row) => row[LATER_COLUMN] != null);
    if (!later.length) return page;
    const keys = later.map((row) => String(row[LATER_COLUMN]).split('/') as [string, string]);
    const read = new Map<string, Record<string, any>>();
    for (const row of (await db.query(laterVersions(asText), [keys.map(([id]) => id), keys.map(([, version]) => Number(version))])).rows) read.set(String(row[LATER_COLUMN]), row);
    const gone = new Set(later.filter((row) => !read.has(String(row[LATER_COLUMN]))));
    if (gone.size && attempt < PAGE_ATTEMPTS) continue;
    for (const row of later) {
      const version = read.get(String(row[LATER_COLUMN]));
      if (!version) continue;
      row.resource = version.resource;
      if (asText) [row.rtype, row.rid] = [version.rtype, version.rid];
    }
    if (!gone.size) return page;
    // Deleted for good on every attempt: the page without those rows (never an error for the caller).
    const rows = page.rows.filter((row) => !gone.has(row));
    const bytes = rows.reduce((sum, row) => sum + Number(row.size ?? 0), 0);
    return { rows, bytes, leftOut: page.leftOut, all: page.all.filter((row) => !gone.has(row)) };
  }
}

/** The versions of a page's kept rows that were not shipped, by id and version. */
const laterVersions = (asText: boolean) =>
  `SELECT ${LATER_OF_ROW} AS ${LATER_COLUMN}, ${resourceColumns(asText)} FROM unnest($1::uuid[], $2::int[]) AS u(id, version) JOIN resources r ON r.id = u.id AND r.version = u.version`;

/** The search's WHERE clause with its values and, unless it only counts, its page statement. */
function planSearch(req: SearchRequest, baseUrl: string, access: AccessFilter | undefined, wantTotal: boolean, asText: boolean, maxPageBytes: number | undefined): SearchPlan {
  const p = new SqlParams();
  const parts = whereParts(req, baseUrl, p, accessConditions(access, p, [req.resourceType]));
  const where = parts.join(' AND ');
  if (req.summary === 'count' || req.count === 0) return { where, whereValues: p.values };
  const start = pageOffset(req);
  const shape = { resourceType: req.resourceType, sort: req.sort, wantTotal, asText, bounded: maxPageBytes !== undefined };
  const page = pageStatementFor(shape, where, p.values, pageTailValues(req.sort, req.resourceType, req.count, start, maxPageBytes), () => {
    const pageParams = new SqlParams();
    pageParams.values.push(...p.values);
    const batch = { match: indexMatchOf(req, parts), form: undefined as BatchForm | undefined };
    return { text: pageStatement(req, start, where, pageParams, wantTotal, asText, maxPageBytes, batch), values: pageParams.values, batchForm: batch.form };
  });
  return { where, whereValues: p.values, page };
}

/**
 * The page's statement. The matches' order keys are carried out of the ids' subquery (as k0, k1, ...),
 * so the page keeps their order through the join without numbering the matches (a window and a sort
 * on the number fewer); with a byte bound, each row's resource is shipped by shippedCondition (no window)
 * and executeSearch keeps the rows within the bound.
 */
export function pageStatement(
  req: SearchRequest,
  start: number,
  where: string,
  p: SqlParams,
  wantTotal: boolean,
  asText: boolean,
  maxPageBytes: number | undefined,
  batch?: { match: { rest: string; match: string } | undefined; form?: BatchForm },
): string {
  const whereValues = p.values.length;
  const keys = orderKeys(req.sort, req.resourceType, p);
  // Each expression carried once (the id as id): PostgreSQL knows the subquery's order by the first
  // column of an expression only, and would sort the page again by a second one.
  const names = new Map<string, string>([['r.id', 'id']]);
  for (const k of keys) if (!names.has(k.expr)) names.set(k.expr, `k${names.size - 1}`);
  const order = (alias: string) => keys.map((k) => `${alias}${names.get(k.expr)} ${k.dir}`).join(', ');
  const carried = [...names].slice(1).map(([expr, name]) => `, ${expr} AS ${name}`).join('');
  const bounded = maxPageBytes !== undefined;
  // The size comes with the ids (one column of each match) so the text names it once, not in each use of the bound.
  const size = bounded ? `, ${ROW_SIZE} AS size` : '';
  const [count, offset] = [p.add(req.count), p.add(start)];
  const ids = `SELECT r.id${carried}${size}${wantTotal ? ', count(*) OVER () AS total' : ''} FROM resources r WHERE ${where} ORDER BY ${order('')} LIMIT ${count} OFFSET ${offset}`;
  const from = `FROM (${ids}) p JOIN resources r ON r.id = p.id AND r.current`;
  const total = wantTotal ? ', p.total' : '';
  // The page's rows are at most its count, and at most the matches from its offset on (one for most
  // identifier searches, so their resource ships whenever it is within the bound).
  const rows = wantTotal ? `LEAST(${count}::int8, p.total - ${offset}::int8)` : `${count}::int8`;
  const shipped = bounded ? shippedCondition(p.add(maxPageBytes), rows, 'p.size') : '';
  const only = (column: string, name: string) => `CASE WHEN ${shipped} THEN ${column} END AS ${name}`;
  const selected = !bounded ? [resourceColumns(asText)] : asText ? [only('r.resource::text', 'resource'), only("r.resource->>'resourceType'", 'rtype'), only("r.resource->>'id'", 'rid')] : [only('r.resource', 'resource')];
  const later = `, CASE WHEN ${shipped} THEN NULL ELSE ${LATER_OF_ROW} END AS ${LATER_COLUMN}`;
  const columns = `${selected.join(', ')}${bounded ? ', p.size' : ''}${total}${bounded ? later : ''}`;
  if (batch?.match) {
    // The batch of identifier pages (coalesced-statements.ts BatchForm): each vector's index rows looked
    // up as a read looks up its row, and every vector's matches numbered and counted by windows
    // over the batch's rows, partitioned by vector, instead of the page's plan run once per vector. The
    // page's own keys order the rows (the same order as batch_row): the matches come sorted by them, so
    // the result needs no sort of its own. Each match's version is found by its id alone, behind a fence
    // (OFFSET 0) with the search's conditions above it: without statistics (a new database until
    // autovacuum analyzes it) the generic plan otherwise scanned the type's index with the id as a join
    // filter, every resource of the type for each vector.
    const numbered = keys.map((k) => `${k.expr} ${k.dir}`).join(', ');
    const matches = `SELECT q.batch_k, r.id${carried}${size}${wantTotal ? ', count(*) OVER (PARTITION BY q.batch_k) AS total' : ''}, row_number() OVER (PARTITION BY q.batch_k ORDER BY ${numbered}) AS batch_row
      FROM ${BATCH_VECTORS} CROSS JOIN LATERAL (SELECT DISTINCT s.resource_id FROM search_index s WHERE ${batch.match.match}) m
      CROSS JOIN LATERAL (SELECT r.* FROM resources r WHERE r.id = m.resource_id AND r.current OFFSET 0) r
      WHERE q.batch_k BETWEEN 1 AND 2147483647 AND ${batch.match.rest}`;
    batch.form = {
      text: `SELECT p.batch_k, ${columns}, p.batch_row FROM (${matches}) p JOIN resources r ON r.id = p.id AND r.current
    WHERE p.batch_row > ${offset} AND p.batch_row <= ${offset} + ${count} ORDER BY p.batch_k, ${order('p.')}`,
      varyingUpTo: whereValues,
    };
  }
  return `SELECT ${columns} ${from} ORDER BY ${order('p.')}`;
}

/**
 * The index rows of the page's matches, found by resource id only: the OFFSET 0 keeps the type, param
 * and ref_id conditions outside, else the generic plan (which cannot tell how many ids there are)
 * scanned every index row of the source type's parameter (all Organizations' endpoints for one
 * page's _include) and dropped those of other resources.
 */
const pageIndexRows = (idsParam: string) => `(SELECT * FROM search_index s WHERE s.resource_id = ANY(${uuidArray(idsParam)}) OFFSET 0)`;

/**
 * Targets of canonical values (index rows with the url in code, url|version in norm, no system): the
 * resource of a target type with that url and that version, or, for a canonical without version, the
 * one without a version (as the reference's include).
 */
function canonicalInclude(idsParam: string, inc: SearchRequest['include'][number], types: string[], p: SqlParams, asText: boolean, access?: AccessFilter): string {
  const typesParam = p.add(types);
  const acc = accessConditions(access, p, types);
  return `SELECT r.id, ${resourceColumns(asText)}, ${ROW_SIZE} AS size FROM ${pageIndexRows(idsParam)} s
     JOIN search_index t ON t.type = ANY(${typesParam}::text[]) AND t.param = 'url' AND t.code = s.code
     JOIN resources r ON r.id = t.resource_id AND r.current AND NOT r.deleted
     WHERE s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)}
       AND s.system IS NULL AND s.ref_id IS NULL AND s.code IS NOT NULL
       AND (CASE WHEN strpos(s.norm, '|') > 0 THEN r.resource->>'version' = split_part(s.norm, '|', 2) ELSE r.resource->'version' IS NULL END)${acc.map((a) => ` AND ${a}`).join('')}`;
}

/**
 * Every _include and _revinclude of the page in one statement: the union of one select per parameter,
 * each resource once, none of the page's matches, in id order (so that which ones fit within the byte
 * bound does not depend on the plan).
 */
async function includes(db: StatementRunner, req: SearchRequest, matches: { id?: string }[], asText: boolean, access?: AccessFilter, budget?: number): Promise<{ included: (Resource | ResourceText)[]; leftOut: number }> {
  if (!matches.length || (!req.include.length && !req.revinclude.length)) return { included: [], leftOut: 0 };
  const p = new SqlParams();
  const idsParam = p.add(matches.map((m) => m.id!));
  const parts: string[] = [];
  for (const inc of req.include) {
    // Knowing the target types keeps the access filter to their rules only (cheaper to plan).
    const types = inc.targetType ? [inc.targetType] : inc.targets?.length ? inc.targets : undefined;
    const target = types ? ` AND r.type = ANY(${p.add(types)}::text[])` : '';
    const acc = accessConditions(access, p, types);
    parts.push(
      `SELECT r.id, ${resourceColumns(asText)}, ${ROW_SIZE} AS size FROM resources r WHERE r.current AND NOT r.deleted${target}${acc.map((a) => ` AND ${a}`).join('')}
       AND r.id IN (SELECT s.ref_id FROM ${pageIndexRows(idsParam)} s WHERE s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)} AND s.ref_id IS NOT NULL)`,
    );
    if (inc.canonical && types) parts.push(canonicalInclude(idsParam, inc, types, p, asText, access));
  }
  for (const inc of req.revinclude) {
    const acc = accessConditions(access, p, [inc.sourceType]);
    parts.push(
      `SELECT r.id, ${resourceColumns(asText)}, ${ROW_SIZE} AS size FROM resources r WHERE r.current AND NOT r.deleted AND r.type = ${p.add(inc.sourceType)}${acc.map((a) => ` AND ${a}`).join('')}
       AND r.id IN (SELECT s.resource_id FROM search_index s WHERE s.ref_id = ANY(${uuidArray(idsParam)}) AND s.type = ${p.add(inc.sourceType)} AND s.param = ${p.add(inc.param)})`,
    );
  }
  const sql = `SELECT DISTINCT ON (u.id) u.id, u.resource, ${asText ? 'u.rtype, u.rid, ' : ''}u.size FROM (${parts.map((x) => `(${x})`).join(' UNION ALL ')}) u WHERE u.id <> ALL(${idsParam}::uuid[]) ORDER BY u.id`;
  if (budget === undefined) return { included: (await db.query(sql, p.values)).rows.map(resourceOf(asText)), leftOut: 0 };
  const bounded = await boundedRows(db, sql, p.values, budget, false, asText ? ['rtype', 'rid'] : []);
  return { included: bounded.rows.map(resourceOf(asText)), leftOut: bounded.leftOut };
}
