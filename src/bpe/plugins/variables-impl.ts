// Variables over an engine execution (see plugin-api/variables.ts for the contract). Task bookkeeping:
// the start Task at process level, Tasks received later per scope (local variable), so a
// multi-instance sub-process sees the Tasks of its own instance.
import type { QuestionnaireResponse, Resource, Task } from '@medplum/fhirtypes';
import type { DelegateExecution } from '../engine/index.ts';
import {
  BpmnExecutionVariables,
  createTarget,
  createTargets,
  type FhirClient,
  type Logger,
  type StartTaskUpdater,
  type Target,
  type Targets,
  type Variables,
} from '../../plugin-api/index.ts';
import { decodeJsonValue, encodeJsonValue } from '../../plugin-api/json-values.ts';
import { isFhirResource } from '../engine/variables.ts';
import { BpeVariables } from './variable-names.ts';
import { StartTaskUpdaterImpl } from './start-task-updater.ts';

function distinctById(tasks: Task[]): Task[] {
  const seen = new Set<string>();
  return tasks.filter((t) => {
    const id = t.id ?? '';
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

const typed =
  <T>(check: (v: unknown) => boolean) =>
  (v: unknown): T | undefined =>
    v !== null && v !== undefined && check(v) ? (v as T) : undefined;
const asString = typed<string>((v) => typeof v === 'string');
const asNumber = typed<number>((v) => typeof v === 'number');
const asBoolean = typed<boolean>((v) => typeof v === 'boolean');
const asStringList = typed<string[]>((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'));

function wholeNumber(name: string, value: number | null): number | null {
  if (value !== null && !Number.isSafeInteger(value)) throw new RangeError(`variable ${name}: ${value} is not a whole number`);
  return value;
}

function stringList(name: string, value: readonly string[] | null): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TypeError(`variable ${name}: not a list of strings`);
  return [...value];
}

/** JSON values come back with their Dates and byte arrays; FHIR resources and scalars as stored. */
function decoded(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) && !isFhirResource(value) ? decodeJsonValue(value) : value;
}

export class VariablesImpl implements Variables {
  private startTaskUpdater: StartTaskUpdater | undefined;

  constructor(
    private readonly execution: DelegateExecution,
    private readonly logger?: Logger,
    /** The local FHIR server (for the start Task updater). */
    private readonly local?: FhirClient,
  ) {}

  getBusinessKey(): string {
    return this.execution.businessKey ?? '';
  }
  setAlternativeBusinessKey(alternativeBusinessKey: string | null): void {
    this.execution.setVariable(BpmnExecutionVariables.alternativeBusinessKey, alternativeBusinessKey);
  }
  getAlternativeBusinessKey(): string | undefined {
    return asString(this.execution.getVariable(BpmnExecutionVariables.alternativeBusinessKey));
  }
  getCurrentActivityId(): string {
    return this.execution.currentActivityId ?? '';
  }
  getProcessDefinitionId(): string {
    return this.execution.processDefinitionId;
  }
  getActivityInstanceId(): string {
    return this.execution.id;
  }

  createTarget(organizationIdentifierValue: string, endpointIdentifierValue: string, endpointAddress: string, correlationKey?: string): Target {
    return createTarget(organizationIdentifierValue, endpointIdentifierValue, endpointAddress, correlationKey ?? undefined);
  }
  createTargets(targets?: readonly Target[] | null): Targets {
    return createTargets(targets ?? []);
  }

  setTarget(target: Target | null): void {
    this.execution.setVariable(BpmnExecutionVariables.target, target);
  }
  getTarget(): Target | undefined {
    return (this.execution.getVariable(BpmnExecutionVariables.target) as Target | null) ?? undefined;
  }
  setTargets(targets: Targets | null): void {
    this.execution.setVariable(BpmnExecutionVariables.targets, targets === null ? null : { entries: [...targets.entries] });
  }
  getTargets(): Targets | undefined {
    return (this.execution.getVariable(BpmnExecutionVariables.targets) as Targets | null) ?? undefined;
  }

  getStartTask(): Task | undefined {
    return (this.execution.getVariable(BpeVariables.startTask) as Task | null) ?? undefined;
  }
  getCurrentTasks(): Task[] {
    const start = this.execution.getVariableLocal(BpeVariables.startTask) as Task | null;
    const local = (this.execution.getVariableLocal(BpeVariables.tasks) as Task[] | null) ?? [];
    return start ? [start, ...local] : [...local];
  }
  getLatestTask(): Task | undefined {
    const current = this.getCurrentTasks();
    return current.length ? current[current.length - 1] : this.getStartTask();
  }
  getTasks(): Task[] {
    // As the reference: the Tasks received in every enclosing scope (e.g. each multi-instance
    // sub-process's own), not only the nearest one's.
    const start = this.getStartTask();
    const received = this.execution.getVariableInScopes(BpeVariables.tasks).flatMap((v) => (Array.isArray(v) ? (v as Task[]) : []));
    return distinctById(start ? [start, ...received] : received);
  }
  updateTask(task: Task): void {
    if (!task?.id) {
      this.logger?.warn('updateTask: the Task has no id, ignoring it');
      return;
    }
    if (this.getStartTask()?.id === task.id) {
      this.execution.setVariable(BpeVariables.startTask, task);
      return;
    }
    const local = (this.execution.getVariableLocal(BpeVariables.tasks) as Task[] | null) ?? null;
    if (local?.some((t) => t.id === task.id)) {
      this.execution.setVariableLocal(BpeVariables.tasks, local.map((t) => (t.id === task.id ? task : t)));
      return;
    }
    const visible = (this.execution.getVariable(BpeVariables.tasks) as Task[] | null) ?? null;
    if (visible?.some((t) => t.id === task.id)) {
      this.execution.setVariable(BpeVariables.tasks, visible.map((t) => (t.id === task.id ? task : t)));
      return;
    }
    this.logger?.warn(`updateTask: Task ${task.id} is not one of the process's Tasks, ignoring it`);
  }
  getStartTaskUpdater(): StartTaskUpdater {
    if (!this.local) throw new Error('no FHIR client for the start Task updater');
    return (this.startTaskUpdater ??= new StartTaskUpdaterImpl(this.local, () => this.getStartTask(), (t) => this.updateTask(t)));
  }
  getLatestReceivedQuestionnaireResponse(): QuestionnaireResponse | undefined {
    return (this.execution.getVariable(BpeVariables.questionnaireResponse) as QuestionnaireResponse | null) ?? undefined;
  }

  setFhirResource(name: string, resource: Resource | null): void {
    this.execution.setVariable(name, resource);
  }
  getFhirResource<R extends Resource = Resource>(name: string): R | undefined {
    return (this.execution.getVariable(name) as R | null) ?? undefined;
  }
  setFhirResourceList(name: string, resources: readonly Resource[] | null): void {
    this.execution.setVariable(name, resources === null ? null : [...resources]);
  }
  getFhirResourceList<R extends Resource = Resource>(name: string): R[] | undefined {
    return (this.execution.getVariable(name) as R[] | null) ?? undefined;
  }
  setFhirResourceLocal(name: string, resource: Resource | null): void {
    this.execution.setVariableLocal(name, resource);
  }
  getFhirResourceLocal<R extends Resource = Resource>(name: string): R | undefined {
    return (this.execution.getVariableLocal(name) as R | null) ?? undefined;
  }
  setFhirResourceListLocal(name: string, resources: readonly Resource[] | null): void {
    this.execution.setVariableLocal(name, resources === null ? null : [...resources]);
  }
  getFhirResourceListLocal<R extends Resource = Resource>(name: string): R[] | undefined {
    return (this.execution.getVariableLocal(name) as R[] | null) ?? undefined;
  }

  setJsonVariable(name: string, value: unknown): void {
    this.execution.setVariable(name, value === undefined ? null : encodeJsonValue(value));
  }
  getJsonVariable<T = unknown>(name: string): T | undefined {
    return (decoded(this.execution.getVariable(name)) as T | null) ?? undefined;
  }
  setJsonVariableLocal(name: string, value: unknown): void {
    this.execution.setVariableLocal(name, value === undefined ? null : encodeJsonValue(value));
  }
  getJsonVariableLocal<T = unknown>(name: string): T | undefined {
    return (decoded(this.execution.getVariableLocal(name)) as T | null) ?? undefined;
  }

  setString(name: string, value: string | null): void {
    this.execution.setVariable(name, value);
  }
  getString(name: string): string | undefined {
    return asString(this.execution.getVariable(name));
  }
  setNumber(name: string, value: number | null): void {
    this.execution.setVariable(name, value);
  }
  getNumber(name: string): number | undefined {
    return asNumber(this.execution.getVariable(name));
  }
  setBoolean(name: string, value: boolean | null): void {
    this.execution.setVariable(name, value);
  }
  getBoolean(name: string): boolean | undefined {
    return asBoolean(this.execution.getVariable(name));
  }
  setDate(name: string, value: Date | null): void {
    this.execution.setVariable(name, value);
  }
  getDate(name: string): Date | undefined {
    const v = this.execution.getVariable(name);
    return v instanceof Date ? v : undefined;
  }
  setByteArray(name: string, value: Uint8Array | null): void {
    this.execution.setVariable(name, value);
  }
  getByteArray(name: string): Uint8Array | undefined {
    const v = this.execution.getVariable(name);
    return v instanceof Uint8Array ? v : undefined;
  }
  setInteger(name: string, value: number | null): void {
    this.execution.setVariable(name, wholeNumber(name, value));
  }
  getInteger(name: string): number | undefined {
    const v = asNumber(this.execution.getVariable(name));
    return v !== undefined && Number.isInteger(v) ? v : undefined;
  }
  setLong(name: string, value: number | null): void {
    this.setInteger(name, value);
  }
  getLong(name: string): number | undefined {
    return this.getInteger(name);
  }
  setDouble(name: string, value: number | null): void {
    this.execution.setVariable(name, value);
  }
  getDouble(name: string): number | undefined {
    return asNumber(this.execution.getVariable(name));
  }
  setStringList(name: string, value: readonly string[] | null): void {
    this.execution.setVariable(name, stringList(name, value));
  }
  getStringList(name: string): string[] | undefined {
    return asStringList(this.execution.getVariable(name));
  }
  setDateLocal(name: string, value: Date | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getDateLocal(name: string): Date | undefined {
    const v = this.execution.getVariableLocal(name);
    return v instanceof Date ? v : undefined;
  }
  setByteArrayLocal(name: string, value: Uint8Array | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getByteArrayLocal(name: string): Uint8Array | undefined {
    const v = this.execution.getVariableLocal(name);
    return v instanceof Uint8Array ? v : undefined;
  }
  setIntegerLocal(name: string, value: number | null): void {
    this.execution.setVariableLocal(name, wholeNumber(name, value));
  }
  getIntegerLocal(name: string): number | undefined {
    const v = asNumber(this.execution.getVariableLocal(name));
    return v !== undefined && Number.isInteger(v) ? v : undefined;
  }
  setLongLocal(name: string, value: number | null): void {
    this.setIntegerLocal(name, value);
  }
  getLongLocal(name: string): number | undefined {
    return this.getIntegerLocal(name);
  }
  setDoubleLocal(name: string, value: number | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getDoubleLocal(name: string): number | undefined {
    return asNumber(this.execution.getVariableLocal(name));
  }
  setStringListLocal(name: string, value: readonly string[] | null): void {
    this.execution.setVariableLocal(name, stringList(name, value));
  }
  getStringListLocal(name: string): string[] | undefined {
    return asStringList(this.execution.getVariableLocal(name));
  }
  setStringLocal(name: string, value: string | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getStringLocal(name: string): string | undefined {
    return asString(this.execution.getVariableLocal(name));
  }
  setNumberLocal(name: string, value: number | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getNumberLocal(name: string): number | undefined {
    return asNumber(this.execution.getVariableLocal(name));
  }
  setBooleanLocal(name: string, value: boolean | null): void {
    this.execution.setVariableLocal(name, value);
  }
  getBooleanLocal(name: string): boolean | undefined {
    return asBoolean(this.execution.getVariableLocal(name));
  }

  getVariable<T = unknown>(name: string): T {
    return decoded(this.execution.getVariable(name)) as T;
  }
  setVariable(name: string, value: unknown): void {
    this.execution.setVariable(name, value);
  }
  getVariableLocal<T = unknown>(name: string): T {
    return decoded(this.execution.getVariableLocal(name)) as T;
  }
  setVariableLocal(name: string, value: unknown): void {
    this.execution.setVariableLocal(name, value);
  }
}
