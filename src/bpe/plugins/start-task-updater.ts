// Changes the start Task's outputs and writes it to the local FHIR server at once (the reference's
// StartTaskUpdater); the updated Task replaces the process variable.
import type { Coding, Task, TaskOutput } from '@medplum/fhirtypes';
import type { FhirClient, StartTaskUpdater, TaskOutputValue } from '../../plugin-api/index.ts';

type TypeArgs = [Coding] | [string, string, string];

function outputType(args: readonly unknown[]): Coding {
  if (args.length >= 3 && typeof args[0] === 'string') {
    const [system, code, version] = args as [string, string, string];
    for (const [name, v] of [['outputTypeSystem', system], ['outputTypeCode', code], ['outputTypeVersion', version]] as const) {
      if (typeof v !== 'string') throw new TypeError(`${name} missing`);
      if (!v.trim()) throw new RangeError(`${name} is blank`);
    }
    return { system, code, version };
  }
  const coding = args[0] as Coding | undefined;
  if (!coding) throw new TypeError('outputType missing');
  for (const [name, v] of [['outputType.system', coding.system], ['outputType.code', coding.code], ['outputType.version', coding.version]] as const) {
    if (typeof v !== 'string') throw new TypeError(`${name} missing`);
    if (!v.trim()) throw new RangeError(`${name} is blank`);
  }
  return coding;
}

const matches = (type: Coding) => (o: TaskOutput) =>
  (o.type?.coding ?? []).some((c) => c.system === type.system && c.code === type.code && (type.version === undefined || c.version === type.version));

const notFound = (type: Coding) => new RangeError(`Output for type ${type.system}|${type.code}${type.version ? ` (version: ${type.version})` : ''} not found`);

export class StartTaskUpdaterImpl implements StartTaskUpdater {
  constructor(
    private readonly client: FhirClient,
    private readonly getStartTask: () => Task | undefined,
    private readonly updateTask: (task: Task) => void,
  ) {}

  addOutput(...args: [...TypeArgs, TaskOutputValue | undefined]): Promise<Task> {
    const type = outputType(args);
    const value = args[args.length - 1] as TaskOutputValue | undefined;
    const task = this.task();
    (task.output ??= []).push({ type: { coding: [type] }, ...(value ?? {}) } as TaskOutput);
    return this.write(task);
  }

  getOutput(...args: TypeArgs): TaskOutput | undefined {
    const type = outputType(args);
    return (this.getStartTask()?.output ?? []).find(matches(type));
  }

  hasOutput(outputType: Coding): boolean {
    return this.getOutput(outputType) !== undefined;
  }

  modifyOutput(...args: [...TypeArgs, TaskOutputValue | undefined]): Promise<Task> {
    const type = outputType(args);
    const value = args[args.length - 1] as TaskOutputValue | undefined;
    const task = this.task();
    const index = (task.output ?? []).findIndex(matches(type));
    if (index < 0) throw notFound(type);
    const old = task.output![index]!;
    task.output![index] = { ...(old.id ? { id: old.id } : {}), ...(old.extension ? { extension: old.extension } : {}), type: old.type, ...(value ?? {}) } as TaskOutput;
    return this.write(task);
  }

  removeOutput(...args: TypeArgs): Promise<Task> {
    const type = outputType(args);
    const task = this.task();
    const kept = (task.output ?? []).filter((o) => !matches(type)(o));
    if (kept.length === (task.output ?? []).length) throw notFound(type);
    task.output = kept;
    if (kept.length === 0) delete task.output;
    return this.write(task);
  }

  private task(): Task {
    const task = this.getStartTask();
    if (!task) throw new Error('the process has no start Task');
    return structuredClone(task);
  }

  private async write(task: Task): Promise<Task> {
    const updated = await this.client.update(task);
    this.updateTask(updated);
    return updated;
  }
}
