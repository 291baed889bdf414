// Checks at deployment what the parser cannot: every camunda:class has an implementation, every
// expression compiles, literal timers and retry cycles parse. Problems name the element.
import { compileExpression } from '../bpmn/expression.ts';
import type { Implementation, ProcessModel } from '../bpmn/model.ts';
import { parseRetryCycle, parseTimer } from '../bpmn/timer.ts';
import type { DelegateRegistry } from './delegate.ts';

export class DeploymentError extends Error {
  constructor(readonly problems: string[]) {
    super(`deployment failed: ${problems.join('; ')}`);
    this.name = 'DeploymentError';
  }
}

export function checkExecutable(model: ProcessModel, delegates: DelegateRegistry): string[] {
  const problems: string[] = [];
  const compiles = (where: string, source: string | null): void => {
    if (source === null) return;
    try {
      compileExpression(source);
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
  };
  const implementation = (where: string, impl: Implementation | null): void => {
    if (!impl) return;
    if (impl.className && !delegates.has(impl.className)) problems.push(`${where}: no implementation registered for camunda:class ${impl.className}`);
    compiles(where, impl.expression ?? null);
    compiles(where, impl.delegateExpression ?? null);
    for (const f of impl.fields) if (f.isExpression) compiles(`${where} field ${f.name}`, f.source);
  };
  for (const l of model.executionListeners) implementation(`process '${model.id}' ${l.event} listener`, l.implementation);
  for (const f of model.flows.values()) {
    compiles(`sequence flow '${f.id}'`, f.condition);
    for (const l of f.listeners) implementation(`sequence flow '${f.id}' take listener`, l.implementation);
  }
  for (const n of model.nodes.values()) {
    const where = `${n.kind} '${n.id}'`;
    implementation(where, n.implementation);
    for (const l of n.executionListeners) implementation(`${where} ${l.event} listener`, l.implementation);
    for (const l of n.taskListeners) {
      if (l.event !== 'create' && l.event !== 'complete') problems.push(`${where}: task listener event ${l.event} is not supported`);
      implementation(`${where} ${l.event} task listener`, l.implementation);
    }
    for (const p of [...n.inputs, ...n.outputs]) compiles(`${where} parameter ${p.name}`, p.source);
    if (n.multiInstance) {
      compiles(`${where} collection`, n.multiInstance.collection);
      compiles(`${where} loopCardinality`, n.multiInstance.loopCardinality);
      compiles(`${where} completionCondition`, n.multiInstance.completionCondition);
    }
    compiles(`${where} formKey`, n.formKey);
    compiles(`${where} calledElement`, n.calledElement);
    if (n.event?.type === 'timer') {
      compiles(`${where} timer`, n.event.source);
      if (!n.event.source.includes('{')) {
        try {
          parseTimer(n.event.timerKind, n.event.source);
        } catch (e) {
          problems.push(`${where} timer: ${(e as Error).message}`);
        }
      }
    }
    if (n.retryTimeCycle && !n.retryTimeCycle.includes('{')) {
      try {
        parseRetryCycle(n.retryTimeCycle);
      } catch (e) {
        problems.push(`${where} failedJobRetryTimeCycle: ${(e as Error).message}`);
      }
    }
    if (n.kind === 'startEvent' && n.scopeId === model.id && n.event?.type === 'message' && !n.event.messageName) {
      problems.push(`${where}: message start event needs a message name`);
    }
  }
  return problems;
}
