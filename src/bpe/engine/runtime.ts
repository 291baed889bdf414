// Token semantics: moves executions through one instance's model until every token rests at a wait
// state. Works on InstanceState in memory; the CommandContext saves all touched instances at the end.
import { randomUUID } from 'node:crypto';
import { compileExpression, type ExpressionScope } from '../bpmn/expression.ts';
import { flow, isActivity, node as nodeOf, type FlowNode, type Implementation, type ProcessModel } from '../bpmn/model.ts';
import { parseRetryCycle, parseTimer } from '../bpmn/timer.ts';
import { BpmnError, type DelegateExecution, type DelegateInstance, type DelegateTask } from './delegate.ts';
import { EngineError, type DeployedDefinition } from './definitions.ts';
import type { RuntimeHost } from './engine-services.ts';
import { ExecutionFacade } from './execution-facade.ts';
import type { ExecutionScope } from './execution-scope.ts';
import type { Execution, InstanceState, Job } from './instance-state.ts';

interface EnterOptions {
  skipAsync?: boolean;
  miInner?: boolean;
  triggered?: boolean;
}

const DEFAULT_RETRIES = 3;

export class Runtime implements ExecutionScope {
  private readonly agenda: Array<() => Promise<void>> = [];
  private running = false;
  readonly model: ProcessModel;

  constructor(
    readonly ctx: RuntimeHost,
    readonly state: InstanceState,
    readonly definition: DeployedDefinition,
  ) {
    this.model = definition.model;
  }

  private now(): string {
    return this.ctx.services.clock.now().toISOString();
  }

  private schedule(op: () => Promise<void>): void {
    this.agenda.push(op);
  }

  /** Runs queued operations until every token rests. */
  async run(): Promise<void> {
    // Re-entered when a signal this instance threw comes back to it through another instance:
    // the loop already running drains the agenda.
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        while (this.agenda.length) {
          const op = this.agenda.shift()!;
          await op();
        }
        if (this.state.ended || !(await this.fireInclusiveJoins())) return;
      }
    } finally {
      this.running = false;
    }
  }

  // ---- starting and ending --------------------------------------------------------------

  async start(startEventId: string, variables: Record<string, unknown>): Promise<void> {
    const root: Execution = { id: this.state.id, parentId: null, activityId: null, state: 'scope', isScope: true, seq: this.state.nextSeq() };
    this.state.executions.set(root.id, root);
    const vars = this.state.varsOf(root.id);
    for (const [k, v] of Object.entries(variables)) vars.set(k, v);
    await this.runListeners(root, this.model.executionListeners, 'start', null);
    const token = this.newExecution(root.id, startEventId);
    this.schedule(() => this.enter(token, startEventId, {}));
    await this.run();
  }

  private async endInstance(endActivityId: string | null, outcome: string): Promise<void> {
    const root = this.state.executions.get(this.state.id)!;
    await this.runListeners(root, this.model.executionListeners, 'end', null);
    const inst = this.state.instance;
    const variables = Object.fromEntries(this.state.varsOf(root.id));
    inst.state = 'completed';
    inst.endTime = this.now();
    inst.endActivityId = endActivityId;
    inst.outcome = outcome;
    this.agenda.length = 0;
    if (inst.superExecutionId && inst.superInstanceId) {
      this.ctx.addForeignJob(inst.superInstanceId, {
        id: randomUUID(),
        type: 'call-return',
        executionId: inst.superExecutionId,
        activityId: null,
        definitionId: null,
        dueAt: this.now(),
        retries: DEFAULT_RETRIES,
        payload: { variables: toJson(variables), calledInstanceId: inst.id },
        exception: null,
      });
    }
    await this.ctx.services.hooks.onInstanceEnd?.({ instanceId: inst.id, definitionKey: inst.definitionKey, businessKey: inst.businessKey, outcome, variables });
  }

  // ---- entering and leaving nodes -------------------------------------------------------

  private newExecution(parentId: string, activityId: string | null, viaFlow: string | null = null): Execution {
    const e: Execution = { id: randomUUID(), parentId, activityId, state: 'ready', isScope: false, seq: this.state.nextSeq(), viaFlow };
    this.state.executions.set(e.id, e);
    return e;
  }

  async enter(exec: Execution, nodeId: string, opts: EnterOptions): Promise<void> {
    if (!this.state.executions.has(exec.id)) return; // cancelled while this step was queued
    const n = nodeOf(this.model, nodeId);
    exec.activityId = nodeId;
    exec.state = 'ready';
    // Camunda: the activity's async flags belong to its multi-instance body, the loop
    // characteristics' flags (and retry cycle) to each inner instance.
    const asyncBefore = opts.miInner ? n.multiInstance!.asyncBefore : n.asyncBefore;
    if (asyncBefore && !opts.skipAsync && !opts.triggered) {
      return this.continueInJob(exec, n, 'before', { miInner: opts.miInner === true }, opts.miInner ? n.multiInstance!.retryTimeCycle : n.retryTimeCycle);
    }
    if (n.multiInstance && !opts.miInner) return this.startMultiInstance(exec, n);
    if (n.kind === 'subProcess' || n.kind === 'callActivity' || n.inputs.length > 0) {
      exec.isScope = true;
      exec.scopeFor = n.id;
    }
    for (const input of n.inputs) this.state.varsOf(exec.id).set(input.name, input.source === null ? null : this.evaluate(input.source, exec));
    this.historyStart(exec, n);
    await this.runListeners(exec, n.executionListeners, 'start', n);
    if (!opts.miInner && isActivity(n.kind)) this.createBoundaryEvents(exec, n);
    await this.execute(exec, n, opts);
  }

  private async execute(exec: Execution, n: FlowNode, opts: EnterOptions): Promise<void> {
    switch (n.kind) {
      case 'startEvent':
      case 'task':
      case 'boundaryEvent':
        return this.leave(exec, n);
      case 'endEvent':
        return this.executeEndEvent(exec, n);
      case 'intermediateThrowEvent':
        if (n.event?.type === 'message' && n.implementation) {
          if (!(await this.invokeDelegate(exec, n, n.implementation))) return;
        }
        if (n.event?.type === 'signal') await this.throwSignal(n.event.signalName);
        return this.leave(exec, n);
      case 'intermediateCatchEvent':
      case 'receiveTask':
        if (opts.triggered) return this.leave(exec, n);
        this.waitFor(exec, n, n.id);
        exec.state = 'waiting';
        return;
      case 'serviceTask':
      case 'sendTask':
        if (!(await this.invokeDelegate(exec, n, n.implementation!))) return;
        return this.leave(exec, n);
      case 'userTask':
        return this.createUserTask(exec, n);
      case 'subProcess': {
        exec.state = 'scope';
        const token = this.newExecution(exec.id, n.startEventId!);
        this.schedule(() => this.enter(token, n.startEventId!, {}));
        return;
      }
      case 'callActivity':
        return this.callProcess(exec, n);
      case 'exclusiveGateway':
        return this.exclusiveGateway(exec, n);
      case 'parallelGateway':
        return this.parallelGateway(exec, n);
      case 'inclusiveGateway':
        return this.inclusiveGateway(exec, n);
      case 'eventBasedGateway':
        exec.state = 'waiting';
        exec.eventGateway = n.id;
        for (const fid of n.outgoing) {
          const target = nodeOf(this.model, flow(this.model, fid).targetId);
          this.waitFor(exec, target, target.id);
        }
        return;
    }
  }

  /** Completes the node: outputs, end listeners, history; then continues (or waits for asyncAfter). */
  async leave(exec: Execution, n: FlowNode): Promise<void> {
    await this.finishNode(exec, n, 'completed');
    const inner = exec.miInstance === true;
    if (inner ? n.multiInstance!.asyncAfter : n.asyncAfter) {
      return this.continueInJob(exec, n, 'after', {}, inner ? n.multiInstance!.retryTimeCycle : n.retryTimeCycle);
    }
    await this.continueAfter(exec, n);
  }

  /** An async continuation: the command's transaction ends here and a job (with its own retries) goes on. */
  private continueInJob(exec: Execution, n: FlowNode, phase: 'before' | 'after', payload: Record<string, unknown> = {}, retryTimeCycle = n.retryTimeCycle): void {
    exec.state = 'async';
    exec.asyncPhase = phase;
    // camunda:exclusive="false" (not for multi-instance inner instances): may run beside the instance's other such jobs.
    const concurrent = !n.exclusive && payload.miInner !== true ? { exclusive: false } : {};
    this.addJob(exec, n, 'async', this.ctx.services.clock.now(), { phase, ...payload, ...concurrent }, n.id, retryTimeCycle);
  }

  private async finishNode(exec: Execution, n: FlowNode, outcome: string): Promise<void> {
    if (n.outputs.length) {
      const values = n.outputs.map((o) => [o.name, o.source === null ? null : this.evaluate(o.source, exec)] as const);
      const target = this.parentScope(exec);
      for (const [name, value] of values) this.setVariable(target, name, value);
    }
    await this.runListeners(exec, n.executionListeners, 'end', n);
    this.historyEnd(exec, outcome);
    this.clearWaits(exec);
    this.dropScope(exec, n.id);
  }

  private async continueAfter(exec: Execution, n: FlowNode): Promise<void> {
    if (!this.state.executions.has(exec.id)) return;
    exec.state = 'ready';
    exec.asyncPhase = undefined;
    if (exec.miInstance) return this.multiInstanceDone(exec, n);
    if (n.kind === 'endEvent') {
      this.lastEndActivity = n.id; // after an asyncAfter end event this runs in a later command
      return this.removeAndCheckScope(exec);
    }
    const flows = n.outgoing.filter((fid) => {
      const f = flow(this.model, fid);
      return fid === n.defaultFlow || !f.condition || this.truthy(f.condition, exec);
    });
    const chosen = flows.length > 1 && n.defaultFlow ? flows.filter((f) => f !== n.defaultFlow) : flows;
    if (chosen.length === 0) return this.removeAndCheckScope(exec); // implicit end
    await this.takeFlows(exec, chosen);
  }

  private async takeFlows(exec: Execution, flowIds: string[]): Promise<void> {
    const parentId = exec.parentId!;
    for (let i = 0; i < flowIds.length; i++) {
      const f = flow(this.model, flowIds[i]!);
      const token = i === 0 ? exec : this.newExecution(parentId, f.sourceId);
      token.viaFlow = f.id;
      await this.runListeners(token, f.listeners, 'take', null);
      token.activityId = f.targetId;
      this.schedule(() => this.enter(token, f.targetId, {}));
    }
  }

  private async removeAndCheckScope(exec: Execution): Promise<void> {
    const parentId = exec.parentId;
    this.removeExecution(exec);
    if (parentId) await this.checkScopeCompleted(parentId);
  }

  private async checkScopeCompleted(scopeId: string): Promise<void> {
    const scope = this.state.executions.get(scopeId);
    if (!scope || this.state.childrenOf(scopeId).length > 0) return;
    if (scope.parentId === null) return this.endInstance(this.lastEndActivity ?? null, 'completed');
    if (scope.state === 'scope') {
      scope.state = 'ready';
      await this.leave(scope, nodeOf(this.model, scope.activityId!));
    }
  }

  private lastEndActivity: string | null = null;

  private async executeEndEvent(exec: Execution, n: FlowNode): Promise<void> {
    this.lastEndActivity = n.id;
    const ev = n.event;
    if (ev?.type === 'message' && n.implementation) {
      if (!(await this.invokeDelegate(exec, n, n.implementation))) return;
    }
    if (ev?.type === 'signal') await this.throwSignal(ev.signalName);
    if (ev?.type === 'error') {
      await this.finishNode(exec, n, 'error');
      if (await this.propagateError(exec, ev.errorCode ?? '', ev.errorMessage)) return;
      return this.removeAndCheckScope(exec); // an uncaught error end event ends like a none end event
    }
    if (ev?.type === 'terminate') {
      await this.finishNode(exec, n, 'terminated');
      const scope = this.state.executions.get(exec.parentId!)!;
      this.removeExecution(exec);
      for (const child of this.state.childrenOf(scope.id)) this.cancelTree(child);
      if (scope.parentId === null) return this.endInstance(n.id, 'terminated');
      return this.checkScopeCompleted(scope.id);
    }
    await this.finishNode(exec, n, 'completed');
    if (n.asyncAfter) return this.continueInJob(exec, n, 'after');
    await this.removeAndCheckScope(exec);
  }

  // ---- gateways ------------------------------------------------------------------------

  private async exclusiveGateway(exec: Execution, n: FlowNode): Promise<void> {
    let chosen: string | null = null;
    for (const fid of n.outgoing) {
      if (fid === n.defaultFlow) continue;
      const f = flow(this.model, fid);
      if (!f.condition || this.truthy(f.condition, exec)) {
        chosen = fid;
        break;
      }
    }
    chosen ??= n.defaultFlow;
    if (!chosen) {
      if (n.outgoing.length === 0) return this.finishNode(exec, n, 'completed').then(() => this.removeAndCheckScope(exec));
      throw new EngineError(`exclusive gateway '${n.id}': no outgoing sequence flow condition is true and there is no default flow`);
    }
    await this.finishNode(exec, n, 'completed');
    await this.leaveGateway(exec, n, [chosen]);
  }

  /** Takes the chosen flows out of a gateway; with camunda:asyncAfter each branch starts in a job of its own. */
  private async leaveGateway(exec: Execution, n: FlowNode, flowIds: string[]): Promise<void> {
    if (!n.asyncAfter) return this.takeFlows(exec, flowIds);
    flowIds.forEach((flowId, i) => {
      const token = i === 0 ? exec : this.newExecution(exec.parentId!, n.id);
      this.continueInJob(token, n, 'after', { flowId });
    });
  }

  private async parallelGateway(exec: Execution, n: FlowNode): Promise<void> {
    if (n.incoming.length > 1) {
      exec.state = 'joining';
      const waiting = this.state.childrenOf(exec.parentId!).filter((e) => e.state === 'joining' && e.activityId === n.id);
      const byFlow = new Map<string, Execution>();
      for (const w of waiting) if (w.viaFlow && !byFlow.has(w.viaFlow)) byFlow.set(w.viaFlow, w);
      if (!n.incoming.every((fid) => byFlow.has(fid))) return;
      const consumed = [...byFlow.values()];
      const survivor = consumed.includes(exec) ? exec : consumed[consumed.length - 1]!;
      for (const c of consumed) {
        this.historyEnd(c, 'completed');
        if (c !== survivor) this.removeExecution(c);
      }
      survivor.state = 'ready';
      await this.finishNode(survivor, n, 'completed');
      return this.leaveGateway(survivor, n, n.outgoing);
    }
    await this.finishNode(exec, n, 'completed');
    if (n.outgoing.length === 0) return this.removeAndCheckScope(exec);
    await this.leaveGateway(exec, n, n.outgoing);
  }

  private async inclusiveGateway(exec: Execution, n: FlowNode): Promise<void> {
    if (n.incoming.length > 1) {
      exec.state = 'joining';
      return; // fireInclusiveJoins decides once nothing else can arrive
    }
    await this.inclusiveFork(exec, n);
  }

  private async inclusiveFork(exec: Execution, n: FlowNode): Promise<void> {
    const chosen = n.outgoing.filter((fid) => {
      if (fid === n.defaultFlow) return false;
      const f = flow(this.model, fid);
      return !f.condition || this.truthy(f.condition, exec);
    });
    if (chosen.length === 0 && n.defaultFlow) chosen.push(n.defaultFlow);
    await this.finishNode(exec, n, 'completed');
    if (chosen.length === 0) {
      if (n.outgoing.length === 0) return this.removeAndCheckScope(exec);
      throw new EngineError(`inclusive gateway '${n.id}': no outgoing sequence flow condition is true and there is no default flow`);
    }
    await this.leaveGateway(exec, n, chosen);
  }

  /** An inclusive join fires when no other token of its scope can still reach it. */
  private async fireInclusiveJoins(): Promise<boolean> {
    for (const e of [...this.state.executions.values()]) {
      if (e.state !== 'joining' || !e.activityId) continue;
      const n = nodeOf(this.model, e.activityId);
      if (n.kind !== 'inclusiveGateway') continue;
      const siblings = this.state.childrenOf(e.parentId!);
      const blocked = siblings.some((s) => s.activityId !== n.id && s.activityId && this.model.reachable.get(s.activityId)?.has(n.id));
      if (blocked) continue;
      const joined = siblings.filter((s) => s.state === 'joining' && s.activityId === n.id);
      for (const j of joined) {
        if (j === e) continue;
        this.historyEnd(j, 'completed');
        this.removeExecution(j);
      }
      e.state = 'ready';
      this.schedule(() => this.inclusiveFork(e, n));
      return true;
    }
    return false;
  }

  // ---- waiting for events --------------------------------------------------------------

  /** Subscribes exec to the event of node `n` (a catch event, receive task or boundary event). */
  private waitFor(exec: Execution, n: FlowNode, activityId: string): void {
    if (n.kind === 'receiveTask') {
      this.subscribe(exec, activityId, 'message', n.messageName!);
      return;
    }
    const ev = n.event;
    if (!ev) return;
    if (ev.type === 'message') this.subscribe(exec, activityId, 'message', ev.messageName);
    else if (ev.type === 'signal') this.subscribe(exec, activityId, 'signal', ev.signalName);
    else if (ev.type === 'timer') {
      const text = this.evaluate(ev.source, exec);
      const due = text instanceof Date ? text : parseTimer(ev.timerKind, String(text)).firstDue(this.ctx.services.clock.now());
      this.addJob(exec, n, 'timer', due, { timerKind: ev.timerKind, timerText: text instanceof Date ? text.toISOString() : String(text), fired: 0 }, activityId);
    }
  }

  private subscribe(exec: Execution, activityId: string, eventType: 'message' | 'signal', eventName: string): void {
    const id = randomUUID();
    this.state.subscriptions.set(id, { id, executionId: exec.id, activityId, eventType, eventName });
  }

  private createBoundaryEvents(exec: Execution, n: FlowNode): void {
    for (const bid of n.boundaryEvents) {
      const b = nodeOf(this.model, bid);
      if (b.event?.type !== 'error') this.waitFor(exec, b, bid);
    }
  }

  /** Removes the subscriptions, timers and user tasks an execution waits on. */
  private clearWaits(exec: Execution, exceptJob?: string): void {
    for (const [id, s] of this.state.subscriptions) if (s.executionId === exec.id) this.state.subscriptions.delete(id);
    for (const [id, j] of this.state.jobs) if (j.executionId === exec.id && id !== exceptJob) this.state.jobs.delete(id);
    for (const [id, u] of this.state.userTasks) if (u.executionId === exec.id) this.state.userTasks.delete(id);
  }

  /** An event arrived for `activityId` at execution `executionId`: react and run to the next wait states. */
  async trigger(executionId: string, activityId: string): Promise<void> {
    await this.react(executionId, activityId);
    await this.run();
  }

  private async react(executionId: string, activityId: string): Promise<void> {
    const exec = this.state.executions.get(executionId);
    if (!exec) throw new EngineError(`execution ${executionId} no longer exists`);
    const n = nodeOf(this.model, activityId);
    if (n.kind === 'boundaryEvent') await this.triggerBoundary(exec, n);
    else if (exec.eventGateway) {
      const gateway = nodeOf(this.model, exec.eventGateway);
      exec.eventGateway = undefined;
      exec.state = 'ready';
      await this.finishNode(exec, gateway, 'completed');
      const flowId = gateway.outgoing.find((fid) => flow(this.model, fid).targetId === n.id) ?? null;
      // asyncAfter: the event is taken and the gateway left in this command; the branch goes on in a job.
      if (gateway.asyncAfter) return this.continueInJob(exec, gateway, 'after', { flowId, eventTarget: n.id });
      exec.viaFlow = flowId;
      this.schedule(() => this.enter(exec, n.id, { triggered: true }));
    } else if (exec.activityId === activityId && exec.state === 'waiting') {
      exec.state = 'ready';
      this.clearWaits(exec);
      await this.leave(exec, n);
    } else {
      throw new EngineError(`execution ${executionId} does not wait at ${activityId}`);
    }
  }

  private async triggerBoundary(host: Execution, b: FlowNode): Promise<void> {
    if (!b.cancelActivity) {
      const token = this.newExecution(host.parentId!, b.id);
      this.schedule(() => this.enter(token, b.id, { triggered: true }));
      return;
    }
    await this.interrupt(host, b);
  }

  /** Cancels the activity `host` runs (and everything inside it) and continues at boundary event b. */
  private async interrupt(host: Execution, b: FlowNode): Promise<void> {
    for (const child of this.state.childrenOf(host.id)) this.cancelTree(child);
    this.clearWaits(host);
    this.historyEnd(host, b.event?.type === 'error' ? 'error' : 'interrupted');
    if (host.state === 'call' && host.calledInstanceId) this.ctx.cancelInstance(host.calledInstanceId);
    this.dropScope(host, host.activityId!);
    host.mi = undefined;
    host.eventGateway = undefined;
    host.calledInstanceId = undefined;
    this.schedule(() => this.enter(host, b.id, { triggered: true }));
  }

  private cancelTree(exec: Execution): void {
    for (const child of this.state.childrenOf(exec.id)) this.cancelTree(child);
    this.historyEnd(exec, 'cancelled');
    if (exec.state === 'call' && exec.calledInstanceId) this.ctx.cancelInstance(exec.calledInstanceId);
    this.removeExecution(exec);
  }

  private removeExecution(exec: Execution): void {
    this.clearWaits(exec);
    this.state.executions.delete(exec.id);
    this.state.variables.delete(exec.id);
    exec.state = 'ready';
    (exec as { removed?: boolean }).removed = true;
  }

  /** Leaves the variable scope an execution opened for node `nodeId`. */
  private dropScope(exec: Execution, nodeId: string): void {
    if (exec.scopeFor === nodeId && !exec.miInstance) {
      this.state.variables.delete(exec.id);
      exec.isScope = false;
      exec.scopeFor = null;
    }
  }

  // ---- errors ---------------------------------------------------------------------------

  /**
   * Finds the nearest catcher of a BPMN error, walking out from where it was thrown: in each scope an
   * error event sub-process first, then the error boundary events of the activity; within one level
   * a catcher naming the error code wins over a catch-all. Returns false when nothing catches it.
   */
  private async propagateError(exec: Execution, errorCode: string, errorMessage: string | null): Promise<boolean> {
    let cur: Execution | undefined = exec;
    while (cur) {
      if (cur !== exec && this.isRunningScope(cur)) {
        const esp = this.errorEventSubProcessFor(cur, errorCode);
        if (esp) {
          await this.startErrorEventSubProcess(cur, esp, errorCode, errorMessage);
          return true;
        }
      }
      if (cur.activityId && !cur.miInstance) {
        const host = nodeOf(this.model, cur.activityId);
        const b = bestErrorCatcher(host.boundaryEvents.map((id) => nodeOf(this.model, id)), errorCode);
        if (b) {
          // Camunda sets them from the boundary event's scope outward (not local to the interrupted activity).
          this.setErrorVariables(this.parentScope(cur), b, errorCode, errorMessage);
          await this.interrupt(cur, b);
          return true;
        }
      }
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
    return false;
  }

  /** The process instance, or a running sub-process instance (also one inner instance of a multi-instance sub-process). */
  private isRunningScope(exec: Execution): boolean {
    if (exec.parentId === null) return true;
    return exec.state === 'scope' && exec.activityId !== null && nodeOf(this.model, exec.activityId).kind === 'subProcess';
  }

  private errorEventSubProcessFor(scope: Execution, errorCode: string): FlowNode | null {
    const ids = scope.parentId === null ? this.model.eventSubProcesses : nodeOf(this.model, scope.activityId!).eventSubProcesses;
    if (ids.length === 0) return null;
    // An error inside a running handler does not start the handlers of the same scope again.
    if (this.state.childrenOf(scope.id).some((c) => c.activityId !== null && ids.includes(c.activityId))) return null;
    const esps = ids.map((id) => nodeOf(this.model, id));
    const start = bestErrorCatcher(esps.map((esp) => nodeOf(this.model, esp.startEventId!)), errorCode);
    return start ? esps.find((esp) => esp.startEventId === start.id)! : null;
  }

  /** An interrupting error start event: cancel what the scope runs, then run the event sub-process in it. */
  private async startErrorEventSubProcess(scope: Execution, esp: FlowNode, errorCode: string, errorMessage: string | null): Promise<void> {
    for (const child of this.state.childrenOf(scope.id)) this.cancelTree(child);
    this.setErrorVariables(scope, nodeOf(this.model, esp.startEventId!), errorCode, errorMessage);
    const handler = this.newExecution(scope.id, esp.id);
    this.schedule(() => this.enter(handler, esp.id, {}));
  }

  /** camunda:errorCodeVariable / errorMessageVariable of the catching event (set like setVariable from `from`). */
  private setErrorVariables(from: Execution, catcher: FlowNode, errorCode: string, errorMessage: string | null): void {
    if (catcher.event?.type !== 'error') return;
    if (catcher.event.errorCodeVariable) this.setVariable(from, catcher.event.errorCodeVariable, errorCode);
    if (catcher.event.errorMessageVariable) this.setVariable(from, catcher.event.errorMessageVariable, errorMessage);
  }

  // ---- activities ----------------------------------------------------------------------

  /** Runs a service-task-like implementation; returns false when a BPMN error took over. */
  private async invokeDelegate(exec: Execution, n: FlowNode, impl: Implementation): Promise<boolean> {
    try {
      await this.callImplementation(exec, n, impl, null);
      return true;
    } catch (e) {
      if (e instanceof BpmnError) {
        if (await this.propagateError(exec, e.errorCode, e.errorMessage)) return false;
        throw new EngineError(`unhandled BPMN error '${e.errorCode}' in ${n.id}: ${e.message}`);
      }
      throw e;
    }
  }

  private async callImplementation(exec: Execution, n: FlowNode | null, impl: Implementation, eventName: string | null, task?: DelegateTask): Promise<void> {
    const fields: Record<string, unknown> = {};
    for (const f of impl.fields) fields[f.name] = f.isExpression ? this.evaluate(f.source, exec) : f.source;
    const facade = new ExecutionFacade(this, exec, n, fields, eventName);
    if (impl.expression) {
      const result = compileExpression(impl.expression).evaluate(this.scopeFor(exec, facade));
      if (result instanceof Promise) await result;
      return;
    }
    let instance: DelegateInstance;
    if (impl.className) {
      const factory = this.ctx.services.delegates.get(impl.className);
      if (!factory) throw new EngineError(`no implementation registered for camunda:class ${impl.className}`);
      instance = factory(fields);
    } else {
      instance = compileExpression(impl.delegateExpression!).evaluate(this.scopeFor(exec, facade)) as DelegateInstance;
    }
    if (task && 'notify' in instance) return (instance as { notify(t: DelegateTask): Promise<void> }).notify(task);
    if ('execute' in instance) return instance.execute(facade);
    if ('notify' in instance) return (instance as { notify(e: DelegateExecution): Promise<void> }).notify(facade);
    throw new EngineError(`implementation of ${impl.className ?? impl.delegateExpression} has neither execute nor notify`);
  }

  private async runListeners(exec: Execution, listeners: FlowNode['executionListeners'], event: string, n: FlowNode | null): Promise<void> {
    const builtIn = this.ctx.services.hooks.beforeExecutionListeners;
    if (builtIn && n && (event === 'start' || event === 'end')) await builtIn(event, new ExecutionFacade(this, exec, n, {}, event), n);
    for (const l of listeners) if (l.event === event) await this.callImplementation(exec, n, l.implementation, event);
  }

  private async createUserTask(exec: Execution, n: FlowNode): Promise<void> {
    exec.state = 'waiting';
    const id = randomUUID();
    const formKey = n.formKey ? String(this.evaluate(n.formKey, exec)) : null;
    this.state.userTasks.set(id, { id, executionId: exec.id, activityId: n.id, name: n.name, formKey, created: this.now() });
    this.ctx.userTaskCreated(id);
    await this.runTaskListeners(exec, n, 'create', { id, formKey });
  }

  private async runTaskListeners(exec: Execution, n: FlowNode, event: 'create' | 'complete', t: { id: string; formKey: string | null }): Promise<void> {
    for (const l of n.taskListeners) {
      if (l.event !== event) continue;
      await this.callImplementation(exec, n, l.implementation, event, this.delegateTask(exec, n, event, t));
    }
    const hook = event === 'create' ? this.ctx.services.hooks.afterUserTaskCreated : undefined;
    if (hook) await hook(this.delegateTask(exec, n, event, t), n);
  }

  private delegateTask(exec: Execution, n: FlowNode, event: 'create' | 'complete', t: { id: string; formKey: string | null }): DelegateTask {
    const facade = new ExecutionFacade(this, exec, n, {}, event);
    return {
      id: t.id,
      name: n.name,
      formKey: t.formKey,
      taskDefinitionKey: n.id,
      eventName: event,
      execution: facade,
      getVariable: (k) => facade.getVariable(k),
      getVariableInScopes: (k) => facade.getVariableInScopes(k),
      getVariableLocal: (k) => facade.getVariableLocal(k),
      setVariable: (k, v) => facade.setVariable(k, v),
      setVariableLocal: (k, v) => facade.setVariableLocal(k, v),
      hasVariable: (k) => facade.hasVariable(k),
      hasVariableLocal: (k) => facade.hasVariableLocal(k),
      removeVariable: (k) => facade.removeVariable(k),
      removeVariableLocal: (k) => facade.removeVariableLocal(k),
      getVariables: () => facade.getVariables(),
      getVariablesLocal: () => facade.getVariablesLocal(),
    };
  }

  async completeUserTask(taskId: string, variables: Record<string, unknown>): Promise<void> {
    const task = this.state.userTasks.get(taskId)!;
    const exec = this.state.executions.get(task.executionId)!;
    for (const [k, v] of Object.entries(variables)) this.setVariable(exec, k, v);
    await this.runTaskListeners(exec, nodeOf(this.model, task.activityId), 'complete', task);
    this.state.userTasks.delete(taskId);
    exec.state = 'ready';
    await this.leave(exec, nodeOf(this.model, task.activityId));
    await this.run();
  }

  private async callProcess(exec: Execution, n: FlowNode): Promise<void> {
    const key = String(this.evaluate(n.calledElement!, exec));
    const version = n.calledElementVersion ? String(this.evaluate(n.calledElementVersion, exec)) : null;
    const variables: Record<string, unknown> = {};
    for (const m of n.callIn) {
      if (m.allVariables) Object.assign(variables, this.visibleVariables(exec));
      else if (m.target) variables[m.target] = m.sourceExpression ? this.evaluate(m.sourceExpression, exec) : this.getVariable(exec, m.source!);
    }
    const businessKey = n.businessKeyExpression ? String(this.evaluate(n.businessKeyExpression, exec)) : null;
    exec.state = 'call';
    exec.calledInstanceId = await this.ctx.startCalledInstance(key, n.calledElementBinding, version, businessKey, variables, {
      superExecutionId: exec.id,
      superInstanceId: this.state.id,
    });
  }

  // ---- jobs -----------------------------------------------------------------------------

  private addJob(
    exec: Execution,
    n: FlowNode,
    type: 'async' | 'timer',
    due: Date,
    payload: Record<string, unknown>,
    activityId = n.id,
    retryTimeCycle = n.retryTimeCycle,
  ): void {
    const retry = retryTimeCycle ? parseRetryCycle(String(this.evaluate(retryTimeCycle, exec))) : null;
    const id = randomUUID();
    this.state.jobs.set(id, {
      id,
      type,
      executionId: exec.id,
      activityId,
      definitionId: null,
      dueAt: due.toISOString(),
      retries: retry?.retries ?? DEFAULT_RETRIES,
      // A comma list of waits goes with the job: each failure waits the next one (backoff).
      payload: { ...payload, retryIntervalMs: retry?.intervalMs ?? 0, ...(retry?.intervalsMs ? { retryIntervalsMs: retry.intervalsMs } : {}) },
      exception: null,
    });
  }

  /**
   * Runs non-exclusive jobs of this instance at the same time, each on a strand of its own (own agenda,
   * same state), as Camunda's job executor runs camunda:exclusive="false" jobs in parallel threads: a
   * delegate waiting for what another branch does sees it happen. All commit together; the first
   * failure is thrown once every strand has settled.
   */
  async executeJobsTogether(jobIds: string[]): Promise<void> {
    const results = await Promise.allSettled(jobIds.map((id) => new Runtime(this.ctx, this.state, this.definition).executeJob(id)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.run();
  }

  /** Runs a job of this instance; the job row is removed (or rescheduled) with the same commit. */
  async executeJob(jobId: string): Promise<void> {
    const job = this.state.jobs.get(jobId);
    if (!job) throw new EngineError(`job ${jobId} is gone`);
    const exec = job.executionId ? this.state.executions.get(job.executionId) : undefined;
    this.state.jobs.delete(jobId);
    if (!exec) return; // its execution ended meanwhile: nothing to do
    switch (job.type) {
      case 'async': {
        const n = nodeOf(this.model, exec.activityId!);
        const { phase, miInner, flowId, eventTarget } = job.payload;
        exec.state = 'ready';
        exec.asyncPhase = undefined;
        if (phase === 'before') this.schedule(() => this.enter(exec, n.id, { skipAsync: true, miInner: miInner === true }));
        else if (typeof eventTarget === 'string') {
          // after an event-based gateway: the event already arrived, continue at its catch event
          exec.viaFlow = typeof flowId === 'string' ? flowId : null;
          this.schedule(() => this.enter(exec, eventTarget, { triggered: true }));
        } else if (typeof flowId === 'string') this.schedule(() => this.takeFlows(exec, [flowId])); // after a gateway
        else this.schedule(() => this.continueAfter(exec, n));
        return this.run();
      }
      case 'timer':
        this.rescheduleCycle(job, exec);
        return this.trigger(exec.id, job.activityId!);
      case 'signal': {
        const waiting = [...this.state.subscriptions.values()].some((s) => s.executionId === exec.id && s.activityId === job.activityId && s.eventType === 'signal');
        if (!waiting) return; // moved on before the signal arrived
        return this.trigger(exec.id, job.activityId!);
      }
      case 'call-return': {
        const n = nodeOf(this.model, exec.activityId!);
        const returned = (job.payload.variables ?? {}) as Record<string, unknown>;
        const scope: ExpressionScope = { has: (k) => k in returned, get: (k) => returned[k] };
        for (const m of n.callOut) {
          if (m.allVariables) for (const [k, v] of Object.entries(returned)) this.setVariable(exec, k, v);
          else if (m.target) this.setVariable(exec, m.target, m.sourceExpression ? compileExpression(m.sourceExpression).evaluate(scope) : returned[m.source!]);
        }
        exec.calledInstanceId = undefined;
        exec.state = 'ready';
        await this.leave(exec, n);
        return this.run();
      }
      default:
        throw new EngineError(`job type ${job.type} does not belong to an instance`);
    }
  }

  /** Non-interrupting cycle timers on boundary events fire again. */
  private rescheduleCycle(job: Job, exec: Execution): void {
    const n = nodeOf(this.model, job.activityId!);
    if (n.kind !== 'boundaryEvent' || n.cancelActivity || job.payload.timerKind !== 'timeCycle') return;
    const fired = Number(job.payload.fired ?? 0) + 1;
    const next = parseTimer('timeCycle', String(job.payload.timerText)).nextDue(new Date(job.dueAt), fired);
    if (!next) return;
    const id = randomUUID();
    this.state.jobs.set(id, { ...job, id, executionId: exec.id, dueAt: next.toISOString(), payload: { ...job.payload, fired } });
  }

  // ---- multi-instance ------------------------------------------------------------------

  private async startMultiInstance(body: Execution, n: FlowNode): Promise<void> {
    const mi = n.multiInstance!;
    let items: unknown[] | null = null;
    let total: number;
    if (mi.collection) {
      const expr = compileExpression(mi.collection);
      const value = expr.isLiteral ? this.getVariable(body, mi.collection) : expr.evaluate(this.scopeFor(body));
      if (value instanceof Set) items = [...value];
      else if (Array.isArray(value)) items = value;
      else throw new EngineError(`multi-instance '${n.id}': collection ${mi.collection} is not a list`);
      total = items.length;
    } else {
      total = Number(this.evaluate(mi.loopCardinality!, body));
      if (!Number.isInteger(total) || total < 0) throw new EngineError(`multi-instance '${n.id}': loopCardinality is not a whole number`);
    }
    if (total === 0) return this.leaveMultiInstanceBody(body, n);
    body.state = 'mi-body';
    body.isScope = true;
    body.scopeFor = n.id;
    body.mi = { total, completed: 0, active: 0, nextIndex: 0, items };
    this.historyStart(body, n, 'multiInstanceBody');
    this.createBoundaryEvents(body, n);
    this.updateMiVariables(body);
    const count = mi.sequential ? 1 : total;
    for (let i = 0; i < count; i++) this.createMiInstance(body, n);
  }

  private createMiInstance(body: Execution, n: FlowNode): void {
    const mi = body.mi!;
    const index = mi.nextIndex++;
    mi.active++;
    const inst = this.newExecution(body.id, n.id);
    inst.isScope = true;
    inst.miInstance = true;
    inst.scopeFor = n.id;
    const vars = this.state.varsOf(inst.id);
    vars.set('loopCounter', index);
    if (n.multiInstance!.elementVariable) vars.set(n.multiInstance!.elementVariable, mi.items ? mi.items[index] : null);
    this.updateMiVariables(body);
    this.schedule(() => this.enter(inst, n.id, { miInner: true }));
  }

  private updateMiVariables(body: Execution): void {
    const vars = this.state.varsOf(body.id);
    vars.set('nrOfInstances', body.mi!.total);
    vars.set('nrOfActiveInstances', body.mi!.active);
    vars.set('nrOfCompletedInstances', body.mi!.completed);
  }

  private async multiInstanceDone(inst: Execution, n: FlowNode): Promise<void> {
    const body = this.state.executions.get(inst.parentId!)!;
    const mi = body.mi!;
    mi.completed++;
    mi.active--;
    this.updateMiVariables(body);
    const condition = n.multiInstance!.completionCondition;
    const conditionMet = condition ? this.truthy(condition, inst) : false;
    this.removeExecution(inst);
    if (mi.completed < mi.total && !conditionMet) {
      if (n.multiInstance!.sequential) this.createMiInstance(body, n);
      return;
    }
    for (const child of this.state.childrenOf(body.id)) this.cancelTree(child);
    this.clearWaits(body);
    this.historyEnd(body, 'completed');
    body.mi = undefined;
    this.state.variables.delete(body.id);
    body.isScope = false;
    body.scopeFor = null;
    await this.leaveMultiInstanceBody(body, n);
  }

  /** All inner instances are done: the body continues (after a job when the activity is asyncAfter). */
  private async leaveMultiInstanceBody(body: Execution, n: FlowNode): Promise<void> {
    if (n.asyncAfter) return this.continueInJob(body, n, 'after');
    await this.continueAfter(body, n);
  }

  // ---- signals --------------------------------------------------------------------------

  /** Intermediate and end signal events: delivered in this command, to this and every other instance. */
  private async throwSignal(name: string): Promise<void> {
    await this.ctx.deliverSignal(name);
  }

  /** Ids of the subscriptions waiting for this signal now. */
  signalSubscriptions(name: string): string[] {
    const ids: string[] = [];
    for (const s of this.state.subscriptions.values()) if (s.eventType === 'signal' && s.eventName === name) ids.push(s.id);
    return ids;
  }

  /** Fires the given signal subscriptions (those still there) and runs to the next wait states. */
  async receiveSignal(subscriptionIds: string[], variables: Record<string, unknown>): Promise<number> {
    const root = this.state.varsOf(this.state.id);
    for (const [k, v] of Object.entries(variables)) root.set(k, v);
    for (const id of subscriptionIds) this.schedule(() => this.triggerIfPresent(id));
    await this.run(); // returns at once when this instance is the one throwing: its own loop runs them
    return subscriptionIds.length;
  }

  private async triggerIfPresent(subscriptionId: string): Promise<void> {
    const s = this.state.subscriptions.get(subscriptionId);
    if (!s) return;
    await this.react(s.executionId, s.activityId);
  }

  // ---- variables ------------------------------------------------------------------------

  localOwner(exec: Execution): Execution {
    let cur = exec;
    while (!cur.isScope && cur.parentId) cur = this.state.executions.get(cur.parentId)!;
    return cur;
  }

  private parentScope(exec: Execution): Execution {
    const parent = exec.parentId ? this.state.executions.get(exec.parentId) : undefined;
    return parent ? this.localOwner(parent) : exec;
  }

  getVariable(exec: Execution, name: string): unknown {
    return this.state.visibleVariable(exec.id, name);
  }

  /** The values of `name` in `exec`'s scope and every enclosing one, outermost first. */
  variableInScopes(exec: Execution, name: string): unknown[] {
    const found: unknown[] = [];
    let cur: Execution | undefined = exec;
    while (cur) {
      const vars = this.state.variables.get(cur.id);
      if (vars?.has(name)) found.unshift(vars.get(name));
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
    return found;
  }

  hasVariable(exec: Execution, name: string): boolean {
    let cur: Execution | undefined = exec;
    while (cur) {
      if (this.state.variables.get(cur.id)?.has(name)) return true;
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
    return false;
  }

  /** Camunda semantics: update where the variable lives, else create it on the process instance. */
  setVariable(exec: Execution, name: string, value: unknown): void {
    let cur: Execution | undefined = exec;
    while (cur) {
      const vars = this.state.variables.get(cur.id);
      if (vars?.has(name)) {
        vars.set(name, value);
        return;
      }
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
    this.state.varsOf(this.state.id).set(name, value);
  }

  removeVariable(exec: Execution, name: string): void {
    let cur: Execution | undefined = exec;
    while (cur) {
      const vars = this.state.variables.get(cur.id);
      if (vars?.delete(name)) return;
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
  }

  visibleVariables(exec: Execution): Record<string, unknown> {
    const chain: Execution[] = [];
    let cur: Execution | undefined = exec;
    while (cur) {
      chain.unshift(cur);
      cur = cur.parentId ? this.state.executions.get(cur.parentId) : undefined;
    }
    const out: Record<string, unknown> = {};
    for (const e of chain) for (const [k, v] of this.state.variables.get(e.id) ?? []) out[k] = v;
    return out;
  }

  scopeFor(exec: Execution, facade?: ExecutionFacade): ExpressionScope {
    const beans = this.ctx.services.beans;
    return {
      has: (name) => name === 'execution' || this.hasVariable(exec, name) || Object.hasOwn(beans, name),
      get: (name) => {
        if (name === 'execution') return facade ?? new ExecutionFacade(this, exec, exec.activityId ? nodeOf(this.model, exec.activityId) : null, {}, null);
        if (this.hasVariable(exec, name)) return this.getVariable(exec, name);
        return beans[name];
      },
    };
  }

  evaluate(source: string, exec: Execution): unknown {
    return compileExpression(source).evaluate(this.scopeFor(exec));
  }

  private truthy(source: string, exec: Execution): boolean {
    const v = this.evaluate(source, exec);
    return v === true || v === 'true';
  }

  // ---- history --------------------------------------------------------------------------

  private historyStart(exec: Execution, n: FlowNode, type: string = n.kind): void {
    const id = randomUUID();
    const h = { id, executionId: exec.id, activityId: n.id, activityType: type, startTime: this.now(), endTime: null, outcome: null };
    this.state.history.set(id, h);
    exec.history = { id, startTime: h.startTime, type };
  }

  private historyEnd(exec: Execution, outcome: string): void {
    const h = exec.history;
    if (!h) return;
    this.state.history.set(h.id, {
      id: h.id,
      executionId: exec.id,
      activityId: exec.activityId!,
      activityType: h.type,
      startTime: h.startTime,
      endTime: this.now(),
      outcome,
    });
    exec.history = undefined;
  }
}

/** The error event among `events` that catches errorCode: one naming the code, else a catch-all. */
function bestErrorCatcher(events: FlowNode[], errorCode: string): FlowNode | null {
  let catchAll: FlowNode | null = null;
  for (const e of events) {
    if (e.event?.type !== 'error') continue;
    if (e.event.errorCode === errorCode) return e;
    if (e.event.errorCode === null) catchAll ??= e;
  }
  return catchAll;
}

function toJson(variables: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(variables)) as Record<string, unknown>;
}
