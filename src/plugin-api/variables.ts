// The process variables an activity reads and writes (the reference's v2 `Variables`): business keys,
// targets, the Tasks that started and continued the process, FHIR resources and typed values. The
// `...Local` variants use the activity's own scope (e.g. one instance of a multi-instance sub-process).
import type { QuestionnaireResponse, Resource, Task } from '@medplum/fhirtypes';
import type { Target, Targets } from './targets.ts';

export interface Variables {
  getBusinessKey(): string;
  /** Tasks that carry this key as business-key also correlate with the instance (see BusinessKeyStrategies.ALTERNATIVE). */
  setAlternativeBusinessKey(alternativeBusinessKey: string): void;
  getCurrentActivityId(): string;
  getProcessDefinitionId(): string;
  /** Id of the execution running the activity. */
  getActivityInstanceId(): string;

  setTarget(target: Target | null): void;
  getTarget(): Target | undefined;
  setTargets(targets: Targets | null): void;
  getTargets(): Targets | undefined;

  /** The Task that started the process (with the outputs set through updateTask). */
  getStartTask(): Task | undefined;
  /** The most recent Task of the current scope (the start Task if none arrived since). */
  getLatestTask(): Task | undefined;
  /** The start Task and every Task received since, in the order they arrived. */
  getTasks(): Task[];
  /** The Tasks of the current scope: the start Task at process level, plus those received in this scope. */
  getCurrentTasks(): Task[];
  /** Stores a changed copy of one of the process's Tasks (e.g. with new outputs); they are written when the scope ends. */
  updateTask(task: Task): void;
  /** The QuestionnaireResponse that completed the latest user task. */
  getLatestReceivedQuestionnaireResponse(): QuestionnaireResponse | undefined;

  setFhirResource(name: string, resource: Resource | null): void;
  getFhirResource<R extends Resource = Resource>(name: string): R | undefined;
  setFhirResourceList(name: string, resources: readonly Resource[] | null): void;
  getFhirResourceList<R extends Resource = Resource>(name: string): R[] | undefined;
  setFhirResourceLocal(name: string, resource: Resource | null): void;
  getFhirResourceLocal<R extends Resource = Resource>(name: string): R | undefined;
  setFhirResourceListLocal(name: string, resources: readonly Resource[] | null): void;
  getFhirResourceListLocal<R extends Resource = Resource>(name: string): R[] | undefined;

  /** Any JSON value (objects, arrays); stored as JSON, read back as a copy. */
  setJsonVariable(name: string, value: unknown): void;
  getJsonVariable<T = unknown>(name: string): T | undefined;
  setJsonVariableLocal(name: string, value: unknown): void;
  getJsonVariableLocal<T = unknown>(name: string): T | undefined;

  setString(name: string, value: string | null): void;
  getString(name: string): string | undefined;
  setNumber(name: string, value: number | null): void;
  getNumber(name: string): number | undefined;
  setBoolean(name: string, value: boolean | null): void;
  getBoolean(name: string): boolean | undefined;
  setDate(name: string, value: Date | null): void;
  getDate(name: string): Date | undefined;
  setByteArray(name: string, value: Uint8Array | null): void;
  getByteArray(name: string): Uint8Array | undefined;
  setStringLocal(name: string, value: string | null): void;
  getStringLocal(name: string): string | undefined;
  setNumberLocal(name: string, value: number | null): void;
  getNumberLocal(name: string): number | undefined;
  setBooleanLocal(name: string, value: boolean | null): void;
  getBooleanLocal(name: string): boolean | undefined;

  /** Any variable as stored (for values set by BPMN expressions). */
  getVariable(name: string): unknown;
  setVariable(name: string, value: unknown): void;
  getVariableLocal(name: string): unknown;
  setVariableLocal(name: string, value: unknown): void;
}
