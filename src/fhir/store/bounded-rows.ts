// Pages bounded in bytes as well as in rows: a window over the page's rows adds up their stored sizes
// and only the prefix within the bound is read from storage and sent.
import type { StatementRunner } from '../../db/coalesced-statements.ts';

/** The stored size of a row of resources (alias r): its JSON length; the stored (maybe compressed) size for rows from before sizes were kept. */
export const ROW_SIZE = 'COALESCE(r.size, pg_column_size(r.resource))';

/**
 * Runs `sql` (selecting `resource`, `size` and the named other columns, in order) so that only a
 * prefix of at most `budget` bytes comes back with its resource (at least one row with keepFirst);
 * the other rows come back with `kept` false and no resource. Resources beyond the bound are never
 * read from their storage, so a page stays small in memory however large its resources are.
 */
export async function boundedRows(
  db: StatementRunner,
  sql: string,
  values: unknown[],
  budget: number,
  keepFirst: boolean,
  columns: readonly string[] = [],
): Promise<BoundedRows> {
  const kept = `(${keepFirst ? 'w.n = 1 OR ' : ''}w.running <= $${values.length + 1})`;
  const res = await db.query(
    `SELECT ${columns.map((c) => `w.${c}, `).join('')}CASE WHEN ${kept} THEN w.resource END AS resource, w.size, ${kept} AS kept FROM (
       SELECT b.*, sum(b.size) OVER w AS running, row_number() OVER w AS n FROM (${sql}) b
       WINDOW w AS (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) w ORDER BY w.n`,
    [...values, budget],
  );
  return splitKept(res.rows);
}

export interface BoundedRows {
  /** The rows kept, with their resource. */
  rows: Record<string, any>[];
  /** Their sizes added up. */
  bytes: number;
  /** How many rows were not kept. */
  leftOut: number;
  /** Every row, kept or not (the named columns are in all). */
  all: Record<string, any>[];
}

/**
 * The same bound within a statement's own level, for rows of resources (alias r, or the rows' `size`
 * expression) under a window `WINDOW w AS (ORDER BY <the rows' order> ROWS BETWEEN UNBOUNDED PRECEDING AND
 * CURRENT ROW)`: whether the row is kept. A search page selects `CASE WHEN <this> THEN ... END` for its resource and `<this> AS kept`
 * (split by splitKept) instead of going through boundedRows: one subquery, sort and window node fewer, and
 * PostgreSQL sets up every node of a prepared statement's plan on each run (and once per search in a
 * coalesced batch).
 */
export const keptCondition = (budget: string, keepFirst: boolean, size: string): string => `(${keepFirst ? 'row_number() OVER w = 1 OR ' : ''}sum(${size}) OVER w <= ${budget})`;

/** Rows with `kept` and `size` columns, split into those kept and the rest. */
export function splitKept(all: Record<string, any>[]): BoundedRows {
  const rows = all.filter((row) => row.kept);
  const bytes = rows.reduce((sum, row) => sum + Number(row.size ?? 0), 0);
  return { rows, bytes, leftOut: all.length - rows.length, all };
}
