// Runs due jobs (async continuations, timers, call returns; signal jobs only from older versions) on up
// to `workers` connections at once. A job is taken with FOR UPDATE SKIP LOCKED and deleted in the same
// transaction that runs it, so two engines on one database never run a job twice; a job of an instance
// runs only while it holds that instance's row lock (taken with SKIP LOCKED), so two jobs of one instance
// never run at the same time, here or in another engine. A failure rolls the step back and costs one
// retry; a job with no retries left is an incident until someone retries it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseTimer } from '../bpmn/timer.ts';
import { CommandContext } from './command-context.ts';
import type { EngineServices } from './engine-services.ts';

/** Jobs run at once when the embedder sets no number (the reference's DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE default). */
export const DEFAULT_JOB_WORKERS = 4;

export interface JobExecutorOptions {
  /** Pause between polls when no job is due (ms). */
  pollIntervalMs?: number;
  /**
   * Jobs the background executor runs at once, each on its own pooled connection and transaction
   * (default DEFAULT_JOB_WORKERS). The pool needs this many connections plus those of everything else.
   */
  workers?: number;
  /**
   * Called when a job fails, after its transaction rolled back and before its retries are counted
   * down (awaited: the embedding server may end the instance first).
   */
  onJobFailure?(jobId: string, error: unknown, instanceId: string | null): unknown;
  /** Called after a job's transaction committed (metrics). */
  onJobExecuted?(jobId: string): void;
}

/**
 * What became of a taken job. 'later': not run, left for the next round (its instance was busy
 * elsewhere, a deadlock, an abandoned run); 'again': rolled back, to be taken again at once; a number:
 * that many non-exclusive jobs ran together.
 */
type Outcome = 'ran' | 'failed' | 'later' | 'again' | number;

/** A due job locked in its own open transaction, not yet run. */
interface Taken {
  client: pg.PoolClient;
  job: Record<string, any>;
  now: Date;
}

const DEADLOCK_DETECTED = '40P01';

export class JobExecutor {
  private running = false;
  private loop: Promise<void> | null = null;
  /** Ends the dispatcher's current pause (set while it pauses). */
  private wake: (() => void) | null = null;
  /** The dispatcher pauses until a worker is free (not for the poll interval). */
  private waitingForWorker = false;
  /** A command or job committed since the last look: look again before sleeping. */
  private hinted = false;
  /** stop() was called: finish the running jobs, take no further one (graceful shutdown). */
  private stopRequested = false;
  /** The shutdown gave up on the running jobs and cut their connections: their errors are no failures of the jobs. */
  private abandoned = false;
  /** Non-exclusive jobs whose joint run failed: each runs alone next, so a failure costs only its own retry. */
  private readonly alone = new Set<string>();
  /**
   * Jobs this executor's workers hold and their instances, until a worker is completely done with one
   * (its failure bookkeeping included): never taken again meanwhile, so workers do not queue up behind
   * one instance's lock.
   */
  private readonly heldJobs = new Set<string>();
  private readonly heldInstances = new Set<string>();
  /** The workers running a job now. */
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly services: EngineServices,
    private readonly options: JobExecutorOptions = {},
  ) {}

  /** Jobs the background executor runs at once. */
  get workers(): number {
    return Math.max(1, Math.floor(this.options.workers ?? DEFAULT_JOB_WORKERS));
  }

  /** Jobs the background executor is running now. */
  get runningJobs(): number {
    return this.active.size;
  }

  /** Runs due jobs one after the other on the calling task (tests, tools); returns how many ran (failed ones included). */
  async runDueJobs(maxJobs: number): Promise<number> {
    const skip: string[] = [];
    let count = 0;
    while (count < maxJobs && !this.stopRequested) {
      const taken = await this.take(skip);
      if (!taken) break;
      const outcome = await this.run(taken, skip);
      if (outcome === 'ran' || outcome === 'failed') count++;
      else if (typeof outcome === 'number') count += outcome;
    }
    return count;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopRequested = false;
    this.abandoned = false;
    this.loop = this.dispatch();
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
   * The running jobs are given up (the shutdown timeout passed; their connections are about to be cut):
   * whatever error they end with, their transactions are rolled back and they run again after the
   * restart with their retries untouched.
   */
  abandon(): void {
    this.abandoned = true;
  }

  /**
   * Takes jobs one at a time (one query when none is due) and hands each to a worker of its own, while
   * fewer than `workers` run. Sleeps for the poll interval only when nothing was due and nothing
   * committed meanwhile.
   */
  private async dispatch(): Promise<void> {
    // Jobs found but not runnable now (their instance is locked by another engine or a command): not
    // taken again until the next round, which starts when no due job is left.
    const skip: string[] = [];
    while (this.running) {
      if (this.active.size >= this.workers) {
        await this.pause();
        continue;
      }
      this.hinted = false;
      let taken: Taken | null;
      try {
        taken = await this.take(skip);
      } catch (e) {
        await Promise.resolve(this.options.onJobFailure?.('(acquisition)', e, null)).catch(() => {});
        if (this.running) await this.pause(this.options.pollIntervalMs ?? 200);
        continue;
      }
      if (taken) {
        this.launch(taken, skip);
        continue;
      }
      skip.length = 0;
      if (this.running && !this.hinted) await this.pause(this.options.pollIntervalMs ?? 200);
    }
    await Promise.all(this.active);
  }

  private launch(taken: Taken, skip: string[]): void {
    const worker = this.run(taken, skip).then(
      (outcome) => {
        // Something committed or an instance came free: its due jobs are looked for at once.
        if (outcome !== 'later') this.hint();
      },
      // Only the failure bookkeeping can throw here (the pool ended under it): the job keeps its retries.
      async (e) => {
        await Promise.resolve(this.options.onJobFailure?.('(bookkeeping)', e, taken.job.instance_id ?? null)).catch(() => {});
      },
    );
    const done: Promise<void> = worker.finally(() => {
      this.active.delete(done);
      if (this.waitingForWorker) this.wake?.();
    });
    this.active.add(done);
  }

  /** Waits for a wake-up (a hint, a worker done, stop()) or, with ms, at most that long. */
  private pause(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.waitingForWorker = false;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.waitingForWorker = ms === undefined;
      this.wake = done;
    });
  }

  /**
   * Locks the first due job that no worker here holds, and none of whose instance, in a transaction of
   * its own connection; null (connection released) when there is none or stop() was called.
   */
  private async take(skip: string[]): Promise<Taken | null> {
    const now = this.services.clock.now();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const job = (
        await client.query(
          `SELECT * FROM bpmn_job WHERE retries > 0 AND due_at <= $1 AND NOT (id = ANY($2::text[]))
             AND (instance_id IS NULL OR NOT (instance_id = ANY($3::text[])))
           ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [now.toISOString(), [...skip, ...this.heldJobs], [...this.heldInstances]],
        )
      ).rows[0];
      if (job && !this.stopRequested) {
        this.heldJobs.add(job.id);
        if (job.instance_id) this.heldInstances.add(job.instance_id);
        return { client, job, now };
      }
      await client.query('ROLLBACK');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      throw e;
    }
    client.release();
    return null;
  }

  /** Runs a taken job to its commit, or rolls it back and counts the failure; frees the job and its connection. */
  private async run({ client, job, now }: Taken, skip: string[]): Promise<Outcome> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      client.release();
    };
    const ctx = new CommandContext(client, this.services);
    try {
      try {
        return await this.execute(ctx, job, now, skip);
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        ctx.end();
        // Before the failure hook, which may run a command of its own (ending the instance): with every
        // worker failing at once, they would otherwise all wait for a connection none of them gives back.
        release();
        if (this.abandoned) return 'later';
        if ((e as { code?: string }).code === DEADLOCK_DETECTED) {
          // Two commands locked instances in opposite order (e.g. signals between them); PostgreSQL
          // chose this one. Nothing of it was committed and the job did not fail: run it again later.
          skip.push(job.id);
          return 'later';
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
      }
    } finally {
      ctx.end();
      release();
      // After the job is in the skip list (if it went there), so the dispatcher cannot take it in between.
      this.heldJobs.delete(job.id);
      if (job.instance_id) this.heldInstances.delete(job.instance_id);
    }
  }

  /** The job's work in its transaction, committed here; throws (transaction open) when the job fails. */
  private async execute(ctx: CommandContext, job: Record<string, any>, now: Date, skip: string[]): Promise<Outcome> {
    const client = ctx.client;
    if (job.instance_id) {
      // Never wait for an instance lock while holding a job lock: that could deadlock with a command
      // that holds the instance and deletes this job. Locked means another engine's job or a command
      // has the instance now: its jobs wait for the next round.
      const runtime = await ctx.load(job.instance_id, false);
      if (!runtime) {
        await client.query('ROLLBACK');
        skip.push(job.id);
        return 'later';
      }
      const together = await this.nonExclusivePartners(client, job, now, skip);
      if (together.length > 0) {
        try {
          await runtime.executeJobsTogether([job.id, ...together]);
        } catch {
          // Nothing committed; no retry counted: each runs alone next and fails (or not) on its own.
          await client.query('ROLLBACK');
          for (const id of [job.id, ...together]) this.alone.add(id);
          return 'again';
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
