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
): Promise<{ rows: Record<string, any>[]; bytes: number; leftOut: number; /** Every row, kept or not (the named columns are in all). */ all: Record<string, any>[] }> {
  const kept = `(${keepFirst ? 'w.n = 1 OR ' : ''}w.running <= $${values.length + 1})`;
  const res = await db.query(
    `SELECT ${columns.map((c) => `w.${c}, `).join('')}CASE WHEN ${kept} THEN w.resource END AS resource, w.size, ${kept} AS kept FROM (
       SELECT b.*, sum(b.size) OVER w AS running, row_number() OVER w AS n FROM (${sql}) b
       WINDOW w AS (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) w ORDER BY w.n`,
    [...values, budget],
  );
  const rows = res.rows.filter((row) => row.kept);
  const bytes = rows.reduce((sum, row) => sum + Number(row.size ?? 0), 0);
  return { rows, bytes, leftOut: res.rows.length - rows.length, all: res.rows };
}
