// What process code sees: the execution handed to delegates and listeners, the BPMN error they may
// throw, and the registry through which camunda:class names map to TypeScript implementations.

/** Thrown by a delegate to raise a BPMN error; the nearest matching error boundary event catches it. */
export class BpmnError extends Error {
  /** The message the thrower gave (null without one): what camunda:errorMessageVariable receives. */
  readonly errorMessage: string | null;

  constructor(
    readonly errorCode: string,
    message?: string,
  ) {
    super(message ?? `BPMN error ${errorCode}`);
    this.name = 'BpmnError';
    this.errorMessage = message ?? null;
  }
}

export interface VariableScope {
  getVariable(name: string): unknown;
  getVariableLocal(name: string): unknown;
  setVariable(name: string, value: unknown): void;
  setVariableLocal(name: string, value: unknown): void;
  hasVariable(name: string): boolean;
  hasVariableLocal(name: string): boolean;
  removeVariable(name: string): void;
  removeVariableLocal(name: string): void;
  /** The values of a variable in every enclosing scope that has one, the process instance's first. */
  getVariableInScopes(name: string): unknown[];
  /** All variables visible here, inner scopes shadowing outer ones. */
  getVariables(): Record<string, unknown>;
  getVariablesLocal(): Record<string, unknown>;
}

export interface DelegateExecution extends VariableScope {
  readonly id: string;
  readonly processInstanceId: string;
  readonly processDefinitionId: string;
  readonly processDefinitionKey: string;
  readonly businessKey: string | null;
  readonly currentActivityId: string | null;
  /** For listeners: 'start', 'end' or 'take'; null for delegates. */
  readonly eventName: string | null;
  /** Values of the camunda:field injections of the element being executed (expressions evaluated). */
  readonly fields: Readonly<Record<string, unknown>>;
  getField(name: string): unknown;
  getBusinessKey(): string | null;
  getProcessInstanceId(): string;
  getProcessDefinitionId(): string;
  getActivityId(): string | null;
  getCurrentActivityId(): string | null;
  getCurrentActivityName(): string | null;
}

export interface DelegateTask extends VariableScope {
  readonly id: string;
  readonly name: string | null;
  readonly formKey: string | null;
  readonly taskDefinitionKey: string;
  readonly eventName: string;
  readonly execution: DelegateExecution;
}

export interface JavaDelegate {
  execute(execution: DelegateExecution): Promise<void>;
}

export interface ExecutionListener {
  notify(execution: DelegateExecution): Promise<void>;
}

export interface TaskListener {
  notify(task: DelegateTask): Promise<void>;
}

export type DelegateInstance = JavaDelegate | ExecutionListener | TaskListener;

/** Makes a fresh implementation for each invocation; fields are the evaluated camunda:field values. */
export type DelegateFactory = (fields: Readonly<Record<string, unknown>>) => DelegateInstance;

/** camunda:class name -> implementation. */
export type DelegateRegistry = ReadonlyMap<string, DelegateFactory>;
