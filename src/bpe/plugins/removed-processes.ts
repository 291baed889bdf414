// Instances of processes no plugin provides any more (the plugin was removed, or this version of it).
// The reference leaves them waiting forever (its open issue #276); here they end at deployment: every
// active instance of such a process is cancelled, and each of its Tasks still in progress (the start
// Task and those it received, in any scope) is set to failed with an error output saying why. Processes
// whose plugin is still loaded (RETIRED or EXCLUDED by configuration) keep their instances running.
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import type { ProcessEngine } from '../engine/index.ts';
import { BpmnMessage, errorMessageOf, type FhirClient } from '../../plugin-api/index.ts';
import type { BpeLogger } from '../services/logging.ts';
import { processKey } from './loaded-plugin.ts';
import type { ProcessStateChange } from './process-states.ts';
import { BpeVariables } from './variable-names.ts';

export interface EndedInstance {
  instanceId: string;
  processId: string;
  version: string;
  /** Ids of the Tasks set to failed. */
  failedTasks: string[];
}

export function removalMessage(processId: string, version: string): string {
  return `Process ${processId}|${version} is no longer provided by any process plugin of this BPE; the process instance was ended`;
}

/** Ends the active instances of the processes in `states` that no loaded plugin provides (`loaded`: processKey set). */
export async function endInstancesOfRemovedProcesses(
  engine: ProcessEngine,
  client: FhirClient,
  states: readonly ProcessStateChange[],
  loaded: ReadonlySet<string>,
  logger: BpeLogger,
): Promise<EndedInstance[]> {
  const removed = new Set(states.filter((s) => !loaded.has(processKey(s.processId, s.version))).map((s) => processKey(s.processId, s.version)));
  if (removed.size === 0) return [];
  const ended: EndedInstance[] = [];
  for (const d of await engine.listDefinitions()) {
    const version = d.versionTag ?? '';
    if (!removed.has(processKey(d.key, version))) continue;
    for (const instance of await engine.listInstances({ definitionId: d.id, state: 'active' })) {
      const message = removalMessage(d.key, version);
      const failedTasks: string[] = [];
      for (const task of await tasksOf(engine, instance.id)) {
        if (await failTask(client, task.id!, message, logger)) failedTasks.push(task.id!);
      }
      await engine.cancelInstance(instance.id);
      logger.warn(`${message}: instance ${instance.id} (business key ${instance.businessKey ?? '-'}), Tasks failed: ${failedTasks.join(', ') || 'none'}`);
      ended.push({ instanceId: instance.id, processId: d.key, version, failedTasks });
    }
  }
  return ended;
}

/** The start Task and every Task the instance received, each once. */
async function tasksOf(engine: ProcessEngine, instanceId: string): Promise<Task[]> {
  const values = await engine.findVariables(instanceId, [BpeVariables.startTask, BpeVariables.tasks, BpeVariables.incomingTask]);
  const byId = new Map<string, Task>();
  for (const v of values.flatMap((x) => (Array.isArray(x.value) ? x.value : [x.value]))) {
    const task = v as Task | undefined;
    if (task?.resourceType === 'Task' && task.id && !byId.has(task.id)) byId.set(task.id, task);
  }
  return [...byId.values()];
}

/** Sets the Task (as the FHIR server has it now) to failed with an error output, if still in progress. */
async function failTask(client: FhirClient, id: string, message: string, logger: BpeLogger): Promise<boolean> {
  try {
    const current = await client.read<Task>('Task', id);
    if (current.status !== 'in-progress') return false;
    const error: TaskOutput = { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.error }] }, valueString: message };
    await client.update({ ...current, status: 'failed', output: [...(current.output ?? []), error] });
    return true;
  } catch (e) {
    logger.error(`Unable to set Task/${id} failed: ${errorMessageOf(e)}`);
    return false;
  }
}
