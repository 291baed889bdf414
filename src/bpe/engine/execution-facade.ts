// The DelegateExecution handed to delegates, listeners and expressions (`${execution...}`).
import type { FlowNode } from '../bpmn/model.ts';
import type { DelegateExecution } from './delegate.ts';
import type { Execution } from './instance-state.ts';
import type { ExecutionScope } from './execution-scope.ts';
import { copyValue } from './variables.ts';

export class ExecutionFacade implements DelegateExecution {
  constructor(
    private readonly runtime: ExecutionScope,
    private readonly exec: Execution,
    private readonly node: FlowNode | null,
    readonly fields: Readonly<Record<string, unknown>>,
    readonly eventName: string | null,
  ) {}

  get id(): string {
    return this.exec.id;
  }
  get processInstanceId(): string {
    return this.runtime.state.id;
  }
  get processDefinitionId(): string {
    return this.runtime.definition.id;
  }
  get processDefinitionKey(): string {
    return this.runtime.definition.key;
  }
  get businessKey(): string | null {
    return this.runtime.state.instance.businessKey;
  }
  get currentActivityId(): string | null {
    return this.node?.id ?? this.exec.activityId;
  }

  getField(name: string): unknown {
    return this.fields[name];
  }
  getBusinessKey(): string | null {
    return this.businessKey;
  }
  getProcessBusinessKey(): string | null {
    return this.businessKey;
  }
  getProcessInstanceId(): string {
    return this.processInstanceId;
  }
  getProcessDefinitionId(): string {
    return this.processDefinitionId;
  }
  getActivityId(): string | null {
    return this.currentActivityId;
  }
  getCurrentActivityId(): string | null {
    return this.currentActivityId;
  }
  getCurrentActivityName(): string | null {
    return this.node?.name ?? null;
  }

  getVariable(name: string): unknown {
    return copyValue(this.runtime.getVariable(this.exec, name));
  }
  getVariableInScopes(name: string): unknown[] {
    return this.runtime.variableInScopes(this.exec, name).map(copyValue);
  }
  getVariableLocal(name: string): unknown {
    return copyValue(this.localVars().get(name));
  }
  setVariable(name: string, value: unknown): void {
    this.runtime.setVariable(this.exec, name, copyValue(value));
  }
  setVariableLocal(name: string, value: unknown): void {
    this.localVars().set(name, copyValue(value));
  }
  hasVariable(name: string): boolean {
    return this.runtime.hasVariable(this.exec, name);
  }
  hasVariableLocal(name: string): boolean {
    return this.localVars().has(name);
  }
  removeVariable(name: string): void {
    this.runtime.removeVariable(this.exec, name);
  }
  removeVariableLocal(name: string): void {
    this.localVars().delete(name);
  }
  getVariables(): Record<string, unknown> {
    return copyValue(this.runtime.visibleVariables(this.exec));
  }
  getVariablesLocal(): Record<string, unknown> {
    return copyValue(Object.fromEntries(this.localVars()));
  }

  private localVars(): Map<string, unknown> {
    return this.runtime.state.varsOf(this.runtime.localOwner(this.exec).id);
  }
}
