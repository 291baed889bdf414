// Runs due jobs (async continuations, timers, call returns; signal jobs only from older versions).
// A job is taken with FOR UPDATE SKIP LOCKED and deleted in the same transaction that runs it, so two
// engines on one database never run a job twice. A failure rolls the step back and costs one retry; a job with no
// retries left is an incident until someone retries it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseTimer } from '../bpmn/timer.ts';
import { CommandContext } from './command-context.ts';
import type { EngineServices } from './engine-services.ts';

export interface JobExecutorOptions {
  /** Pause between polls when no job is due (ms). */
  pollIntervalMs?: number;
  /** Jobs run per poll before looking again. */
  batchSize?: number;
  /**
   * Called when a job fails, after its transaction rolled back and before its retries are counted
   * down (awaited: the embedding server may end the instance first).
   */
  onJobFailure?(jobId: string, error: unknown, instanceId: string | null): unknown;
  /** Called after a job's transaction committed (metrics). */
  onJobExecuted?(jobId: string): void;
}

/** A number: that many non-exclusive jobs ran together. */
type Outcome = 'none' | 'ran' | 'failed' | 'skipped' | number;

const DEADLOCK_DETECTED = '40P01';

export class JobExecutor {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A command committed jobs since the last look: look again before sleeping. */
  private hinted = false;
  /** stop() was called: finish the running job, take no further one (graceful shutdown). */
  private stopRequested = false;
  /** The shutdown gave up on the running job and cut its connection: its error is no failure of the job. */
  private abandoned = false;
  /** Non-exclusive jobs whose joint run failed: each runs alone next, so a failure costs only its own retry. */
  private readonly alone = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly services: EngineServices,
    private readonly options: JobExecutorOptions = {},
  ) {}

  async runDueJobs(maxJobs: number): Promise<number> {
    const skip: string[] = [];
    let count = 0;
    while (count < maxJobs && !this.stopRequested) {
      const outcome = await this.runOne(skip);
      if (outcome === 'none') break;
      if (outcome !== 'skipped') count += outcome === 'ran' || outcome === 'failed' ? 1 : outcome;
    }
    return count;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopRequested = false;
    this.abandoned = false;
    this.loop = (async () => {
      while (this.running) {
        let ran = 0;
        this.hinted = false;
        try {
          ran = await this.runDueJobs(this.options.batchSize ?? 50);
        } catch (e) {
          await Promise.resolve(this.options.onJobFailure?.('(acquisition)', e, null)).catch(() => {});
        }
        if (ran === 0 && this.running && !this.hinted) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, this.options.pollIntervalMs ?? 200);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = null;
        }
      }
    })();
  }

  /**
   * A command has committed and may have created due jobs (an async continuation, a multi-instance
   * loop): look now instead of after the poll interval, as Camunda's job executor is hinted about new
   * jobs. Cheap when there is nothing to do: one query for due jobs.
   */
  hint(): void {
    if (!this.running) return;
    this.hinted = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopRequested = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.stopRequested = false;
  }

  /**
   * The running job is given up (the shutdown timeout passed; its connection is about to be cut):
   * whatever error it ends with, its transaction is rolled back and it runs again after the restart
   * with its retries untouched.
   */
  abandon(): void {
    this.abandoned = true;
  }

  private async runOne(skip: string[]): Promise<Outcome> {
    const now = this.services.clock.now();
    const client = await this.pool.connect();
    let job: Record<string, any> | undefined;
    try {
      await client.query('BEGIN');
      job = (
        await client.query(
          `SELECT * FROM bpmn_job WHERE retries > 0 AND due_at <= $1 AND NOT (id = ANY($2::text[]))
           ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [now.toISOString(), skip],
        )
      ).rows[0];
      if (!job) {
        await client.query('COMMIT');
        return 'none';
      }
      const ctx = new CommandContext(client, this.services);
      if (job.instance_id) {
        // Never wait for an instance lock while holding a job lock: that could deadlock with a
        // command that holds the instance and deletes this job.
        const runtime = await ctx.load(job.instance_id, false);
        if (!runtime) {
          await client.query('ROLLBACK');
          skip.push(job.id);
          return 'skipped';
        }
        const together = await this.nonExclusivePartners(client, job, now, skip);
        if (together.length > 0) {
          try {
            await runtime.executeJobsTogether([job.id, ...together]);
          } catch (e) {
            // Nothing committed; no retry counted: each runs alone next and fails (or not) on its own.
            await client.query('ROLLBACK');
            for (const id of [job.id, ...together]) this.alone.add(id);
            return 'skipped';
          }
          await ctx.flush();
          await client.query('COMMIT');
          for (const id of [job.id, ...together]) this.options.onJobExecuted?.(id);
          return together.length + 1;
        }
        this.alone.delete(job.id);
        await runtime.executeJob(job.id);
      } else if (job.type === 'timer-start') {
        await this.startByTimer(ctx, job);
      } else {
        await client.query('DELETE FROM bpmn_job WHERE id = $1', [job.id]);
      }
      await ctx.flush();
      await client.query('COMMIT');
      this.options.onJobExecuted?.(job.id);
      return 'ran';
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      if (this.abandoned) return 'skipped';
      if (!job) throw e;
      if ((e as { code?: string }).code === DEADLOCK_DETECTED) {
        // Two commands locked instances in opposite order (e.g. signals between them); PostgreSQL
        // chose this one. Nothing of it was committed and the job did not fail: run it again later.
        skip.push(job.id);
        return 'skipped';
      }
      await Promise.resolve(this.options.onJobFailure?.(job.id, e, job.instance_id ?? null)).catch(() => {});
      const interval = retryWaitMs(job.payload, Number(job.retries));
      const text = e instanceof Error ? `${e.message}\n${e.stack ?? ''}`.slice(0, 4000) : String(e);
      await this.pool.query('UPDATE bpmn_job SET retries = retries - 1, exception = $2, failed_at = $3, due_at = $4 WHERE id = $1', [
        job.id,
        text,
        now.toISOString(),
        new Date(now.getTime() + interval).toISOString(),
      ]);
      return 'failed';
    } finally {
      client.release();
    }
  }

  /**
   * The instance's other due async jobs that, like this one, are camunda:exclusive="false" (locked
   * here; the instance lock is held already): they run beside it. None for an exclusive job or one
   * that must run alone.
   */
  private async nonExclusivePartners(client: pg.PoolClient, job: Record<string, any>, now: Date, skip: string[]): Promise<string[]> {
    if (job.type !== 'async' || job.payload?.exclusive !== false || this.alone.has(job.id)) return [];
    const rows = (
      await client.query(
        `SELECT id FROM bpmn_job WHERE instance_id = $1 AND id <> $2 AND type = 'async' AND retries > 0 AND due_at <= $3
           AND payload->'exclusive' = 'false'::jsonb AND NOT (id = ANY($4::text[]))
         ORDER BY due_at, id FOR UPDATE SKIP LOCKED`,
        [job.instance_id, job.id, now.toISOString(), skip],
      )
    ).rows as Array<{ id: string }>;
    return rows.map((r) => r.id).filter((id) => !this.alone.has(id));
  }

  private async startByTimer(ctx: CommandContext, job: Record<string, any>): Promise<void> {
    const def = await this.services.definitions.byId(ctx.client, job.definition_id);
    if (!def.suspended) {
      const runtime = ctx.create(def, null, job.activity_id);
      await runtime.start(job.activity_id, {});
    }
    const fired = Number(job.payload.fired ?? 0) + 1;
    const timer = parseTimer(job.payload.timerKind, job.payload.timerText);
    const next = job.payload.timerKind === 'timeCycle' ? timer.nextDue(new Date(job.due_at), fired) : null;
    await ctx.client.query('DELETE FROM bpmn_job WHERE id = $1', [job.id]);
    if (next) {
      await ctx.client.query(
        "INSERT INTO bpmn_job (id, type, definition_id, activity_id, due_at, retries, payload) VALUES ($1, 'timer-start', $2, $3, $4, 3, $5)",
        [randomUUID(), job.definition_id, job.activity_id, next.toISOString(), { ...job.payload, fired }],
      );
    }
  }
}

/**
 * The wait before the next attempt of a job that failed with `retriesLeft` (counted before this failure):
 * with a comma list of waits (`PT10S,PT1M,PT5M`) the n-th failure waits the n-th one (the last one
 * after that), else the single interval.
 */
export function retryWaitMs(payload: Record<string, unknown> | null | undefined, retriesLeft: number): number {
  const waits = payload?.retryIntervalsMs;
  if (Array.isArray(waits) && waits.length > 0) {
    const failure = Math.max(0, waits.length - retriesLeft);
    return Number(waits[Math.min(failure, waits.length - 1)]);
  }
  return Number(payload?.retryIntervalMs ?? 0);
}
