// The FHIR server's Prometheus metrics: HTTP requests by method, route pattern (never the URL: queries
// carry search values) and status with their durations; the database pool; websocket clients; creates
// written together (store/write-groups.ts).
import type pg from 'pg';
import { Counter, createRegistry, Gauge, Histogram, registerPoolMetrics, type Registry } from '../common/metrics.ts';

/** The counts of store/write-groups.ts (WriteGroups.stats). */
export interface WriteGroupCounts {
  groups: number;
  members: number;
  fallbacks: number;
}

export const FHIR_METRICS_PREFIX = 'dsf_fhir_';

export interface FhirMetrics {
  registry: Registry;
  /** One answered HTTP request (the app's onResponse hook, request-log.ts). */
  request(method: string, route: string, status: number, ms: number): void;
}

export function createFhirMetrics(pool: pg.Pool, websocketClients: () => number, writeGroups?: () => WriteGroupCounts): FhirMetrics {
  const registry = createRegistry(FHIR_METRICS_PREFIX);
  registerPoolMetrics(registry, FHIR_METRICS_PREFIX, pool);
  new Gauge({
    name: `${FHIR_METRICS_PREFIX}websocket_clients`,
    help: 'Open websocket sessions (BPEs listening for Tasks and QuestionnaireResponses)',
    registers: [registry],
    collect() {
      this.set(websocketClients());
    },
  });
  if (writeGroups) {
    // Counters that follow the store's own counts: each scrape adds what happened since the last.
    const counter = (name: string, help: string, read: (c: WriteGroupCounts) => number) => {
      let told = 0;
      new Counter({
        name: `${FHIR_METRICS_PREFIX}${name}`,
        help,
        registers: [registry],
        collect() {
          const now = read(writeGroups());
          this.inc(now - told);
          told = now;
        },
      });
    };
    counter('write_groups_total', 'Statements that wrote the creates of several requests together', (c) => c.groups);
    counter('write_group_members_total', 'Requests whose creates were written in such a shared statement', (c) => c.members);
    counter('write_group_fallbacks_total', 'Shared statements that failed, after which each request was written alone', (c) => c.fallbacks);
  }
  const requests = new Histogram({
    name: `${FHIR_METRICS_PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests of the FHIR API by method, route pattern and status, with their duration',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    request(method, route, status, ms) {
      requests.observe({ method, route, status: String(status) }, ms / 1000);
    },
  };
}
