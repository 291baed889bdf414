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
 * A search page's bound without a window over its rows (PostgreSQL sets up every node of a prepared
 * statement's plan on each run, once per search in a coalesced batch, and a window is a node and a pass):
 * the page ships a row's resource only when `size <= budget / rows` (integer division), `rows` the most
 * rows the page can have (its count, or fewer by the total), a sufficient condition: the shipped ones
 * add up to at most the budget. It selects `LATER_COLUMN` (id/version) for the others; keptPrefix then
 * decides exactly which rows are kept, and the kept ones not shipped are read by that exact version.
 */
export const shippedCondition = (budget: string, rows: string, size: string): string => `${size} <= ${budget}::int8 / ${rows}`;

/** The column naming a row's exact version (`<uuid>/<version>`) where its resource was not shipped. */
export const LATER_COLUMN = 'later';
/** The same text for a row of resources (alias r), in the statement that reads those versions. */
export const LATER_OF_ROW = "r.id::text || '/' || r.version";

/**
 * The rows kept of a page's rows in order, as boundedRows' window keeps them: the first (with keepFirst), then
 * each while the sizes added up stay within the budget. Sizes are never negative, so it is a prefix.
 */
export function keptPrefix(all: Record<string, any>[], budget: number, keepFirst: boolean): BoundedRows {
  let running = 0;
  let n = 0;
  for (; n < all.length; n++) {
    const size = Number(all[n]!.size ?? 0);
    if (!(keepFirst && n === 0) && running + size > budget) break;
    running += size;
  }
  const rows = n === all.length ? all : all.slice(0, n);
  return { rows, bytes: running, leftOut: all.length - n, all };
}

/** Rows with `kept` and `size` columns, split into those kept and the rest. */
export function splitKept(all: Record<string, any>[]): BoundedRows {
  const rows = all.filter((row) => row.kept);
  const bytes = rows.reduce((sum, row) => sum + Number(row.size ?? 0), 0);
  return { rows, bytes, leftOut: all.length - rows.length, all };
}
