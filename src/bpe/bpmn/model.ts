// The executable process model: what the parser makes of a BPMN file and what the engine walks.
// Plain data (no moddle objects), so a deployed definition can be cached and shared.

export type NodeKind =
  | 'startEvent'
  | 'endEvent'
  | 'intermediateThrowEvent'
  | 'intermediateCatchEvent'
  | 'boundaryEvent'
  | 'exclusiveGateway'
  | 'parallelGateway'
  | 'inclusiveGateway'
  | 'eventBasedGateway'
  | 'serviceTask'
  | 'sendTask'
  | 'receiveTask'
  | 'userTask'
  | 'task'
  | 'subProcess'
  | 'callActivity';

export type TimerKind = 'timeDate' | 'timeDuration' | 'timeCycle';

export type EventDefinition =
  | { type: 'none' }
  | { type: 'message'; messageName: string }
  | { type: 'timer'; timerKind: TimerKind; source: string }
  | { type: 'signal'; signalName: string }
  | {
      type: 'error';
      errorCode: string | null;
      errorName: string | null;
      /** camunda:errorMessage of the referenced bpmn:error (what an error end event throws). */
      errorMessage: string | null;
      /** Catching events: camunda:errorCodeVariable / camunda:errorMessageVariable. */
      errorCodeVariable: string | null;
      errorMessageVariable: string | null;
    }
  | { type: 'terminate' };

/** camunda:field: a literal string or an expression evaluated when the delegate runs. */
export interface FieldInjection {
  name: string;
  source: string;
  isExpression: boolean;
}

/** Where behaviour comes from: camunda:class, camunda:expression or camunda:delegateExpression. */
export interface Implementation {
  className?: string;
  expression?: string;
  delegateExpression?: string;
  fields: FieldInjection[];
}

export type ExecutionListenerEvent = 'start' | 'end' | 'take';
export type TaskListenerEvent = 'create' | 'assignment' | 'complete' | 'delete' | 'update' | 'timeout';

export interface ListenerDefinition<E extends string> {
  event: E;
  implementation: Implementation;
}

/** camunda:inputParameter / outputParameter with a text value (literal or expression). */
export interface IoParameter {
  name: string;
  source: string | null;
}

export interface MultiInstanceDefinition {
  sequential: boolean;
  collection: string | null;
  elementVariable: string | null;
  loopCardinality: string | null;
  completionCondition: string | null;
  /** camunda:asyncBefore / asyncAfter on the loop characteristics: a job before / after each inner instance. */
  asyncBefore: boolean;
  asyncAfter: boolean;
  /** camunda:failedJobRetryTimeCycle of the loop characteristics (for the inner instances' jobs). */
  retryTimeCycle: string | null;
}

/** camunda:in / camunda:out on a call activity. */
export interface VariableMapping {
  source: string | null;
  sourceExpression: string | null;
  target: string | null;
  allVariables: boolean;
  local: boolean;
}

export interface FlowNode {
  id: string;
  name: string | null;
  kind: NodeKind;
  /** The process or sub-process that contains this node. */
  scopeId: string;
  incoming: string[];
  outgoing: string[];
  defaultFlow: string | null;
  event: EventDefinition | null;
  implementation: Implementation | null;
  asyncBefore: boolean;
  asyncAfter: boolean;
  exclusive: boolean;
  retryTimeCycle: string | null;
  executionListeners: ListenerDefinition<ExecutionListenerEvent>[];
  taskListeners: ListenerDefinition<TaskListenerEvent>[];
  inputs: IoParameter[];
  outputs: IoParameter[];
  multiInstance: MultiInstanceDefinition | null;
  formKey: string | null;
  /** For receive tasks: the message they wait for. */
  messageName: string | null;
  /** Boundary events: the activity they are attached to, and whether they cancel it. */
  attachedTo: string | null;
  cancelActivity: boolean;
  boundaryEvents: string[];
  /** Sub-processes: their start event. */
  startEventId: string | null;
  /** An event sub-process (triggeredByEvent): started by its start event's trigger, never by a flow. */
  triggeredByEvent: boolean;
  /** Sub-processes: the event sub-processes directly inside. */
  eventSubProcesses: string[];
  calledElement: string | null;
  calledElementBinding: 'latest' | 'version' | 'versionTag' | 'deployment';
  calledElementVersion: string | null;
  callIn: VariableMapping[];
  callOut: VariableMapping[];
  businessKeyExpression: string | null;
}

export interface SequenceFlow {
  id: string;
  sourceId: string;
  targetId: string;
  condition: string | null;
  listeners: ListenerDefinition<ExecutionListenerEvent>[];
}

export interface ProcessModel {
  id: string;
  name: string | null;
  versionTag: string | null;
  isExecutable: boolean;
  nodes: ReadonlyMap<string, FlowNode>;
  flows: ReadonlyMap<string, SequenceFlow>;
  /** Start events directly in the process (not in sub-processes). */
  startEventIds: string[];
  /** Event sub-processes directly in the process. */
  eventSubProcesses: string[];
  executionListeners: ListenerDefinition<ExecutionListenerEvent>[];
  /** For the inclusive join: which nodes each node can reach within its scope. */
  reachable: ReadonlyMap<string, ReadonlySet<string>>;
}

export function node(model: ProcessModel, id: string): FlowNode {
  const n = model.nodes.get(id);
  if (!n) throw new Error(`process ${model.id} has no element ${id}`);
  return n;
}

export function flow(model: ProcessModel, id: string): SequenceFlow {
  const f = model.flows.get(id);
  if (!f) throw new Error(`process ${model.id} has no sequence flow ${id}`);
  return f;
}

export function isActivity(kind: NodeKind): boolean {
  return (
    kind === 'serviceTask' ||
    kind === 'sendTask' ||
    kind === 'receiveTask' ||
    kind === 'userTask' ||
    kind === 'task' ||
    kind === 'subProcess' ||
    kind === 'callActivity'
  );
}

/** Signal start events of a process, by signal name. */
export function signalStartEvents(model: ProcessModel): Array<{ nodeId: string; signalName: string }> {
  const out: Array<{ nodeId: string; signalName: string }> = [];
  for (const id of model.startEventIds) {
    const ev = node(model, id).event;
    if (ev?.type === 'signal') out.push({ nodeId: id, signalName: ev.signalName });
  }
  return out;
}

/** Message start events of a process, by message name. */
export function messageStartEvents(model: ProcessModel): Array<{ nodeId: string; messageName: string }> {
  const out: Array<{ nodeId: string; messageName: string }> = [];
  for (const id of model.startEventIds) {
    const ev = node(model, id).event;
    if (ev?.type === 'message') out.push({ nodeId: id, messageName: ev.messageName });
  }
  return out;
}
