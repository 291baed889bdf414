// The process engine's public face: deploy definitions, start instances, correlate messages, send
// signals, complete user tasks, run jobs, query state and history. Every call is one transaction.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { messageStartEvents, signalStartEvents } from '../bpmn/model.ts';
import { parseBpmn } from '../bpmn/parser.ts';
import { parseTimer } from '../bpmn/timer.ts';
import { systemClock, type Clock } from './clock.ts';
import { CommandContext } from './command-context.ts';
import type { EngineHooks, EngineServices } from './engine-services.ts';
import type { DelegateRegistry } from './delegate.ts';
import { checkExecutable, DeploymentError } from './deployment-check.ts';
import { EngineError, MessageCorrelationError, type DeployedDefinition } from './definitions.ts';
import { JobExecutor, type JobExecutorOptions } from './job-executor.ts';
import { migrateEngine } from './schema.ts';
import { deserializeVariable } from './variables.ts';
import { withTransaction } from '../../db/pool.ts';
import { UserTasksInFlight } from './user-tasks-in-flight.ts';

export interface ProcessEngineOptions {
  pool: pg.Pool;
  /** camunda:class name -> factory. */
  delegates?: DelegateRegistry;
  clock?: Clock;
  /** Extra names expressions may use (e.g. `${myBean.method()}`). */
  beans?: Record<string, unknown>;
  hooks?: EngineHooks;
  jobs?: JobExecutorOptions;
}

/** Runs first inside a command's transaction: the caller's own bookkeeping commits or rolls back with the command. */
export type InTransaction = (client: PoolClient) => Promise<void>;

export interface StartOptions {
  businessKey?: string | null;
  variables?: Record<string, unknown>;
  inTransaction?: InTransaction;
}

export interface MessageStartOptions extends StartOptions {
  /** Restrict to one definition (by id, or by key and optionally version tag). */
  definitionId?: string;
  key?: string;
  versionTag?: string;
}

export interface CorrelationOptions {
  businessKey?: string;
  /** Matches the variable `correlationKey` visible at the waiting execution (set local in its scope). */
  correlationKey?: string;
  /** Process-instance variables that must equal these values (e.g. alternativeBusinessKey). */
  processVariables?: Record<string, string | number | boolean>;
  /** Set on the process instance before the waiting execution continues. */
  variables?: Record<string, unknown>;
  /** Set in the local scope of the receiving execution. */
  localVariables?: Record<string, unknown>;
  inTransaction?: InTransaction;
}

export interface InstanceInfo {
  id: string;
  definitionId: string;
  definitionKey: string;
  businessKey: string | null;
  state: 'active' | 'completed' | 'cancelled';
  startTime: string;
  endTime: string | null;
  startActivityId: string | null;
  endActivityId: string | null;
  outcome: string | null;
  superInstanceId: string | null;
}

export interface ActivityHistory {
  activityId: string;
  activityType: string;
  executionId: string;
  startTime: string;
  endTime: string | null;
  outcome: string | null;
}

export interface UserTask {
  id: string;
  instanceId: string;
  activityId: string;
  name: string | null;
  formKey: string | null;
  businessKey: string | null;
  definitionKey: string;
  created: string;
}

export interface Incident {
  jobId: string;
  instanceId: string | null;
  activityId: string | null;
  type: string;
  exception: string | null;
  failedAt: string | null;
}

export interface CorrelationResult {
  instanceId: string;
  executionId: string;
  activityId: string;
}

export class ProcessEngine {
  readonly pool: pg.Pool;
  readonly services: EngineServices;
  private readonly cache = new Map<string, DeployedDefinition>();
  private readonly jobExecutor: JobExecutor;

  constructor(options: ProcessEngineOptions) {
    this.pool = options.pool;
    this.services = {
      clock: options.clock ?? systemClock,
      delegates: options.delegates ?? new Map(),
      beans: options.beans ?? {},
      hooks: options.hooks ?? {},
      definitions: {
        byId: (client, id) => this.definitionById(client, id),
        resolve: (client, key, binding, version) => this.resolveDefinition(client, key, binding, version),
        signalStarts: (client, name) => this.signalStartDefinitions(client, name),
      },
      userTasksInFlight: new UserTasksInFlight(),
    };
    this.jobExecutor = new JobExecutor(this.pool, this.services, options.jobs);
  }

  /** Creates or updates the engine's tables. */
  async migrate(): Promise<void> {
    await migrateEngine(this.pool);
  }

  // ---- definitions ----------------------------------------------------------------------

  /**
   * Deploys every executable process of a BPMN file. A process whose latest version has the same
   * version tag and the same XML is not deployed again; otherwise it gets the next version number.
   */
  async deploy(xml: string, options: { resourceName?: string } = {}): Promise<DeployedDefinition[]> {
    const models = (await parseBpmn(xml)).filter((m) => m.isExecutable);
    if (models.length === 0) throw new DeploymentError(['the file contains no executable process']);
    const problems = models.flatMap((m) => checkExecutable(m, this.services.delegates));
    if (problems.length) throw new DeploymentError(problems);
    return this.transaction(async (client) => {
      const out: DeployedDefinition[] = [];
      for (const model of models) {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`bpmn-deploy:${model.id}`]);
        const latest = (
          await client.query('SELECT version FROM bpmn_process_definition WHERE key = $1 ORDER BY version DESC LIMIT 1', [model.id])
        ).rows[0];
        // Versions side by side: only the newest definition with the same version tag counts as "the same".
        const sameTag = (
          await client.query(
            'SELECT id, bpmn_xml FROM bpmn_process_definition WHERE key = $1 AND version_tag IS NOT DISTINCT FROM $2 ORDER BY version DESC LIMIT 1',
            [model.id, model.versionTag],
          )
        ).rows[0];
        if (sameTag && sameTag.bpmn_xml === xml) {
          out.push(await this.definitionById(client, sameTag.id));
          continue;
        }
        const version = (latest?.version ?? 0) + 1;
        const id = `${model.id}:${version}:${randomUUID()}`;
        await client.query(
          `INSERT INTO bpmn_process_definition (id, key, version, version_tag, name, resource_name, bpmn_xml, signal_start_names)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, model.id, version, model.versionTag, model.name, options.resourceName ?? null, xml, signalStartEvents(model).map((s) => s.signalName)],
        );
        // Timer start events: only the newest version keeps its timers.
        await client.query("DELETE FROM bpmn_job WHERE type = 'timer-start' AND definition_id IN (SELECT id FROM bpmn_process_definition WHERE key = $1)", [model.id]);
        for (const sid of model.startEventIds) {
          const ev = model.nodes.get(sid)!.event;
          if (ev?.type !== 'timer') continue;
          const due = parseTimer(ev.timerKind, ev.source).firstDue(this.services.clock.now());
          await client.query(
            "INSERT INTO bpmn_job (id, type, definition_id, activity_id, due_at, retries, payload) VALUES ($1, 'timer-start', $2, $3, $4, 3, $5)",
            [randomUUID(), id, sid, due.toISOString(), { timerKind: ev.timerKind, timerText: ev.source, fired: 0, retryIntervalMs: 0 }],
          );
        }
        const def: DeployedDefinition = { id, key: model.id, version, versionTag: model.versionTag, name: model.name, suspended: false, model };
        this.cache.set(id, def);
        out.push(def);
      }
      return out;
    });
  }

  async listDefinitions(key?: string): Promise<Array<Omit<DeployedDefinition, 'model'>>> {
    const res = await this.pool.query(
      'SELECT id, key, version, version_tag, name, suspended FROM bpmn_process_definition WHERE $1::text IS NULL OR key = $1 ORDER BY key, version',
      [key ?? null],
    );
    return res.rows.map((r) => ({ id: r.id, key: r.key, version: r.version, versionTag: r.version_tag, name: r.name, suspended: r.suspended }));
  }

  /** The BPMN 2.0 XML a definition was deployed from (for diagrams); undefined for an unknown id. */
  async definitionXml(definitionId: string): Promise<string | undefined> {
    const res = await this.pool.query('SELECT bpmn_xml FROM bpmn_process_definition WHERE id = $1', [definitionId]);
    return res.rows[0]?.bpmn_xml;
  }

  /** Suspends one definition (by id) or every version of a key; suspended definitions start no instances. */
  async suspendDefinition(idOrKey: string): Promise<void> {
    await this.setSuspended(idOrKey, true);
  }

  async activateDefinition(idOrKey: string): Promise<void> {
    await this.setSuspended(idOrKey, false);
  }

  private async setSuspended(idOrKey: string, suspended: boolean): Promise<void> {
    const res = await this.pool.query('UPDATE bpmn_process_definition SET suspended = $2 WHERE id = $1 OR key = $1 RETURNING id', [idOrKey, suspended]);
    if (res.rowCount === 0) throw new EngineError(`no process definition ${idOrKey}`);
    for (const r of res.rows) {
      const cached = this.cache.get(r.id);
      if (cached) cached.suspended = suspended;
    }
  }

  private async definitionById(client: Pick<PoolClient, 'query'>, id: string): Promise<DeployedDefinition> {
    const row = (await client.query('SELECT id, key, version, version_tag, name, suspended, bpmn_xml FROM bpmn_process_definition WHERE id = $1', [id])).rows[0];
    if (!row) throw new EngineError(`no process definition ${id}`);
    let def = this.cache.get(id);
    if (!def) {
      const model = (await parseBpmn(row.bpmn_xml)).find((m) => m.id === row.key);
      if (!model) throw new EngineError(`definition ${id} lacks process ${row.key}`);
      def = { id, key: row.key, version: row.version, versionTag: row.version_tag, name: row.name, suspended: row.suspended, model };
      this.cache.set(id, def);
    }
    def.suspended = row.suspended;
    return def;
  }

  /** Latest version of key, or the one with the given version number / version tag. */
  private async resolveDefinition(client: Pick<PoolClient, 'query'>, key: string, binding: string, version: string | null): Promise<DeployedDefinition> {
    let row;
    if (binding === 'version' && version) {
      row = (await client.query('SELECT id FROM bpmn_process_definition WHERE key = $1 AND version = $2', [key, Number(version)])).rows[0];
    } else if (binding === 'versionTag' && version) {
      row = (await client.query('SELECT id FROM bpmn_process_definition WHERE key = $1 AND version_tag = $2 ORDER BY version DESC LIMIT 1', [key, version])).rows[0];
    } else {
      row = (await client.query('SELECT id FROM bpmn_process_definition WHERE key = $1 ORDER BY version DESC LIMIT 1', [key])).rows[0];
    }
    if (!row) throw new EngineError(`no process definition ${key}${version ? ` (${binding} ${version})` : ''}`);
    return this.definitionById(client, row.id);
  }

  private async signalStartDefinitions(client: Pick<PoolClient, 'query'>, signalName: string): Promise<Array<{ definition: DeployedDefinition; startEventId: string }>> {
    const rows = (
      await client.query(
        `SELECT id FROM (SELECT DISTINCT ON (key) id, suspended, signal_start_names FROM bpmn_process_definition ORDER BY key, version DESC) latest
         WHERE NOT suspended AND $1 = ANY(signal_start_names) ORDER BY id`,
        [signalName],
      )
    ).rows;
    const out: Array<{ definition: DeployedDefinition; startEventId: string }> = [];
    for (const r of rows) {
      const definition = await this.definitionById(client, r.id);
      for (const s of signalStartEvents(definition.model)) if (s.signalName === signalName) out.push({ definition, startEventId: s.nodeId });
    }
    return out;
  }

  // ---- starting -------------------------------------------------------------------------

  async startProcessByKey(key: string, options: StartOptions & { versionTag?: string } = {}): Promise<InstanceInfo> {
    return this.command(async (ctx) => {
      await options.inTransaction?.(ctx.client);
      const def = await this.resolveDefinition(ctx.client, key, options.versionTag ? 'versionTag' : 'latest', options.versionTag ?? null);
      return this.startIn(ctx, def, null, options);
    });
  }

  async startProcessById(definitionId: string, options: StartOptions = {}): Promise<InstanceInfo> {
    return this.command(async (ctx) => {
      await options.inTransaction?.(ctx.client);
      return this.startIn(ctx, await this.definitionById(ctx.client, definitionId), null, options);
    });
  }

  /** Starts the (latest, active) definition that has a message start event with this name. */
  async startProcessByMessage(messageName: string, options: MessageStartOptions = {}): Promise<InstanceInfo> {
    return this.command(async (ctx) => {
      await options.inTransaction?.(ctx.client);
      let candidates: DeployedDefinition[];
      if (options.definitionId) candidates = [await this.definitionById(ctx.client, options.definitionId)];
      else {
        const rows = (
          await ctx.client.query(
            `SELECT DISTINCT ON (key) id FROM bpmn_process_definition
             WHERE ($1::text IS NULL OR key = $1) AND ($2::text IS NULL OR version_tag = $2) AND NOT suspended ORDER BY key, version DESC`,
            [options.key ?? null, options.versionTag ?? null],
          )
        ).rows;
        candidates = [];
        for (const r of rows) candidates.push(await this.definitionById(ctx.client, r.id));
      }
      const matches = candidates.flatMap((d) => messageStartEvents(d.model).filter((m) => m.messageName === messageName).map((m) => ({ d, m })));
      if (matches.length === 0) throw new MessageCorrelationError(`no process definition starts with message ${messageName}`, 0);
      if (matches.length > 1) throw new MessageCorrelationError(`${matches.length} process definitions start with message ${messageName}`, matches.length);
      return this.startIn(ctx, matches[0]!.d, matches[0]!.m.nodeId, options);
    });
  }

  private async startIn(ctx: CommandContext, def: DeployedDefinition, startEventId: string | null, options: StartOptions): Promise<InstanceInfo> {
    const start = startEventId ?? def.model.startEventIds.find((id) => def.model.nodes.get(id)!.event?.type === 'none');
    if (!start) throw new EngineError(`process ${def.key} has no none start event; start it by message`);
    const runtime = ctx.create(def, options.businessKey ?? null, start);
    await runtime.start(start, options.variables ?? {});
    await ctx.flush();
    return instanceInfo(runtime.state.instance);
  }

  // ---- messages, signals, user tasks ----------------------------------------------------

  /** Delivers a message to exactly one waiting execution; none or several is a MessageCorrelationError. */
  async correlateMessage(messageName: string, options: CorrelationOptions = {}): Promise<CorrelationResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const params: unknown[] = [messageName];
      const where = ["s.event_type = 'message'", 's.event_name = $1'];
      if (options.businessKey !== undefined) {
        params.push(options.businessKey);
        where.push(
          `(s.business_key = $${params.length} OR s.instance_id IN (SELECT id FROM bpmn_process_instance WHERE alternative_business_key = $${params.length} AND state = 'active'))`,
        );
      }
      if (options.correlationKey !== undefined) {
        params.push(options.correlationKey);
        where.push(`s.correlation_key = $${params.length}`);
      }
      for (const [name, value] of Object.entries(options.processVariables ?? {})) {
        params.push(name, String(value));
        where.push(`EXISTS (SELECT 1 FROM bpmn_variable v WHERE v.execution_id = s.instance_id AND v.name = $${params.length - 1} AND v.text_value = $${params.length})`);
      }
      const found = (await this.pool.query(`SELECT s.id, s.instance_id, s.execution_id, s.activity_id FROM bpmn_event_subscription s WHERE ${where.join(' AND ')} LIMIT 2`, params)).rows;
      const describe = `message ${messageName}${options.businessKey !== undefined ? ` with business key ${options.businessKey}` : ''}${
        options.correlationKey !== undefined ? ` and correlation key ${options.correlationKey}` : ''
      }`;
      if (found.length === 0) throw new MessageCorrelationError(`no execution waits for ${describe}`, 0);
      if (found.length > 1) throw new MessageCorrelationError(`more than one execution waits for ${describe}`, found.length);
      const sub = found[0]!;
      const result = await this.command(async (ctx) => {
        const runtime = await ctx.load(sub.instance_id);
        if (!runtime || !runtime.state.subscriptions.has(sub.id)) return null; // changed meanwhile: look again
        await options.inTransaction?.(ctx.client);
        const exec = runtime.state.executions.get(sub.execution_id)!;
        for (const [k, v] of Object.entries(options.variables ?? {})) runtime.state.varsOf(runtime.state.id).set(k, v);
        const local = runtime.state.varsOf(runtime.localOwner(exec).id);
        for (const [k, v] of Object.entries(options.localVariables ?? {})) local.set(k, v);
        await runtime.trigger(sub.execution_id, sub.activity_id);
        await ctx.flush();
        return { instanceId: sub.instance_id as string, executionId: sub.execution_id as string, activityId: sub.activity_id as string };
      });
      if (result) return result;
    }
    throw new MessageCorrelationError(`message ${messageName}: the waiting execution kept changing`, 0);
  }

  /**
   * Broadcasts a signal in one transaction: every waiting signal catch and boundary event, and a new
   * instance of each definition with a signal start event for it (variables go to each receiving
   * instance). Returns how many subscriptions fired plus instances started.
   */
  async signal(signalName: string, variables: Record<string, unknown> = {}): Promise<number> {
    return this.command(async (ctx) => {
      const count = await ctx.deliverSignal(signalName, variables);
      await ctx.flush();
      return count;
    });
  }

  async completeUserTask(taskId: string, variables: Record<string, unknown> = {}, options: { inTransaction?: InTransaction } = {}): Promise<void> {
    const find = async () => (await this.pool.query('SELECT instance_id FROM bpmn_user_task WHERE id = $1', [taskId])).rows[0];
    let row = await find();
    const creator = row ? undefined : this.services.userTasksInFlight.creatorOf(taskId);
    if (creator) {
      await creator;
      row = await find();
    }
    if (!row) throw new EngineError(`no user task ${taskId}`);
    await this.command(async (ctx) => {
      const runtime = await ctx.load(row.instance_id);
      if (!runtime?.state.userTasks.has(taskId)) throw new EngineError(`user task ${taskId} was completed meanwhile`);
      await options.inTransaction?.(ctx.client);
      await runtime.completeUserTask(taskId, variables);
      await ctx.flush();
    });
  }

  async listUserTasks(filter: { instanceId?: string; definitionKey?: string } = {}): Promise<UserTask[]> {
    const res = await this.pool.query(
      `SELECT * FROM bpmn_user_task WHERE ($1::text IS NULL OR instance_id = $1) AND ($2::text IS NULL OR definition_key = $2) ORDER BY created, id`,
      [filter.instanceId ?? null, filter.definitionKey ?? null],
    );
    return res.rows.map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      activityId: r.activity_id,
      name: r.name,
      formKey: r.form_key,
      businessKey: r.business_key,
      definitionKey: r.definition_key,
      created: new Date(r.created).toISOString(),
    }));
  }

  // ---- jobs -----------------------------------------------------------------------------

  /** Runs due jobs until none is left (or maxJobs ran); returns how many ran (failed ones included). */
  async runDueJobs(maxJobs = 10_000): Promise<number> {
    return this.jobExecutor.runDueJobs(maxJobs);
  }

  /** Starts polling for due jobs in the background. */
  startJobExecutor(): void {
    this.jobExecutor.start();
  }

  async stopJobExecutor(): Promise<void> {
    await this.jobExecutor.stop();
  }

  /** Jobs the background job executor runs at once at most. */
  get jobWorkers(): number {
    return this.jobExecutor.workers;
  }

  /** Jobs the background job executor is running now (at most its workers). */
  get runningJobs(): number {
    return this.jobExecutor.runningJobs;
  }

  /** See JobExecutor.abandon: the shutdown gave up waiting for the running jobs. */
  abandonRunningJob(): void {
    this.jobExecutor.abandon();
  }

  /** Jobs whose retries are used up. */
  async listIncidents(): Promise<Incident[]> {
    const res = await this.pool.query('SELECT * FROM bpmn_job WHERE retries <= 0 ORDER BY failed_at');
    return res.rows.map((r) => ({
      jobId: r.id,
      instanceId: r.instance_id,
      activityId: r.activity_id,
      type: r.type,
      exception: r.exception,
      failedAt: r.failed_at ? new Date(r.failed_at).toISOString() : null,
    }));
  }

  /**
   * Ends an active instance as cancelled: executions, variables, subscriptions, jobs and user tasks go;
   * history stays. Returns false when the instance is not active (ended already, or never committed).
   */
  async cancelInstance(instanceId: string): Promise<boolean> {
    return this.command(async (ctx) => {
      const runtime = await ctx.load(instanceId);
      if (!runtime) return false;
      ctx.cancelInstance(instanceId);
      await ctx.flush();
      return true;
    });
  }

  /** Gives a failed job (an incident: no retries left) new retries, due now; of two at once, one wins and the other throws. */
  async retryIncident(jobId: string, retries = 1): Promise<void> {
    const res = await this.pool.query('UPDATE bpmn_job SET retries = $2, due_at = $3 WHERE id = $1 AND retries <= 0', [jobId, retries, this.services.clock.now().toISOString()]);
    if (res.rowCount === 0) throw new EngineError(`no incident of job ${jobId}`);
  }

  // ---- queries --------------------------------------------------------------------------

  async getInstance(instanceId: string): Promise<InstanceInfo | null> {
    const r = (await this.pool.query('SELECT * FROM bpmn_process_instance WHERE id = $1', [instanceId])).rows[0];
    return r ? instanceInfoFromRow(r) : null;
  }

  async listInstances(
    filter: { definitionKey?: string; definitionId?: string; businessKey?: string; alternativeBusinessKey?: string; state?: string } = {},
  ): Promise<InstanceInfo[]> {
    const res = await this.pool.query(
      `SELECT * FROM bpmn_process_instance WHERE ($1::text IS NULL OR definition_key = $1) AND ($2::text IS NULL OR business_key = $2)
       AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR definition_id = $4) AND ($5::text IS NULL OR alternative_business_key = $5)
       ORDER BY start_time, id`,
      [filter.definitionKey ?? null, filter.businessKey ?? null, filter.state ?? null, filter.definitionId ?? null, filter.alternativeBusinessKey ?? null],
    );
    return res.rows.map(instanceInfoFromRow);
  }

  /** The process instance's own variables (not those of inner scopes); for an ended instance, those it ended with. */
  async getVariables(instanceId: string): Promise<Record<string, unknown>> {
    const ended = (await this.pool.query("SELECT end_variables FROM bpmn_process_instance WHERE id = $1 AND state <> 'active'", [instanceId])).rows[0];
    if (ended) {
      const vars = (ended.end_variables ?? {}) as Record<string, { type: string; value: unknown }>;
      return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, deserializeVariable(v.type, v.value)]));
    }
    const res = await this.pool.query('SELECT name, type, value FROM bpmn_variable WHERE execution_id = $1', [instanceId]);
    return Object.fromEntries(res.rows.map((r) => [r.name, deserializeVariable(r.type, r.value)]));
  }

  /** The values of the named variables in every scope of an active instance (e.g. the Tasks it received). */
  async findVariables(instanceId: string, names: readonly string[]): Promise<Array<{ executionId: string; name: string; value: unknown }>> {
    const res = await this.pool.query('SELECT execution_id, name, type, value FROM bpmn_variable WHERE instance_id = $1 AND name = ANY($2::text[]) ORDER BY execution_id, name', [
      instanceId,
      [...names],
    ]);
    return res.rows.map((r) => ({ executionId: r.execution_id, name: r.name, value: deserializeVariable(r.type, r.value) }));
  }

  /** Where an active instance's tokens are. */
  async listExecutions(instanceId: string): Promise<Array<{ id: string; parentId: string | null; activityId: string | null; state: string }>> {
    const res = await this.pool.query('SELECT id, parent_id, data FROM bpmn_execution WHERE instance_id = $1', [instanceId]);
    return res.rows.map((r) => ({ id: r.id, parentId: r.parent_id, activityId: r.data.activityId, state: r.data.state }));
  }

  async activityHistory(instanceId: string): Promise<ActivityHistory[]> {
    const res = await this.pool.query('SELECT * FROM bpmn_history_activity WHERE instance_id = $1 ORDER BY seq', [instanceId]);
    return res.rows.map((r) => ({
      activityId: r.activity_id,
      activityType: r.activity_type,
      executionId: r.execution_id,
      startTime: new Date(r.start_time).toISOString(),
      endTime: r.end_time ? new Date(r.end_time).toISOString() : null,
      outcome: r.outcome,
    }));
  }

  // ---- plumbing -------------------------------------------------------------------------

  private transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }

  private async command<T>(fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
    let ctx: CommandContext | undefined;
    try {
      const result = await this.transaction((client) => fn((ctx = new CommandContext(client, this.services))));
      this.jobExecutor.hint();
      return result;
    } finally {
      ctx?.end();
    }
  }
}

function instanceInfo(i: { id: string; definitionId: string; definitionKey: string; businessKey: string | null; state: string; startTime: string; endTime: string | null; startActivityId: string | null; endActivityId: string | null; outcome: string | null; superInstanceId: string | null }): InstanceInfo {
  return {
    id: i.id,
    definitionId: i.definitionId,
    definitionKey: i.definitionKey,
    businessKey: i.businessKey,
    state: i.state === 'active' ? 'active' : i.state === 'cancelled' ? 'cancelled' : 'completed',
    startTime: i.startTime,
    endTime: i.endTime,
    startActivityId: i.startActivityId,
    endActivityId: i.endActivityId,
    outcome: i.outcome,
    superInstanceId: i.superInstanceId,
  };
}

function instanceInfoFromRow(r: Record<string, any>): InstanceInfo {
  return instanceInfo({
    id: r.id,
    definitionId: r.definition_id,
    definitionKey: r.definition_key,
    businessKey: r.business_key,
    state: r.state,
    startTime: new Date(r.start_time).toISOString(),
    endTime: r.end_time ? new Date(r.end_time).toISOString() : null,
    startActivityId: r.start_activity_id,
    endActivityId: r.end_activity_id,
    outcome: r.outcome,
    superInstanceId: r.super_instance_id,
  });
}
