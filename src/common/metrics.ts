// Prometheus metrics shared by the FHIR server and the BPE. Each server has a registry of its own
// (several servers may run in one process: `dsf site`, tests), and its metric names start with the
// server's prefix (dsf_fhir_, dsf_bpe_).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(prefix: string, defaults = true): Registry {
  const registry = new Registry();
  // Process metrics (CPU, memory, event loop lag) only once per process would be ideal; per registry is harmless.
  if (defaults) collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

/** The database pool's connections: total, idle, and requests waiting for one. */
export function registerPoolMetrics(registry: Registry, prefix: string, pool: pg.Pool): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: `${prefix}db_pool_${name}`,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('connections_total', 'Connections the database pool holds', () => pool.totalCount);
  gauge('connections_idle', 'Connections of the database pool not in use', () => pool.idleCount);
  gauge('requests_waiting', 'Requests waiting for a database connection', () => pool.waitingCount);
}
