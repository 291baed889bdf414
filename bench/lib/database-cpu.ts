// PostgreSQL's CPU for one database: its backends' CPU time, read from /proc (same host only), through a
// monitor connection of its own (excluded).
import type pg from 'pg';
import { processCpuMicros } from './child.ts';

/** CPU µs of each backend of the monitor's database now; undefined when not on this host or a backend ended while read. */
export async function databaseCpu(monitor: pg.Client): Promise<Map<number, number> | undefined> {
  const pids = (await monitor.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid as number);
  const now = new Map<number, number>();
  try {
    for (const pid of pids) now.set(pid, processCpuMicros(pid));
  } catch {
    return undefined;
  }
  return now;
}

/**
 * CPU µs the database's backends spent since an earlier reading, backends started meanwhile counted from
 * zero (one that ended meanwhile is missed: the pools keep theirs open).
 */
export async function databaseCpuSince(monitor: pg.Client, since: Map<number, number>): Promise<number | undefined> {
  const now = await databaseCpu(monitor);
  if (!now) return undefined;
  let spent = 0;
  for (const [pid, micros] of now) spent += micros - (since.get(pid) ?? 0);
  return spent;
}
