// What PostgreSQL's generic plan of a statement the server sends looks like: the plan tests record the
// statements a search sends, then PREPARE one and EXPLAIN its execution with plan_cache_mode forced to
// generic (as the server's named statements run after their first executions).
import type pg from 'pg';
import type { StatementRunner } from '../../src/db/coalesced-statements.ts';

export interface RecordedStatement {
  text: string;
  values: unknown[];
}

/** A runner that sends every statement to `pool` and keeps it in `statements`, in order. */
export function recordingRunner(pool: pg.Pool): { runner: StatementRunner; statements: RecordedStatement[] } {
  const statements: RecordedStatement[] = [];
  return { statements, runner: { query: (text, values) => (statements.push({ text, values }), pool.query(text, values)) } };
}

/** The generic plan of `statement` (EXPLAIN's JSON `Plan`), with `ANALYZE` when asked: the statement then runs. */
export async function genericPlan(pool: pg.Pool, statement: RecordedStatement, options: { analyze?: boolean } = {}): Promise<Record<string, any>> {
  const client = await pool.connect();
  try {
    await client.query(`PREPARE plan_probe AS ${statement.text}`);
    await client.query('SET plan_cache_mode = force_generic_plan');
    // EXPLAIN EXECUTE takes no bound values: the same values as literals (arrays as their text literal).
    const literal = (v: unknown): string =>
      typeof v === 'number' ? String(v) : client.escapeLiteral(Array.isArray(v) ? `{${v.map((x) => `"${String(x)}"`).join(',')}}` : String(v));
    const explain = `EXPLAIN (${options.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) EXECUTE plan_probe(${statement.values.map(literal).join(', ')})`;
    return (await client.query(explain)).rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('DEALLOCATE ALL; RESET plan_cache_mode');
    client.release();
  }
}
