// What an engine command offers the code it runs: the embedding server's services (clock, delegates,
// hooks, definitions) and, for one process instance's runtime, the effects that reach other instances.
// Kept apart from CommandContext so that Runtime depends on this contract, not on the class that creates it.
import type { PoolClient } from 'pg';
import type { ExecutionListenerEvent, FlowNode } from '../bpmn/model.ts';
import type { Clock } from './clock.ts';
import type { DelegateExecution, DelegateRegistry, DelegateTask } from './delegate.ts';
import type { DeployedDefinition } from './definitions.ts';
import type { Job } from './instance-state.ts';
import type { UserTasksInFlight } from './user-tasks-in-flight.ts';

export interface InstanceEndInfo {
  instanceId: string;
  definitionKey: string;
  businessKey: string | null;
  outcome: string;
  /** The process instance's variables as it ends. */
  variables: Readonly<Record<string, unknown>>;
}

export interface EngineHooks {
  /** Called inside the ending command (before commit) when a process instance ends. */
  onInstanceEnd?(info: InstanceEndInfo): Promise<void> | void;
  /**
   * Built-in execution listeners of the embedding server (the BPE keeps its Task bookkeeping here, as
   * the reference does with a BPMN parse listener): called for every flow node's start and end, before
   * the listeners the BPMN declares for that node.
   */
  beforeExecutionListeners?(event: ExecutionListenerEvent, execution: DelegateExecution, node: FlowNode): Promise<void> | void;
  /** Called when a user task has been created, after the task listeners its BPMN declares for 'create'. */
  afterUserTaskCreated?(task: DelegateTask, node: FlowNode): Promise<void> | void;
}

export interface DefinitionLookup {
  byId(client: PoolClient, id: string): Promise<DeployedDefinition>;
  resolve(client: PoolClient, key: string, binding: string, version: string | null): Promise<DeployedDefinition>;
  /** The latest active version of every definition with a signal start event for this signal. */
  signalStarts(client: PoolClient, signalName: string): Promise<Array<{ definition: DeployedDefinition; startEventId: string }>>;
}

export interface EngineServices {
  clock: Clock;
  delegates: DelegateRegistry;
  beans: Record<string, unknown>;
  hooks: EngineHooks;
  definitions: DefinitionLookup;
  userTasksInFlight: UserTasksInFlight;
}

/** What a process instance's Runtime may ask of the command it runs in. */
export interface RuntimeHost {
  readonly services: EngineServices;
  /** Starts a called process (call activity) inside this command; returns the new instance's id. */
  startCalledInstance(
    key: string,
    binding: string,
    version: string | null,
    businessKey: string | null,
    variables: Record<string, unknown>,
    parent: { superExecutionId: string; superInstanceId: string },
  ): Promise<string>;
  /** Schedules a job on another instance, written when the command finishes. */
  addForeignJob(instanceId: string, job: Job): void;
  /** Cancels another instance when the command finishes. */
  cancelInstance(instanceId: string): void;
  /** Delivers a signal to every waiting instance and signal start; returns how many received it. */
  deliverSignal(name: string, variables?: Record<string, unknown>): Promise<number>;
  /** A user task was created in this command (visible to others once it commits). */
  userTaskCreated(userTaskId: string): void;
}
