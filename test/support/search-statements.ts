// A search's first statement two ways, for tests of the texts and plans the search code keeps: as its
// statements build it anew (an unfrozen request, nothing kept involved) and as executeSearch sends it.
import { SqlParams } from '../../src/db/sql-params.ts';
import type { StatementRunner } from '../../src/db/coalesced-statements.ts';
import type { SearchRequest } from '../../src/fhir/search/search-request.ts';
import { executeSearch, pageOffset, pageStatement, type SearchOptions } from '../../src/fhir/store/search-query.ts';
import { buildWhere } from '../../src/fhir/store/search-sql.ts';
import { accessConditions } from '../../src/fhir/store/access-sql.ts';
import type { AccessFilter } from '../../src/fhir/store/access-condition.ts';

export interface Statement {
  text: string;
  values: unknown[];
}

/** The search's first statement built anew: the count where only counted, else the page statement. */
export function firstStatementBuiltAnew(base: string, req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions): Statement {
  const p = new SqlParams();
  const where = buildWhere(req, base, p, accessConditions(access, p, [req.resourceType]));
  if (req.summary === 'count' || req.count === 0) return { text: `SELECT count(*)::int AS n FROM resources r WHERE ${where}`, values: p.values };
  const page = new SqlParams();
  page.values.push(...p.values);
  return { text: pageStatement(req, pageOffset(req), where, page, opts.total ?? true, opts.asText ?? false, opts.maxPageBytes), values: page.values };
}

/** The first statement executeSearch sends, and its values' list; the runner answers with no rows (a later page then counts on its own). */
export async function firstStatementSent(base: string, req: SearchRequest, access: AccessFilter | undefined, opts: SearchOptions): Promise<Statement> {
  const statements: Statement[] = [];
  const runner: StatementRunner = { query: async (text, values) => (statements.push({ text, values }), { rows: text.startsWith('SELECT count') ? [{ n: 0 }] : [] }) };
  await executeSearch(runner, req, base, access, opts as SearchOptions & { asText?: false });
  return statements[0]!;
}
