// Reading and writing Task inputs and outputs by coding (pure; no I/O).
import type { Coding, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';

type Parameter = TaskInput | TaskOutput;

function hasCoding(p: Parameter, system: string, code: string): boolean {
  return (p.type?.coding ?? []).some((c) => c.system === system && c.code === code);
}

export class TaskHelper {
  constructor(private readonly localBaseUrl: string) {}

  /** https://local/fhir/Task/<id> (no version), or undefined for a Task without id. */
  getLocalVersionlessAbsoluteUrl(task: Task | undefined): string | undefined {
    return task?.id ? `${this.localBaseUrl}/Task/${task.id}` : undefined;
  }

  getInputParameters(task: Task, system: string, code: string): TaskInput[] {
    return (task.input ?? []).filter((p) => hasCoding(p, system, code));
  }

  getInputParameterStringValues(task: Task, system: string, code: string): string[] {
    return this.getInputParameters(task, system, code)
      .map((p) => p.valueString)
      .filter((v): v is string => typeof v === 'string');
  }

  getFirstInputParameterStringValue(task: Task, system: string, code: string): string | undefined {
    return this.getInputParameterStringValues(task, system, code)[0];
  }

  getFirstInputParameter(task: Task, system: string, code: string): TaskInput | undefined {
    return this.getInputParameters(task, system, code)[0];
  }

  getOutputParameters(task: Task, system: string, code: string): TaskOutput[] {
    return (task.output ?? []).filter((p) => hasCoding(p, system, code));
  }

  /** An input with one coding and the given value[x] (e.g. { valueString: 'x' }). */
  createInput(value: Omit<TaskInput, 'type'>, system: string, code: string, version?: string): TaskInput {
    return { type: { coding: [codingOf(system, code, version)] }, ...value } as TaskInput;
  }

  createOutput(value: Omit<TaskOutput, 'type'>, system: string, code: string, version?: string): TaskOutput {
    return { type: { coding: [codingOf(system, code, version)] }, ...value } as TaskOutput;
  }
}

function codingOf(system: string, code: string, version?: string): Coding {
  return version ? { system, code, version } : { system, code };
}
