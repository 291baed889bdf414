// The BPE's Prometheus metrics: the database pool, process instances running by process, jobs (due,
// executed, failed, running now against the workers), incidents (jobs without retries left), and Tasks that could not be sent, by the
// remote FHIR server. Counts of rows are read from the engine's tables when scraped.
import type pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { Counter, createRegistry, Gauge, registerPoolMetrics, type Registry } from '../common/metrics.ts';
import type { FhirRequestObserver } from './client/http-fhir-client.ts';

export const BPE_METRICS_PREFIX = 'dsf_bpe_';

export interface BpeMetrics {
  registry: Registry;
  jobExecuted(): void;
  jobFailed(): void;
  /** Counts Task creates sent to remote FHIR servers and their failures. */
  taskSends: FhirRequestObserver;
  /** Where the jobs running now and the job workers are read from when scraped (set once the engine exists). */
  observeJobWorkers(running: () => number, workers: number): void;
}

export function createBpeMetrics(pool: pg.Pool): BpeMetrics {
  const p = BPE_METRICS_PREFIX;
  const registry = createRegistry(p);
  registerPoolMetrics(registry, p, pool);
  new Gauge({
    name: `${p}process_instances_running`,
    help: 'Process instances not ended, by process definition key and version',
    labelNames: ['process', 'version'] as const,
    registers: [registry],
    async collect() {
      const rows = (
        await pool.query<{ key: string; version: string; n: string }>(
          `SELECT i.definition_key AS key, COALESCE(d.version_tag, d.version::text) AS version, count(*) AS n
             FROM bpmn_process_instance i JOIN bpmn_process_definition d ON d.id = i.definition_id
            WHERE i.state = 'active' GROUP BY 1, 2`,
        )
      ).rows;
      this.reset();
      for (const r of rows) this.set({ process: r.key, version: r.version }, Number(r.n));
    },
  });
  const countGauge = (name: string, help: string, sql: string) =>
    new Gauge({
      name: `${p}${name}`,
      help,
      registers: [registry],
      async collect() {
        this.set(Number((await pool.query<{ n: string }>(sql)).rows[0]?.n ?? 0));
      },
    });
  countGauge('jobs_due', 'Jobs due now and not yet run (async continuations, timers)', 'SELECT count(*) AS n FROM bpmn_job WHERE retries > 0 AND due_at <= now()');
  countGauge('jobs_waiting', 'Jobs with retries left, due now or later', 'SELECT count(*) AS n FROM bpmn_job WHERE retries > 0');
  countGauge('incidents', 'Jobs whose retries are used up (incidents)', 'SELECT count(*) AS n FROM bpmn_job WHERE retries <= 0');
  // Running jobs against the workers: a BPE whose workers are all busy for long (jobs waiting on slow
  // remote servers) runs nothing else until one is free.
  let runningJobs: () => number = () => 0;
  let jobWorkers = 0;
  new Gauge({ name: `${p}jobs_running`, help: 'Jobs running now (at most the job workers)', registers: [registry], collect() { this.set(runningJobs()); } });
  new Gauge({ name: `${p}job_workers`, help: 'Jobs the engine runs at once at most (DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE)', registers: [registry], collect() { this.set(jobWorkers); } });
  const executed = new Counter({ name: `${p}jobs_executed_total`, help: 'Jobs run and committed', registers: [registry] });
  const failed = new Counter({ name: `${p}jobs_failed_total`, help: 'Job runs that failed (each costs a retry)', registers: [registry] });
  const sent = new Counter({ name: `${p}tasks_sent_total`, help: 'Tasks created at remote FHIR servers, by server base URL', labelNames: ['remote'] as const, registers: [registry] });
  const sendFailures = new Counter({
    name: `${p}task_send_failures_total`,
    help: 'Tasks that could not be created at a remote FHIR server, by server base URL',
    labelNames: ['remote'] as const,
    registers: [registry],
  });
  const isTaskCreate = (method: string, body: Resource) => method === 'POST' && body.resourceType === 'Task';
  return {
    registry,
    jobExecuted: () => executed.inc(),
    jobFailed: () => failed.inc(),
    observeJobWorkers(running, workers) {
      runningJobs = running;
      jobWorkers = workers;
    },
    taskSends: {
      done(method, baseUrl, body, error) {
        if (!isTaskCreate(method, body)) return;
        if (error === undefined) sent.inc({ remote: baseUrl });
        else sendFailures.inc({ remote: baseUrl });
      },
    },
  };
}
