// Turns a BPMN 2.0 file (Camunda Modeler output with Camunda 7 extensions) into ProcessModels.
// Anything the engine cannot execute is reported here, naming the element, so deployment fails
// instead of an instance getting stuck later.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpmnModdle, type ModdleElement } from 'bpmn-moddle';
import type {
  EventDefinition,
  ExecutionListenerEvent,
  FieldInjection,
  FlowNode,
  Implementation,
  IoParameter,
  ListenerDefinition,
  MultiInstanceDefinition,
  NodeKind,
  ProcessModel,
  SequenceFlow,
  TaskListenerEvent,
  TimerKind,
  VariableMapping,
} from './model.ts';

export class BpmnParseError extends Error {
  constructor(readonly problems: string[]) {
    super(`BPMN not executable: ${problems.join('; ')}`);
    this.name = 'BpmnParseError';
  }
}

const require = createRequire(import.meta.url);
const camundaDescriptor: Record<string, unknown> = JSON.parse(
  readFileSync(require.resolve('camunda-bpmn-moddle/resources/camunda.json'), 'utf8'),
);

const KIND_BY_TYPE: Record<string, NodeKind> = {
  'bpmn:StartEvent': 'startEvent',
  'bpmn:EndEvent': 'endEvent',
  'bpmn:IntermediateThrowEvent': 'intermediateThrowEvent',
  'bpmn:IntermediateCatchEvent': 'intermediateCatchEvent',
  'bpmn:BoundaryEvent': 'boundaryEvent',
  'bpmn:ExclusiveGateway': 'exclusiveGateway',
  'bpmn:ParallelGateway': 'parallelGateway',
  'bpmn:InclusiveGateway': 'inclusiveGateway',
  'bpmn:EventBasedGateway': 'eventBasedGateway',
  'bpmn:ServiceTask': 'serviceTask',
  'bpmn:SendTask': 'sendTask',
  'bpmn:ReceiveTask': 'receiveTask',
  'bpmn:UserTask': 'userTask',
  'bpmn:Task': 'task',
  'bpmn:ManualTask': 'task',
  'bpmn:SubProcess': 'subProcess',
  'bpmn:CallActivity': 'callActivity',
};

// Elements that carry no behaviour and are simply skipped.
const IGNORED_TYPES = new Set(['bpmn:TextAnnotation', 'bpmn:Association', 'bpmn:Group', 'bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference']);

/** Which event definitions each event kind may have (besides none). */
const ALLOWED_EVENTS: Partial<Record<NodeKind, ReadonlySet<EventDefinition['type']>>> = {
  startEvent: new Set(['none', 'message', 'timer', 'signal', 'error']),
  endEvent: new Set(['none', 'message', 'error', 'terminate', 'signal']),
  intermediateThrowEvent: new Set(['none', 'message', 'signal']),
  intermediateCatchEvent: new Set(['message', 'timer', 'signal']),
  boundaryEvent: new Set(['error', 'timer', 'message', 'signal']),
};

export async function parseBpmn(xml: string): Promise<ProcessModel[]> {
  const moddle = new BpmnModdle({ camunda: camundaDescriptor });
  let root: ModdleElement;
  try {
    const result = await moddle.fromXML(xml);
    root = result.rootElement;
    const serious = result.warnings.filter((w) => !/unknown attribute|unparsable content .* detected/.test(w.message));
    if (serious.length) throw new BpmnParseError(serious.map((w) => w.message));
  } catch (e) {
    if (e instanceof BpmnParseError) throw e;
    throw new BpmnParseError([`invalid BPMN XML: ${(e as Error).message}`]);
  }
  if (root.$type !== 'bpmn:Definitions') throw new BpmnParseError([`root element is ${root.$type}, expected bpmn:definitions`]);
  const processes = ((root.rootElements ?? []) as ModdleElement[]).filter((e) => e.$type === 'bpmn:Process');
  if (processes.length === 0) throw new BpmnParseError(['the file contains no process']);
  const problems: string[] = [];
  const models = processes.map((p) => new ProcessBuilder(p, problems).build());
  if (problems.length) throw new BpmnParseError(problems);
  return models;
}

class ProcessBuilder {
  private readonly nodes = new Map<string, FlowNode>();
  private readonly flows = new Map<string, SequenceFlow>();
  private readonly processEventSubProcesses: string[] = [];

  constructor(
    private readonly process: ModdleElement,
    private readonly problems: string[],
  ) {}

  build(): ProcessModel {
    const p = this.process;
    if (!p.id) this.problems.push('a process has no id');
    this.collect(p, p.id as string);
    this.link();
    for (const n of this.nodes.values()) this.validate(n);
    const startEventIds = [...this.nodes.values()].filter((n) => n.kind === 'startEvent' && n.scopeId === p.id).map((n) => n.id);
    if (startEventIds.length === 0) this.problems.push(`process ${p.id} has no start event`);
    return {
      id: p.id as string,
      name: (p.name as string | undefined) ?? null,
      versionTag: (p.versionTag as string | undefined) ?? null,
      isExecutable: p.isExecutable === true,
      nodes: this.nodes,
      flows: this.flows,
      startEventIds,
      eventSubProcesses: this.processEventSubProcesses,
      executionListeners: executionListeners(p),
      reachable: this.reachability(),
    };
  }

  private collect(container: ModdleElement, scopeId: string): void {
    for (const el of (container.flowElements ?? []) as ModdleElement[]) {
      const label = `${el.$type.replace('bpmn:', '')} '${el.id}'`;
      if (el.$type === 'bpmn:SequenceFlow') {
        this.flows.set(el.id as string, {
          id: el.id as string,
          sourceId: el.sourceRef?.id,
          targetId: el.targetRef?.id,
          condition: conditionText(el.conditionExpression),
          listeners: executionListeners(el).filter((l) => l.event === 'take'),
        });
        continue;
      }
      if (IGNORED_TYPES.has(el.$type)) continue;
      const kind = KIND_BY_TYPE[el.$type];
      if (!kind) {
        this.problems.push(`${label} is not supported by this engine`);
        continue;
      }
      const n = this.toNode(el, kind, scopeId, label);
      this.nodes.set(n.id, n);
      if (kind === 'subProcess') {
        this.collect(el, n.id);
        const starts = ((el.flowElements ?? []) as ModdleElement[]).filter((c) => c.$type === 'bpmn:StartEvent');
        if (n.triggeredByEvent) {
          (scopeId === this.process.id ? this.processEventSubProcesses : this.nodes.get(scopeId)!.eventSubProcesses).push(n.id);
          // Only error-triggered event sub-processes are implemented; say so instead of never firing.
          if (starts.length !== 1) this.problems.push(`event sub-process '${n.id}' must contain exactly one start event`);
          else if ((starts[0]!.eventDefinitions ?? [])[0]?.$type !== 'bpmn:ErrorEventDefinition') {
            this.problems.push(`event sub-process '${n.id}': only error start events are supported by this engine`);
          }
        } else if (starts.length !== 1) this.problems.push(`${label} must contain exactly one start event`);
        if (starts.length === 1) n.startEventId = starts[0]!.id as string;
      }
    }
    for (const a of (container.artifacts ?? []) as ModdleElement[]) {
      if (!IGNORED_TYPES.has(a.$type)) this.problems.push(`${a.$type} '${a.id}' is not supported by this engine`);
    }
  }

  private toNode(el: ModdleElement, kind: NodeKind, scopeId: string, label: string): FlowNode {
    const event = eventDefinition(el, label, this.problems);
    const ext = extensionValues(el);
    const retry = ext.find((v) => v.$type === 'camunda:FailedJobRetryTimeCycle');
    const io = ext.find((v) => v.$type === 'camunda:InputOutput');
    const loop = el.loopCharacteristics as ModdleElement | undefined;
    let multiInstance: MultiInstanceDefinition | null = null;
    if (loop) {
      if (loop.$type !== 'bpmn:MultiInstanceLoopCharacteristics') this.problems.push(`${label}: standard loops are not supported by this engine`);
      else {
        const loopRetry = extensionValues(loop).find((v) => v.$type === 'camunda:FailedJobRetryTimeCycle');
        multiInstance = {
          sequential: loop.isSequential === true,
          collection: (loop.collection as string | undefined) ?? null,
          elementVariable: (loop.elementVariable as string | undefined) ?? null,
          loopCardinality: conditionText(loop.loopCardinality),
          completionCondition: conditionText(loop.completionCondition),
          asyncBefore: loop.asyncBefore === true || loop.async === true,
          asyncAfter: loop.asyncAfter === true,
          retryTimeCycle: (loopRetry?.body as string | undefined)?.trim() || null,
        };
        if (!multiInstance.collection && !multiInstance.loopCardinality) {
          this.problems.push(`${label}: multi-instance needs camunda:collection or loopCardinality`);
        }
      }
    }
    // camunda:class on message throw/end events sits on the messageEventDefinition (ServiceTaskLike).
    const messageDef = ((el.eventDefinitions ?? []) as ModdleElement[]).find((d) => d.$type === 'bpmn:MessageEventDefinition');
    let implementation = implementationOf(el);
    if (!implementation && messageDef && (kind === 'intermediateThrowEvent' || kind === 'endEvent')) implementation = implementationOf(messageDef);
    const calledBinding = (el.calledElementBinding as string | undefined) ?? 'latest';
    return {
      id: el.id as string,
      name: (el.name as string | undefined) ?? null,
      kind,
      scopeId,
      incoming: [],
      outgoing: [],
      defaultFlow: (el.default?.id as string | undefined) ?? null,
      event,
      implementation,
      asyncBefore: el.asyncBefore === true || el.async === true,
      asyncAfter: el.asyncAfter === true,
      exclusive: el.exclusive !== false,
      retryTimeCycle: (retry?.body as string | undefined)?.trim() || null,
      executionListeners: executionListeners(el),
      taskListeners: ext
        .filter((v) => v.$type === 'camunda:TaskListener')
        .map((v) => ({ event: (v.event ?? 'create') as TaskListenerEvent, implementation: implementationOf(v) ?? { fields: [] } })),
      inputs: ioParameters(io?.inputParameters, label, this.problems),
      outputs: ioParameters(io?.outputParameters, label, this.problems),
      multiInstance,
      formKey: (el.formKey as string | undefined) ?? null,
      messageName: kind === 'receiveTask' ? ((el.messageRef?.name as string | undefined) ?? null) : null,
      attachedTo: (el.attachedToRef?.id as string | undefined) ?? null,
      // Boundary events interrupt unless cancelActivity="false"; start events unless isInterrupting="false".
      cancelActivity: kind === 'startEvent' ? el.isInterrupting !== false : el.cancelActivity !== false,
      boundaryEvents: [],
      startEventId: null,
      triggeredByEvent: kind === 'subProcess' && el.triggeredByEvent === true,
      eventSubProcesses: [],
      calledElement: (el.calledElement as string | undefined) ?? null,
      calledElementBinding: (['latest', 'version', 'versionTag', 'deployment'].includes(calledBinding) ? calledBinding : 'latest') as FlowNode['calledElementBinding'],
      calledElementVersion: ((calledBinding === 'versionTag' ? el.calledElementVersionTag : el.calledElementVersion) as string | undefined) ?? null,
      callIn: variableMappings(ext, 'camunda:In'),
      callOut: variableMappings(ext, 'camunda:Out'),
      businessKeyExpression: (ext.find((v) => v.$type === 'camunda:In' && v.businessKey)?.businessKey as string | undefined) ?? null,
    };
  }

  private link(): void {
    for (const f of this.flows.values()) {
      const source = this.nodes.get(f.sourceId);
      const target = this.nodes.get(f.targetId);
      if (!source || !target) {
        this.problems.push(`sequence flow '${f.id}' connects unknown or unsupported elements`);
        continue;
      }
      if (source.scopeId !== target.scopeId) this.problems.push(`sequence flow '${f.id}' crosses a sub-process boundary`);
      source.outgoing.push(f.id);
      target.incoming.push(f.id);
    }
    for (const n of this.nodes.values()) {
      if (n.kind !== 'boundaryEvent') continue;
      const host = n.attachedTo ? this.nodes.get(n.attachedTo) : undefined;
      if (!host) this.problems.push(`boundary event '${n.id}' is not attached to a supported activity`);
      else host.boundaryEvents.push(n.id);
    }
  }

  private validate(n: FlowNode): void {
    const label = `${n.kind} '${n.id}'`;
    const allowed = ALLOWED_EVENTS[n.kind];
    if (allowed && n.event && !allowed.has(n.event.type)) this.problems.push(`${label}: ${n.event.type} event definition is not supported here`);
    if (n.kind === 'boundaryEvent' && (!n.event || n.event.type === 'none')) this.problems.push(`${label} needs an event definition`);
    if (n.kind === 'intermediateCatchEvent' && (!n.event || n.event.type === 'none')) this.problems.push(`${label} needs an event definition`);
    if (n.kind === 'boundaryEvent' && n.event?.type === 'error' && !n.cancelActivity) this.problems.push(`${label}: error boundary events always interrupt`);
    if (n.kind === 'startEvent') {
      const scope = this.nodes.get(n.scopeId);
      if (scope?.triggeredByEvent) {
        if (n.event?.type === 'error' && !n.cancelActivity) this.problems.push(`${label}: error start events always interrupt`);
      } else if (scope && n.event && n.event.type !== 'none') {
        this.problems.push(`${label}: a sub-process start event must be a none start event`);
      } else if (!scope && n.event?.type === 'error') {
        this.problems.push(`${label}: error start events belong in an event sub-process`);
      }
    }
    if (n.triggeredByEvent && (n.incoming.length > 0 || n.outgoing.length > 0)) this.problems.push(`event sub-process '${n.id}' must not have sequence flows`);
    if ((n.kind === 'serviceTask' || n.kind === 'sendTask') && !n.implementation) this.problems.push(`${label} has no camunda:class, camunda:expression or camunda:delegateExpression`);
    if (n.implementation && (n.implementation as Implementation & { external?: boolean }).external) this.problems.push(`${label}: external tasks are not supported`);
    if (n.kind === 'receiveTask' && !n.messageName) this.problems.push(`${label} has no message`);
    if (n.kind === 'callActivity' && !n.calledElement) this.problems.push(`${label} has no calledElement`);
    if (n.kind === 'eventBasedGateway') {
      for (const fid of n.outgoing) {
        const t = this.nodes.get(this.flows.get(fid)!.targetId);
        const ok = t && ((t.kind === 'intermediateCatchEvent' && t.event) || t.kind === 'receiveTask');
        if (!ok) this.problems.push(`${label}: every outgoing flow must lead to an intermediate catch event or receive task`);
      }
    }
    if ((n.kind === 'exclusiveGateway' || n.kind === 'inclusiveGateway') && n.outgoing.length > 1) {
      for (const fid of n.outgoing) {
        const f = this.flows.get(fid)!;
        if (fid !== n.defaultFlow && !f.condition) this.problems.push(`${label}: outgoing flow '${fid}' needs a condition or must be the default flow`);
      }
    }
    if (n.kind !== 'endEvent' && n.kind !== 'boundaryEvent' && n.outgoing.length === 0 && n.kind !== 'startEvent') {
      // Camunda treats a node without outgoing flows as an implicit end; we do the same.
    }
    if (n.kind !== 'startEvent' && n.kind !== 'boundaryEvent' && !n.triggeredByEvent && n.incoming.length === 0) this.problems.push(`${label} has no incoming sequence flow`);
  }

  /** For each node, the nodes reachable from it via sequence flows (same scope; boundary events included). */
  private reachability(): Map<string, Set<string>> {
    const successors = new Map<string, string[]>();
    for (const n of this.nodes.values()) {
      const next = n.outgoing.map((f) => this.flows.get(f)!.targetId);
      next.push(...n.boundaryEvents);
      successors.set(n.id, next);
    }
    const out = new Map<string, Set<string>>();
    for (const id of this.nodes.keys()) {
      const seen = new Set<string>();
      const stack = [...(successors.get(id) ?? [])];
      while (stack.length) {
        const x = stack.pop()!;
        if (seen.has(x)) continue;
        seen.add(x);
        stack.push(...(successors.get(x) ?? []));
      }
      out.set(id, seen);
    }
    return out;
  }
}

function extensionValues(el: ModdleElement): ModdleElement[] {
  return ((el.extensionElements?.values ?? []) as ModdleElement[]).filter(Boolean);
}

function conditionText(expr: ModdleElement | undefined): string | null {
  const body = expr?.body as string | undefined;
  return body && body.trim() ? body.trim() : null;
}

function fieldsOf(el: ModdleElement): FieldInjection[] {
  const own = extensionValues(el).filter((v) => v.$type === 'camunda:Field');
  const nested = ((el.fields ?? []) as ModdleElement[]).filter((v) => v.$type === 'camunda:Field');
  return [...own, ...nested].map((f) => {
    const expression = f.expression as string | undefined;
    if (expression !== undefined) return { name: f.name as string, source: expression.trim(), isExpression: true };
    return { name: f.name as string, source: ((f.string ?? f.stringValue ?? '') as string).trim(), isExpression: false };
  });
}

function implementationOf(el: ModdleElement): Implementation | null {
  const className = el.class as string | undefined;
  const expression = el.expression as string | undefined;
  const delegateExpression = el.delegateExpression as string | undefined;
  if (el.type === 'external') return { fields: [], external: true } as Implementation;
  if (!className && !expression && !delegateExpression) return null;
  return {
    ...(className ? { className } : {}),
    ...(expression ? { expression } : {}),
    ...(delegateExpression ? { delegateExpression } : {}),
    fields: fieldsOf(el),
  };
}

function executionListeners(el: ModdleElement): ListenerDefinition<ExecutionListenerEvent>[] {
  return extensionValues(el)
    .filter((v) => v.$type === 'camunda:ExecutionListener')
    .map((v) => ({ event: (v.event ?? 'start') as ExecutionListenerEvent, implementation: implementationOf(v) ?? { fields: [] } }));
}

function ioParameters(params: ModdleElement[] | undefined, label: string, problems: string[]): IoParameter[] {
  return (params ?? []).map((p) => {
    if (p.definition) problems.push(`${label}: input/output parameter '${p.name}' uses ${p.definition.$type}, only text values are supported`);
    const value = p.value as string | undefined;
    return { name: p.name as string, source: value === undefined ? null : value.trim() };
  });
}

function variableMappings(ext: ModdleElement[], type: string): VariableMapping[] {
  return ext
    .filter((v) => v.$type === type && !v.businessKey)
    .map((v) => ({
      source: (v.source as string | undefined) ?? null,
      sourceExpression: (v.sourceExpression as string | undefined) ?? null,
      target: (v.target as string | undefined) ?? null,
      allVariables: v.variables === 'all',
      local: v.local === true,
    }));
}

function eventDefinition(el: ModdleElement, label: string, problems: string[]): EventDefinition | null {
  if (!el.$type.endsWith('Event')) return null;
  const defs = (el.eventDefinitions ?? []) as ModdleElement[];
  if (defs.length > 1) {
    problems.push(`${label}: multiple event definitions are not supported`);
    return null;
  }
  const d = defs[0];
  if (!d) return { type: 'none' };
  switch (d.$type) {
    case 'bpmn:MessageEventDefinition': {
      const name = d.messageRef?.name as string | undefined;
      // Throwing message events in DSF name the message in a camunda:field instead.
      if (!name && !el.$type.includes('Throw') && el.$type !== 'bpmn:EndEvent') problems.push(`${label}: message event without a named message`);
      return { type: 'message', messageName: name ?? '' };
    }
    case 'bpmn:TimerEventDefinition': {
      for (const kind of ['timeDate', 'timeDuration', 'timeCycle'] as TimerKind[]) {
        const text = conditionText(d[kind]);
        if (text) return { type: 'timer', timerKind: kind, source: text };
      }
      problems.push(`${label}: timer without timeDate, timeDuration or timeCycle`);
      return null;
    }
    case 'bpmn:SignalEventDefinition': {
      const name = d.signalRef?.name as string | undefined;
      if (!name) problems.push(`${label}: signal event without a named signal`);
      return { type: 'signal', signalName: name ?? '' };
    }
    case 'bpmn:ErrorEventDefinition':
      return {
        type: 'error',
        errorCode: (d.errorRef?.errorCode as string | undefined) ?? null,
        errorName: (d.errorRef?.name as string | undefined) ?? null,
        errorMessage: (d.errorRef?.errorMessage as string | undefined) ?? null,
        errorCodeVariable: (d.errorCodeVariable as string | undefined) || null,
        errorMessageVariable: (d.errorMessageVariable as string | undefined) || null,
      };
    case 'bpmn:TerminateEventDefinition':
      return { type: 'terminate' };
    default:
      problems.push(`${label}: ${d.$type.replace('bpmn:', '')} is not supported by this engine`);
      return null;
  }
}
