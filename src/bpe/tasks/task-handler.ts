// A requested Task addressed to this organisation starts or continues a process (the reference's
// TaskHandler): business key added when missing, Task set in-progress, the process chosen from
// instantiatesCanonical (URL and a.b version), then started by its message name, or the message
// correlated by business key (or alternative business key) and correlation key. When nothing
// matches, or the process fails, the Task becomes failed with an error output saying why.
//
// Each Task is handled once: it is claimed in bpe_handled_resource before anything is written, and
// the claim is finished in the engine's own transaction. A claim left by a crash is resumed.
import { traceIdOf } from '../../common/trace.ts';
import { randomUUID } from 'node:crypto';
import type { Resource, Task } from '@medplum/fhirtypes';
import { MessageCorrelationError, type ProcessEngine } from '../engine/index.ts';
import { BpmnMessage, INSTANTIATES_CANONICAL_PATTERN, processIdOf, type FhirClient } from '../../plugin-api/index.ts';
import { AlreadyHandled, type HandledResources } from '../connector/handled-resources.ts';
import type { ResourceHandler } from '../connector/resource-connector.ts';
import { ProcessInstanceStop } from '../plugins/instance-stop.ts';
import type { PluginManager } from '../plugins/plugin-manager.ts';
import { BpeVariables } from '../plugins/variable-names.ts';
import type { BpeLogger } from '../services/logging.ts';
import { bpmnMessageInput, withBusinessKey, withError } from './task-inputs.ts';

export interface TaskHandlerDeps {
  engine: ProcessEngine;
  plugins: PluginManager;
  local: FhirClient;
  handled: HandledResources;
  logger: BpeLogger;
  /** True once a shutdown gave up waiting and cut the database connections of the work still running. */
  abandoned?: () => boolean;
}

/** Ends handling with the Task failed and this text as its error output. */
class TaskFailure extends Error {}

export class TaskHandler implements ResourceHandler {
  readonly type = 'Task' as const;

  constructor(private readonly deps: TaskHandlerDeps) {}

  async handle(resource: Resource): Promise<void> {
    const task = resource as Task;
    if (task.resourceType !== 'Task' || !task.id || task.status !== 'requested') return;
    const businessKey = bpmnMessageInput(task, BpmnMessage.businessKey) ?? randomUUID();
    // Seen before (live event and catch-up overlap, or handled by an earlier run): nothing to do.
    if (!(await this.deps.handled.claim('Task', task.id, task.meta?.versionId, businessKey))) return;
    await this.process(task, businessKey, false);
  }

  async resumeUnfinished(): Promise<void> {
    for (const claimed of await this.deps.handled.unfinished('Task')) {
      let task: Task;
      try {
        task = await this.deps.local.read<Task>('Task', claimed.id);
      } catch (e) {
        this.deps.logger.warn(`Task/${claimed.id} claimed before a restart cannot be read: ${(e as Error).message}`);
        continue;
      }
      if (task.status === 'requested') await this.process(task, bpmnMessageInput(task, BpmnMessage.businessKey) ?? claimed.detail ?? randomUUID(), false);
      else if (task.status === 'in-progress') await this.process(task, bpmnMessageInput(task, BpmnMessage.businessKey) ?? claimed.detail ?? randomUUID(), true);
      else await this.deps.handled.finish('Task', claimed.id, 'ignored', `status ${task.status} when resumed`);
    }
  }

  private async process(received: Task, businessKey: string, alreadyInProgress: boolean): Promise<void> {
    const { engine, local, handled, logger } = this.deps;
    let task = bpmnMessageInput(received, BpmnMessage.businessKey) ? received : withBusinessKey(received, businessKey);
    try {
      const target = await this.resolve(task);
      if (!alreadyInProgress) {
        try {
          task = await local.update({ ...task, status: 'in-progress' }, { ifMatch: received.meta?.versionId });
        } catch (e) {
          logger.warn(`Unable to update Task ${task.id} (status in-progress): ${(e as Error).message}`);
          throw new TaskFailure("Unable to update Task to status 'in-progress'");
        }
      }
      const finish = (state: string) => (client: Parameters<typeof handled.finishIn>[0]) => handled.finishIn(client, 'Task', task.id!, state);
      const [active, alternative] = await Promise.all([
        engine.listInstances({ definitionId: target.definitionId, businessKey, state: 'active' }),
        engine.listInstances({ definitionId: target.definitionId, alternativeBusinessKey: businessKey, state: 'active' }),
      ]);
      if (active.length + alternative.length === 0) {
        if (!target.startMessages.includes(target.messageName)) throw new TaskFailure(`Process with start message-name '${target.messageName}' not found`);
        const instance = await engine.startProcessByMessage(target.messageName, {
          definitionId: target.definitionId,
          businessKey,
          variables: { [BpeVariables.startTask]: task },
          inTransaction: finish('started'),
        });
        logger.info(`Started process ${target.processId}|${target.version} [task: ${task.id}, business-key: ${businessKey}, instance: ${instance.id}, trace: ${traceIdOf(businessKey)}]`);
      } else {
        try {
          await engine.correlateMessage(target.messageName, {
            businessKey,
            ...(target.correlationKey !== undefined ? { correlationKey: target.correlationKey } : {}),
            localVariables: { [BpeVariables.incomingTask]: task },
            inTransaction: finish('correlated'),
          });
          logger.info(`Correlated message ${target.messageName} [task: ${task.id}, business-key: ${businessKey}, trace: ${traceIdOf(businessKey)}]`);
        } catch (e) {
          if (e instanceof MessageCorrelationError) {
            logger.warn(`Unable to correlate Task ${task.id}: ${e.message}`);
            throw new TaskFailure('Unable to correlate Task');
          }
          throw e;
        }
      }
    } catch (e) {
      if (e instanceof AlreadyHandled) return;
      // Cut off by the shutdown, not failed: the claim stays open and the Task is resumed after the restart.
      if (this.deps.abandoned?.()) throw e;
      if (e instanceof ProcessInstanceStop) {
        // The activity's error handler has set the Tasks to failed; the instance is stopped.
        await engine.cancelInstance(e.instanceId).catch(() => false);
        await this.fail(task, `Process stopped: ${(e.reason as Error)?.message ?? e.message}`);
        return;
      }
      const message = e instanceof TaskFailure ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
      if (!(e instanceof TaskFailure)) logger.error(`Unable to handle Task ${task.id}: ${message}`);
      else logger.warn(`Task ${task.id} failed: ${message}`);
      await this.fail(task, message);
    }
  }

  /** Which active process definition the Task is for, and how to deliver its message. */
  private async resolve(task: Task) {
    const m = INSTANTIATES_CANONICAL_PATTERN.exec(task.instantiatesCanonical ?? '');
    if (!m?.groups) throw new TaskFailure(`InstantiatesCanonical of Task with id ${task.id} does not match ${INSTANTIATES_CANONICAL_PATTERN.source}`);
    const processId = processIdOf(m.groups.domain!, m.groups.processName!);
    const version = m.groups.processVersion!;
    const definitionId = this.deps.plugins.activeDefinition(processId, version);
    const runtime = this.deps.plugins.pluginOf(processId, version);
    if (!definitionId || !runtime) throw new TaskFailure('Process not found');
    const messageName = bpmnMessageInput(task, BpmnMessage.messageName);
    if (!messageName) throw new TaskFailure('Task has no message-name input');
    const model = runtime.plugin.processes.find((p) => p.processId === processId)!.model;
    const startMessages = model.startEventIds.map((id) => model.nodes.get(id)!.event).flatMap((e) => (e?.type === 'message' ? [e.messageName] : []));
    return { processId, version, definitionId, messageName, correlationKey: bpmnMessageInput(task, BpmnMessage.correlationKey), startMessages };
  }

  /** Sets the Task failed with an error output unless it is no longer open (an error handler may have failed it). */
  private async fail(task: Task, message: string): Promise<void> {
    const { local, handled, logger } = this.deps;
    try {
      const current = await local.read<Task>('Task', task.id!);
      if (current.status === 'requested' || current.status === 'in-progress') {
        const base = current.status === 'requested' && !bpmnMessageInput(current, BpmnMessage.businessKey) && bpmnMessageInput(task, BpmnMessage.businessKey) ? withBusinessKey(current, bpmnMessageInput(task, BpmnMessage.businessKey)!) : current;
        await local.update(withError(base, message), { ifMatch: false });
      }
    } catch (e) {
      logger.error(`Unable to update Task ${task.id} (status failed): ${(e as Error).message}`);
    }
    await handled.finish('Task', task.id!, 'failed', message);
  }
}
