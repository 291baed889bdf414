// One process instance's runtime state, loaded under a row lock, changed in memory by a command and
// written back as a diff in a single statement. Commands therefore commit all-or-nothing: a crash
// or a failing delegate leaves the database at the previous wait state.
import type { PoolClient } from 'pg';
import { deserializeVariable, serializeVariable } from './variables.ts';

export type ExecutionState =
  | 'ready' // about to run its activity (transient within a command)
  | 'waiting' // at a wait state: catch event, receive/user task, event-based gateway
  | 'scope' // a sub-process (or the process) waiting for its children
  | 'joining' // arrived at a joining gateway
  | 'async' // waiting for an async continuation job
  | 'call' // waiting for a called process instance
  | 'mi-body'; // a multi-instance activity waiting for its instances

export interface MultiInstanceState {
  total: number;
  completed: number;
  active: number;
  nextIndex: number;
  items: unknown[] | null;
}

export interface Execution {
  id: string;
  parentId: string | null;
  activityId: string | null;
  state: ExecutionState;
  /** Owns variables of its own (process, sub-process, multi-instance instance, activity with inputs). */
  isScope: boolean;
  /** Creation order: decides which tokens a join consumes first. */
  seq: number;
  /** The sequence flow it arrived by (joins). */
  viaFlow?: string | null;
  miInstance?: boolean;
  mi?: MultiInstanceState;
  /** Set while waiting at an event-based gateway. */
  eventGateway?: string;
  asyncPhase?: 'before' | 'after';
  history?: { id: string; startTime: string; type: string };
  calledInstanceId?: string;
  /** Node id the execution owns variables for (cleared when it leaves that node). */
  scopeFor?: string | null;
}

export interface Subscription {
  id: string;
  executionId: string;
  activityId: string;
  eventType: 'message' | 'signal';
  eventName: string;
}

export interface Job {
  id: string;
  type: 'async' | 'timer' | 'timer-start' | 'call-return' | 'signal';
  executionId: string | null;
  activityId: string | null;
  definitionId: string | null;
  dueAt: string;
  retries: number;
  payload: Record<string, unknown>;
  exception: string | null;
}

export interface UserTaskRecord {
  id: string;
  executionId: string;
  activityId: string;
  name: string | null;
  formKey: string | null;
  created: string;
}

export interface InstanceRow {
  id: string;
  definitionId: string;
  definitionKey: string;
  businessKey: string | null;
  superExecutionId: string | null;
  superInstanceId: string | null;
  state: 'active' | 'completed' | 'terminated' | 'cancelled';
  startActivityId: string | null;
  endActivityId: string | null;
  startTime: string;
  endTime: string | null;
  outcome: string | null;
}

export interface HistoryActivity {
  id: string;
  executionId: string;
  activityId: string;
  activityType: string;
  startTime: string;
  endTime: string | null;
  outcome: string | null;
}

export class InstanceState {
  readonly executions = new Map<string, Execution>();
  readonly variables = new Map<string, Map<string, unknown>>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly jobs = new Map<string, Job>();
  readonly userTasks = new Map<string, UserTaskRecord>();
  readonly history = new Map<string, HistoryActivity>();
  private readonly original = new Map<string, string>();
  private instanceOriginal: string | null = null;
  seqCounter = 0;

  constructor(public instance: InstanceRow) {}

  get id(): string {
    return this.instance.id;
  }

  get ended(): boolean {
    return this.instance.state !== 'active';
  }

  static async load(client: PoolClient, instanceId: string, wait = true): Promise<InstanceState | null> {
    // Lock first, read second, as two statements of one round trip: under READ COMMITTED each
    // statement has its own snapshot, so after waiting for the lock the read sees what the holder
    // committed. (A single SELECT ... FOR UPDATE would read the child rows as they were before the wait.)
    const id = client.escapeLiteral(instanceId);
    const results = (await client.query(
      `SELECT id FROM bpmn_process_instance WHERE id = ${id} AND state = 'active' FOR UPDATE ${wait ? '' : 'SKIP LOCKED'};
       SELECT i.*,
        (SELECT coalesce(json_agg(json_build_object('id', e.id, 'parent', e.parent_id, 'data', e.data)), '[]') FROM bpmn_execution e WHERE e.instance_id = i.id) AS executions,
        (SELECT coalesce(json_agg(json_build_object('e', v.execution_id, 'n', v.name, 't', v.type, 'v', v.value)), '[]') FROM bpmn_variable v WHERE v.instance_id = i.id) AS variables,
        (SELECT coalesce(json_agg(s), '[]') FROM bpmn_event_subscription s WHERE s.instance_id = i.id) AS subscriptions,
        (SELECT coalesce(json_agg(j), '[]') FROM bpmn_job j WHERE j.instance_id = i.id) AS jobs,
        (SELECT coalesce(json_agg(u), '[]') FROM bpmn_user_task u WHERE u.instance_id = i.id) AS user_tasks
       FROM bpmn_process_instance i WHERE i.id = ${id} AND i.state = 'active'`,
    )) as unknown as Array<{ rows: Array<Record<string, any>> }>;
    if (results[0]!.rows.length === 0) return null;
    const res = results[1]!;
    const r = res.rows[0];
    if (!r) return null;
    const state = new InstanceState({
      id: r.id,
      definitionId: r.definition_id,
      definitionKey: r.definition_key,
      businessKey: r.business_key,
      superExecutionId: r.super_execution_id,
      superInstanceId: r.super_instance_id,
      state: r.state,
      startActivityId: r.start_activity_id,
      endActivityId: r.end_activity_id,
      startTime: new Date(r.start_time).toISOString(),
      endTime: r.end_time ? new Date(r.end_time).toISOString() : null,
      outcome: r.outcome,
    });
    for (const e of r.executions as Array<{ id: string; parent: string | null; data: Omit<Execution, 'id' | 'parentId'> }>) {
      const exec: Execution = { ...e.data, id: e.id, parentId: e.parent };
      state.executions.set(e.id, exec);
      state.seqCounter = Math.max(state.seqCounter, exec.seq);
    }
    for (const v of r.variables as Array<{ e: string; n: string; t: string; v: unknown }>) {
      state.varsOf(v.e).set(v.n, deserializeVariable(v.t, v.v));
    }
    for (const s of r.subscriptions as Array<Record<string, string>>) {
      state.subscriptions.set(s.id!, { id: s.id!, executionId: s.execution_id!, activityId: s.activity_id!, eventType: s.event_type as 'message', eventName: s.event_name! });
    }
    for (const j of r.jobs as Array<Record<string, unknown>>) {
      state.jobs.set(j.id as string, {
        id: j.id as string,
        type: j.type as Job['type'],
        executionId: j.execution_id as string | null,
        activityId: j.activity_id as string | null,
        definitionId: j.definition_id as string | null,
        dueAt: new Date(j.due_at as string).toISOString(),
        retries: j.retries as number,
        payload: j.payload as Record<string, unknown>,
        exception: j.exception as string | null,
      });
    }
    for (const u of r.user_tasks as Array<Record<string, string>>) {
      state.userTasks.set(u.id!, {
        id: u.id!,
        executionId: u.execution_id!,
        activityId: u.activity_id!,
        name: u.name ?? null,
        formKey: u.form_key ?? null,
        created: new Date(u.created!).toISOString(),
      });
    }
    state.snapshot();
    return state;
  }

  varsOf(executionId: string): Map<string, unknown> {
    let m = this.variables.get(executionId);
    if (!m) {
      m = new Map();
      this.variables.set(executionId, m);
    }
    return m;
  }

  nextSeq(): number {
    return ++this.seqCounter;
  }

  childrenOf(executionId: string): Execution[] {
    const out: Execution[] = [];
    for (const e of this.executions.values()) if (e.parentId === executionId) out.push(e);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Rows as they will be written, keyed by table and id; also used to detect what changed. */
  private rows(): Map<string, { table: string; row: Record<string, unknown> }> {
    const out = new Map<string, { table: string; row: Record<string, unknown> }>();
    for (const e of this.executions.values()) {
      const { id, parentId, ...data } = e;
      out.set(`e:${id}`, { table: 'e', row: { id, instance_id: this.id, parent_id: parentId, data } });
    }
    for (const [execId, vars] of this.variables) {
      if (!this.executions.has(execId)) continue;
      for (const [name, value] of vars) {
        const s = serializeVariable(name, value);
        out.set(`v:${execId}\u0000${name}`, {
          table: 'v',
          row: { instance_id: this.id, execution_id: execId, name, type: s.type, value: s.value, text_value: s.textValue },
        });
      }
    }
    for (const s of this.subscriptions.values()) {
      out.set(`s:${s.id}`, {
        table: 's',
        row: {
          id: s.id,
          instance_id: this.id,
          execution_id: s.executionId,
          activity_id: s.activityId,
          event_type: s.eventType,
          event_name: s.eventName,
          business_key: this.instance.businessKey,
          correlation_key: textOrNull(this.visibleVariable(s.executionId, 'correlationKey')),
        },
      });
    }
    for (const j of this.jobs.values()) {
      out.set(`j:${j.id}`, {
        table: 'j',
        row: {
          id: j.id,
          type: j.type,
          instance_id: this.id,
          execution_id: j.executionId,
          definition_id: j.definitionId,
          activity_id: j.activityId,
          due_at: j.dueAt,
          retries: j.retries,
          payload: j.payload,
          exception: j.exception,
        },
      });
    }
    for (const u of this.userTasks.values()) {
      out.set(`u:${u.id}`, {
        table: 'u',
        row: {
          id: u.id,
          instance_id: this.id,
          execution_id: u.executionId,
          activity_id: u.activityId,
          name: u.name,
          form_key: u.formKey,
          business_key: this.instance.businessKey,
          definition_key: this.instance.definitionKey,
          created: u.created,
        },
      });
    }
    for (const h of this.history.values()) {
      out.set(`h:${h.id}`, {
        table: 'h',
        row: {
          id: h.id,
          instance_id: this.id,
          execution_id: h.executionId,
          activity_id: h.activityId,
          activity_type: h.activityType,
          start_time: h.startTime,
          end_time: h.endTime,
          outcome: h.outcome,
        },
      });
    }
    return out;
  }

  /** Walks up from an execution to the first scope that holds the variable. */
  visibleVariable(executionId: string, name: string): unknown {
    let cur: string | null = executionId;
    while (cur) {
      const vars = this.variables.get(cur);
      if (vars?.has(name)) return vars.get(name);
      cur = this.executions.get(cur)?.parentId ?? null;
    }
    return undefined;
  }

  private snapshot(): void {
    this.original.clear();
    for (const [key, { row }] of this.rows()) if (!key.startsWith('h:')) this.original.set(key, JSON.stringify(row));
    this.instanceOriginal = JSON.stringify(this.instance);
    this.history.clear();
  }

  async save(client: PoolClient): Promise<void> {
    const current = this.rows();
    const upserts: Record<string, Record<string, unknown>[]> = { e: [], v: [], s: [], j: [], u: [], h: [] };
    const deletes: Record<string, string[]> = { e: [], v: [], s: [], j: [], u: [] };
    if (!this.ended) {
      for (const [key, { table, row }] of current) {
        const json = JSON.stringify(row);
        if (this.original.get(key) !== json) upserts[table]!.push(row);
      }
      for (const key of this.original.keys()) {
        if (!current.has(key)) deletes[key[0]!]!.push(key.slice(2));
      }
    } else {
      for (const [key, { row }] of current) if (key.startsWith('h:')) upserts.h!.push(row);
    }
    const parts: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const inst = this.instance;
    if (JSON.stringify(inst) !== this.instanceOriginal) {
      const alt = this.variables.get(inst.id)?.get('alternativeBusinessKey');
      const endVariables = this.ended
        ? Object.fromEntries([...(this.variables.get(inst.id) ?? [])].map(([k, v]) => {
            const s = serializeVariable(k, v);
            return [k, { type: s.type, value: s.value }];
          }))
        : null;
      parts.push(`INSERT INTO bpmn_process_instance (id, definition_id, definition_key, business_key, alternative_business_key, super_execution_id,
          super_instance_id, state, start_activity_id, end_activity_id, start_time, end_time, outcome, end_variables)
        VALUES (${p(inst.id)}, ${p(inst.definitionId)}, ${p(inst.definitionKey)}, ${p(inst.businessKey)}, ${p(textOrNull(alt))}, ${p(inst.superExecutionId)},
          ${p(inst.superInstanceId)}, ${p(inst.state)}, ${p(inst.startActivityId)}, ${p(inst.endActivityId)}, ${p(inst.startTime)}, ${p(inst.endTime)}, ${p(inst.outcome)},
          ${p(endVariables === null ? null : JSON.stringify(endVariables))}::jsonb)
        ON CONFLICT (id) DO UPDATE SET business_key = EXCLUDED.business_key, alternative_business_key = EXCLUDED.alternative_business_key,
          state = EXCLUDED.state, end_activity_id = EXCLUDED.end_activity_id, end_time = EXCLUDED.end_time, outcome = EXCLUDED.outcome,
          end_variables = EXCLUDED.end_variables`);
    } else {
      // The alternative business key is a variable; keep the indexed copy on the instance current.
      const altKey = `v:${inst.id}\u0000alternativeBusinessKey`;
      const before = this.original.get(altKey);
      const after = current.get(altKey);
      if (JSON.stringify(after?.row) !== before) {
        parts.push(`UPDATE bpmn_process_instance SET alternative_business_key = ${p(textOrNull(this.variables.get(inst.id)?.get('alternativeBusinessKey')))} WHERE id = ${p(inst.id)}`);
      }
    }
    if (this.ended) {
      const id = p(inst.id);
      for (const t of ['bpmn_execution', 'bpmn_variable', 'bpmn_event_subscription', 'bpmn_job', 'bpmn_user_task']) parts.push(`DELETE FROM ${t} WHERE instance_id = ${id}`);
    } else {
      if (deletes.e!.length) parts.push(`DELETE FROM bpmn_execution WHERE id = ANY(${p(deletes.e)}::text[])`);
      if (deletes.s!.length) parts.push(`DELETE FROM bpmn_event_subscription WHERE id = ANY(${p(deletes.s)}::text[])`);
      if (deletes.j!.length) parts.push(`DELETE FROM bpmn_job WHERE id = ANY(${p(deletes.j)}::text[])`);
      if (deletes.u!.length) parts.push(`DELETE FROM bpmn_user_task WHERE id = ANY(${p(deletes.u)}::text[])`);
      if (deletes.v!.length) {
        const ids = deletes.v!.map((k) => k.split('\u0000'));
        parts.push(`DELETE FROM bpmn_variable WHERE (execution_id, name) IN (SELECT * FROM unnest(${p(ids.map((x) => x[0]))}::text[], ${p(ids.map((x) => x[1]))}::text[]))`);
      }
      if (upserts.e!.length) {
        parts.push(`INSERT INTO bpmn_execution (id, instance_id, parent_id, data)
          SELECT id, instance_id, parent_id, data FROM jsonb_to_recordset(${p(JSON.stringify(upserts.e))}::jsonb) AS x(id text, instance_id text, parent_id text, data jsonb)
          ON CONFLICT (id) DO UPDATE SET parent_id = EXCLUDED.parent_id, data = EXCLUDED.data`);
      }
      if (upserts.v!.length) {
        parts.push(`INSERT INTO bpmn_variable (instance_id, execution_id, name, type, value, text_value)
          SELECT instance_id, execution_id, name, type, value, text_value FROM jsonb_to_recordset(${p(JSON.stringify(upserts.v))}::jsonb)
            AS x(instance_id text, execution_id text, name text, type text, value jsonb, text_value text)
          ON CONFLICT (execution_id, name) DO UPDATE SET type = EXCLUDED.type, value = EXCLUDED.value, text_value = EXCLUDED.text_value`);
      }
      if (upserts.s!.length) {
        parts.push(`INSERT INTO bpmn_event_subscription (id, instance_id, execution_id, activity_id, event_type, event_name, business_key, correlation_key)
          SELECT * FROM jsonb_to_recordset(${p(JSON.stringify(upserts.s))}::jsonb)
            AS x(id text, instance_id text, execution_id text, activity_id text, event_type text, event_name text, business_key text, correlation_key text)
          ON CONFLICT (id) DO UPDATE SET execution_id = EXCLUDED.execution_id, business_key = EXCLUDED.business_key, correlation_key = EXCLUDED.correlation_key`);
      }
      if (upserts.j!.length) {
        parts.push(`INSERT INTO bpmn_job (id, type, instance_id, execution_id, definition_id, activity_id, due_at, retries, payload, exception)
          SELECT * FROM jsonb_to_recordset(${p(JSON.stringify(upserts.j))}::jsonb)
            AS x(id text, type text, instance_id text, execution_id text, definition_id text, activity_id text, due_at timestamptz, retries int, payload jsonb, exception text)
          ON CONFLICT (id) DO UPDATE SET execution_id = EXCLUDED.execution_id, due_at = EXCLUDED.due_at, retries = EXCLUDED.retries, payload = EXCLUDED.payload, exception = EXCLUDED.exception`);
      }
      if (upserts.u!.length) {
        parts.push(`INSERT INTO bpmn_user_task (id, instance_id, execution_id, activity_id, name, form_key, business_key, definition_key, created)
          SELECT * FROM jsonb_to_recordset(${p(JSON.stringify(upserts.u))}::jsonb)
            AS x(id text, instance_id text, execution_id text, activity_id text, name text, form_key text, business_key text, definition_key text, created timestamptz)
          ON CONFLICT (id) DO UPDATE SET execution_id = EXCLUDED.execution_id`);
      }
    }
    if (upserts.h!.length) {
      parts.push(`INSERT INTO bpmn_history_activity (id, instance_id, execution_id, activity_id, activity_type, start_time, end_time, outcome)
        SELECT * FROM jsonb_to_recordset(${p(JSON.stringify(upserts.h))}::jsonb)
          AS x(id text, instance_id text, execution_id text, activity_id text, activity_type text, start_time timestamptz, end_time timestamptz, outcome text)
        ON CONFLICT (id) DO UPDATE SET end_time = EXCLUDED.end_time, outcome = EXCLUDED.outcome`);
    }
    if (parts.length === 0) return;
    // One round trip: every change as a data-modifying CTE of a single statement.
    const sql = parts.length === 1 ? parts[0]! : `WITH ${parts.map((s, i) => `w${i} AS (${s})`).join(',\n')} SELECT 1`;
    await client.query(sql, params);
    if (!this.ended) this.snapshot();
  }
}

function textOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}
