// One engine command (start, correlate, complete a task, run a job) inside one database transaction:
// the instances it touches, plus effects on other instances that are written when it finishes.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { EngineError, type DeployedDefinition } from './definitions.ts';
import type { EngineServices, RuntimeHost } from './engine-services.ts';
import { InstanceState, type Job } from './instance-state.ts';
import { Runtime } from './runtime.ts';

export class CommandContext implements RuntimeHost {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly foreignJobs: Array<{ instanceId: string; job: Job }> = [];
  private readonly cancelled: string[] = [];
  private readonly createdUserTasks: string[] = [];
  private ended?: Promise<void>;
  private markEnded?: () => void;

  constructor(
    readonly client: PoolClient,
    readonly services: EngineServices,
  ) {}

  /** Loads and locks an active instance (waiting for the lock unless wait is false). */
  async load(instanceId: string, wait = true): Promise<Runtime | null> {
    const known = this.runtimes.get(instanceId);
    if (known) return known;
    const state = await InstanceState.load(this.client, instanceId, wait);
    if (!state) return null;
    const definition = await this.services.definitions.byId(this.client, state.instance.definitionId);
    const runtime = new Runtime(this, state, definition);
    this.runtimes.set(instanceId, runtime);
    return runtime;
  }

  create(definition: DeployedDefinition, businessKey: string | null, startActivityId: string, parent?: { superExecutionId: string; superInstanceId: string }): Runtime {
    if (definition.suspended) throw new EngineError(`process definition ${definition.key} version ${definition.version} is suspended`);
    const state = new InstanceState({
      id: randomUUID(),
      definitionId: definition.id,
      definitionKey: definition.key,
      businessKey,
      superExecutionId: parent?.superExecutionId ?? null,
      superInstanceId: parent?.superInstanceId ?? null,
      state: 'active',
      startActivityId,
      endActivityId: null,
      startTime: this.services.clock.now().toISOString(),
      endTime: null,
      outcome: null,
    });
    const runtime = new Runtime(this, state, definition);
    this.runtimes.set(state.id, runtime);
    return runtime;
  }

  async startCalledInstance(
    key: string,
    binding: string,
    version: string | null,
    businessKey: string | null,
    variables: Record<string, unknown>,
    parent: { superExecutionId: string; superInstanceId: string },
  ): Promise<string> {
    const definition = await this.services.definitions.resolve(this.client, key, binding, version);
    const start = definition.model.startEventIds.find((id) => definition.model.nodes.get(id)!.event?.type === 'none');
    if (!start) throw new EngineError(`called process ${key} has no none start event`);
    const runtime = this.create(definition, businessKey, start, parent);
    await runtime.start(start, variables);
    return runtime.state.id;
  }

  addForeignJob(instanceId: string, job: Job): void {
    this.foreignJobs.push({ instanceId, job });
  }

  cancelInstance(instanceId: string): void {
    this.cancelled.push(instanceId);
  }

  /**
   * Camunda's signal semantics: every instance waiting for the signal (catch and boundary events) and
   * every definition starting with it receive it inside this command, so a rollback of the thrower
   * means nobody received it. Receivers are collected before any of them runs; instances that wait
   * for the signal only afterwards do not get it. Returns subscriptions fired plus instances started.
   */
  async deliverSignal(name: string, variables: Record<string, unknown> = {}): Promise<number> {
    const known = [...this.runtimes.keys()];
    const stored = await this.client.query(
      `SELECT DISTINCT instance_id FROM bpmn_event_subscription
       WHERE event_type = 'signal' AND event_name = $1 AND NOT (instance_id = ANY($2::text[])) ORDER BY instance_id`,
      [name, known],
    );
    const receivers: Array<{ runtime: Runtime; subscriptionIds: string[] }> = [];
    const collect = (runtime: Runtime): void => {
      if (runtime.state.ended) return;
      const subscriptionIds = runtime.signalSubscriptions(name);
      if (subscriptionIds.length) receivers.push({ runtime, subscriptionIds });
    };
    // Instances of this command first: their waits may not be saved yet.
    for (const id of known) collect(this.runtimes.get(id)!);
    // The others in id order, so that commands delivering to the same instances lock them alike.
    for (const r of stored.rows) {
      const runtime = await this.load(r.instance_id as string);
      if (runtime) collect(runtime);
    }
    const starts = await this.services.definitions.signalStarts(this.client, name);
    let count = 0;
    for (const { runtime, subscriptionIds } of receivers) count += await runtime.receiveSignal(subscriptionIds, variables);
    for (const { definition, startEventId } of starts) {
      const runtime = this.create(definition, null, startEventId);
      await runtime.start(startEventId, variables);
      count++;
    }
    return count;
  }

  userTaskCreated(userTaskId: string): void {
    this.ended ??= new Promise((resolve) => (this.markEnded = resolve));
    this.createdUserTasks.push(userTaskId);
    this.services.userTasksInFlight.add(userTaskId, this.ended);
  }

  /** The caller's transaction ended (committed or rolled back): answers to its user tasks may go on. */
  end(): void {
    for (const id of this.createdUserTasks) this.services.userTasksInFlight.delete(id);
    this.createdUserTasks.length = 0;
    this.markEnded?.();
  }

  /** Writes every change of this command; the caller commits. */
  async flush(): Promise<void> {
    for (const r of this.runtimes.values()) await r.state.save(this.client);
    const now = this.services.clock.now().toISOString();
    for (const { instanceId, job } of this.foreignJobs) {
      await this.client.query(
        `INSERT INTO bpmn_job (id, type, instance_id, execution_id, definition_id, activity_id, due_at, retries, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [job.id, job.type, instanceId, job.executionId, job.definitionId, job.activityId, job.dueAt, job.retries, job.payload],
      );
    }
    for (const id of this.cancelled) {
      await this.client.query(
        `WITH i AS (UPDATE bpmn_process_instance SET state = 'cancelled', end_time = $2, outcome = 'cancelled' WHERE id = $1 AND state = 'active' RETURNING id),
          a AS (DELETE FROM bpmn_execution WHERE instance_id = $1), b AS (DELETE FROM bpmn_variable WHERE instance_id = $1),
          c AS (DELETE FROM bpmn_event_subscription WHERE instance_id = $1), d AS (DELETE FROM bpmn_job WHERE instance_id = $1),
          e AS (DELETE FROM bpmn_user_task WHERE instance_id = $1)
         SELECT 1`,
        [id, now],
      );
    }
  }
}
