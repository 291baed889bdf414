// The part of a process instance's runtime that a DelegateExecution reads and writes: the instance,
// its definition and the variables along an execution's scope chain. Runtime implements it; the facade
// handed to delegates depends only on this.
import type { DeployedDefinition } from './definitions.ts';
import type { Execution, InstanceState } from './instance-state.ts';

export interface ExecutionScope {
  readonly state: InstanceState;
  readonly definition: DeployedDefinition;
  /** The execution that owns local variables for `exec` (itself or its nearest scope). */
  localOwner(exec: Execution): Execution;
  getVariable(exec: Execution, name: string): unknown;
  /** The values of `name` in `exec`'s scope and every enclosing one, outermost first. */
  variableInScopes(exec: Execution, name: string): unknown[];
  hasVariable(exec: Execution, name: string): boolean;
  setVariable(exec: Execution, name: string, value: unknown): void;
  removeVariable(exec: Execution, name: string): void;
  visibleVariables(exec: Execution): Record<string, unknown>;
}
