// Versioned schema migrations. Each component (fhir, bpe) owns an ordered list; applied versions are
// recorded in schema_migrations. A session-level advisory lock makes concurrent start-ups safe:
// the second process waits, then finds everything applied.
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const LOCK_KEY = 0x44_53_46_4d; // 'DSFM'

export async function migrate(pool: pg.Pool, component: string, migrations: readonly Migration[]): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (new Set(versions).size !== versions.length || versions.some((v, i) => i > 0 && v <= versions[i - 1]!)) {
    throw new Error(`${component} migrations must have strictly increasing versions`);
  }
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component TEXT NOT NULL, version INT NOT NULL, name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [component])).rows.map((r) => r.version),
    );
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)', [component, m.version, m.name]);
        await client.query('COMMIT');
        applied.push(m.version);
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`${component} migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
  return applied;
}
