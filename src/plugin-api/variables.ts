// The process variables an activity reads and writes (the reference's v2 `Variables`): business keys,
// targets, the Tasks that started and continued the process, FHIR resources and typed values. The
// `...Local` variants use the activity's own scope (e.g. one instance of a multi-instance sub-process).
import type { Coding, QuestionnaireResponse, Resource, Task, TaskOutput } from '@medplum/fhirtypes';
import type { Target, Targets } from './targets.ts';

/** A Task output's value: one value[x], e.g. { valueString: 'x' } or { valueReference: { reference: 'QuestionnaireResponse/1' } }. */
export type TaskOutputValue = Omit<TaskOutput, 'type' | 'id' | 'extension' | 'modifierExtension'>;

/**
 * Changes the outputs of the start Task and writes the Task to the local FHIR server at once (the
 * reference's StartTaskUpdater); the process variable follows. Output types need system, code and
 * version (not blank: a TypeError when missing, a RangeError when blank), which the outputs must match.
 */
export interface StartTaskUpdater {
  addOutput(outputType: Coding, value: TaskOutputValue | undefined): Promise<Task>;
  addOutput(system: string, code: string, version: string, value: TaskOutputValue | undefined): Promise<Task>;
  getOutput(outputType: Coding): TaskOutput | undefined;
  getOutput(system: string, code: string, version: string): TaskOutput | undefined;
  hasOutput(outputType: Coding): boolean;
  /** Sets the value of an existing output; an unknown output type is a RangeError. */
  modifyOutput(outputType: Coding, value: TaskOutputValue | undefined): Promise<Task>;
  modifyOutput(system: string, code: string, version: string, value: TaskOutputValue | undefined): Promise<Task>;
  /** Removes every output of the type; an unknown output type is a RangeError. */
  removeOutput(outputType: Coding): Promise<Task>;
  removeOutput(system: string, code: string, version: string): Promise<Task>;
}

export interface Variables {
  getBusinessKey(): string;
  /** Tasks that carry this key as business-key also correlate with the instance (see BusinessKeyStrategies.ALTERNATIVE). */
  setAlternativeBusinessKey(alternativeBusinessKey: string | null): void;
  getAlternativeBusinessKey(): string | undefined;
  getCurrentActivityId(): string;
  getProcessDefinitionId(): string;
  /** Id of the execution running the activity. */
  getActivityInstanceId(): string;

  /** A target to send a message to (reference Variables.createTarget); the correlation key for 1:n and n:1 exchanges. */
  createTarget(organizationIdentifierValue: string, endpointIdentifierValue: string, endpointAddress: string, correlationKey?: string): Target;
  /** A target list: iterate `${targets.entries}` with element variable `target` in a multi-instance activity. */
  createTargets(targets?: readonly Target[] | null): Targets;
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
  /** Changes the start Task's outputs and writes it to the local FHIR server at once. */
  getStartTaskUpdater(): StartTaskUpdater;
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

  /**
   * Any JSON value (objects, arrays); stored as JSON, read back as a copy. Date and Uint8Array values
   * inside it come back as Date and Uint8Array (getJsonVariable and getVariable).
   */
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
  /** Whole numbers only (a RangeError otherwise); Integer, Long and Short of the reference. */
  setInteger(name: string, value: number | null): void;
  getInteger(name: string): number | undefined;
  setLong(name: string, value: number | null): void;
  getLong(name: string): number | undefined;
  setDouble(name: string, value: number | null): void;
  getDouble(name: string): number | undefined;
  setStringList(name: string, value: readonly string[] | null): void;
  getStringList(name: string): string[] | undefined;
  setStringLocal(name: string, value: string | null): void;
  getStringLocal(name: string): string | undefined;
  setNumberLocal(name: string, value: number | null): void;
  getNumberLocal(name: string): number | undefined;
  setBooleanLocal(name: string, value: boolean | null): void;
  getBooleanLocal(name: string): boolean | undefined;
  setDateLocal(name: string, value: Date | null): void;
  getDateLocal(name: string): Date | undefined;
  setByteArrayLocal(name: string, value: Uint8Array | null): void;
  getByteArrayLocal(name: string): Uint8Array | undefined;
  setIntegerLocal(name: string, value: number | null): void;
  getIntegerLocal(name: string): number | undefined;
  setLongLocal(name: string, value: number | null): void;
  getLongLocal(name: string): number | undefined;
  setDoubleLocal(name: string, value: number | null): void;
  getDoubleLocal(name: string): number | undefined;
  setStringListLocal(name: string, value: readonly string[] | null): void;
  getStringListLocal(name: string): string[] | undefined;

  /** Any variable as stored (for values set by BPMN expressions); JSON variables with their dates and bytes. */
  getVariable<T = unknown>(name: string): T;
  setVariable(name: string, value: unknown): void;
  getVariableLocal<T = unknown>(name: string): T;
  setVariableLocal(name: string, value: unknown): void;
}
