// The engine's delegates for plugin activities. The engine knows camunda:class names only; the same
// name can mean different classes in two versions of a plugin, so each invocation finds the plugin of
// its process definition first, then the class, and runs it with the reference's v2 semantics:
// ErrorBoundaryEvent -> BPMN error, other errors -> the activity's error handler, which absorbs them,
// turns them into an ErrorBoundaryEvent, or stops the instance.
import { BpmnError, type DelegateExecution, type DelegateFactory, type DelegateInstance, type DelegateTask, type FlowNode } from '../engine/index.ts';
import {
  DefaultUserTaskListener,
  ErrorBoundaryEvent,
  type Activity,
  type ActivityClass,
  type ExecutionListener,
  type MessageActivity,
  type ProcessPluginApi,
  type SendTaskValues,
  type ServiceTask,
  type UserTaskListener,
} from '../../plugin-api/index.ts';
import type { LoadedPlugin } from './loaded-plugin.ts';
import { ProcessInstanceStop } from './instance-stop.ts';
import { VariablesImpl } from './variables-impl.ts';

export interface PluginRuntime {
  plugin: LoadedPlugin;
  api: ProcessPluginApi;
}

/** Finds the plugin (and its API object) of a process definition. */
export type PluginResolver = (processDefinitionId: string) => Promise<PluginRuntime>;

const isTask = (x: DelegateExecution | DelegateTask): x is DelegateTask => 'taskDefinitionKey' in x && 'execution' in x;

export class PluginActivities {
  /** camunda:class name -> engine delegate (shared by every plugin naming it). */
  readonly registry = new Map<string, DelegateFactory>();

  constructor(private readonly resolve: PluginResolver) {}

  /** Makes every class name of these plugins known to the engine. */
  register(plugins: readonly LoadedPlugin[]): void {
    for (const p of plugins) for (const name of p.activities.keys()) if (!this.registry.has(name)) this.registry.set(name, (fields) => this.delegate(name, fields));
  }

  /** The engine's afterUserTaskCreated hook: the default user task listener unless the BPMN names a subclass of it. */
  async afterUserTaskCreated(task: DelegateTask, node: FlowNode): Promise<void> {
    const { plugin, api } = await this.resolve(task.execution.processDefinitionId);
    const declared = node.taskListeners.filter((l) => l.event === 'create').map((l) => (l.implementation.className ? plugin.activities.get(l.implementation.className) : undefined));
    if (declared.some((cls) => cls && (cls === DefaultUserTaskListener || cls.prototype instanceof DefaultUserTaskListener))) return;
    await this.runUserTaskListener(new DefaultUserTaskListener({}), api, task);
  }

  private delegate(className: string, fields: Readonly<Record<string, unknown>>): DelegateInstance {
    const run = async (target: DelegateExecution | DelegateTask) => {
      const execution = isTask(target) ? target.execution : target;
      const { plugin, api } = await this.resolve(execution.processDefinitionId);
      const cls: ActivityClass | undefined = plugin.activities.get(className);
      if (!cls) throw new Error(`plugin ${plugin.name}-${plugin.version} has no activity for camunda:class ${className}`);
      const activity = new (cls as unknown as new (f: Readonly<Record<string, unknown>>) => Activity)(fields);
      switch (cls.activityKind) {
        case 'ServiceTask':
          return this.runServiceTask(activity as ServiceTask, api, execution);
        case 'MessageSendTask':
        case 'MessageIntermediateThrowEvent':
        case 'MessageEndEvent':
          return this.runMessageActivity(activity as MessageActivity, api, execution, sendTaskValues(fields));
        case 'ExecutionListener':
          return this.runExecutionListener(activity as ExecutionListener, api, execution);
        case 'UserTaskListener':
          if (!isTask(target)) throw new Error(`${className} is a user task listener, but runs outside a user task`);
          return this.runUserTaskListener(activity as UserTaskListener, api, target);
      }
    };
    // One object serves every element kind: the engine calls execute for tasks and notify for listeners.
    return { execute: run, notify: run } as unknown as DelegateInstance;
  }

  private async runServiceTask(activity: ServiceTask, api: ProcessPluginApi, execution: DelegateExecution): Promise<void> {
    const variables = new VariablesImpl(execution, api.logger);
    const handler = activity.getErrorHandler();
    try {
      await activity.execute(api, variables);
    } catch (error) {
      let outcome: unknown = error;
      if (!(error instanceof ErrorBoundaryEvent)) outcome = await handler.handleException(api, variables, error);
      if (outcome === null || outcome === undefined) return;
      if (outcome instanceof ErrorBoundaryEvent) {
        const event = await handler.handleErrorBoundaryEvent(api, variables, outcome);
        if (event) throw new BpmnError(event.errorCode, event.errorMessage);
        return;
      }
      throw new ProcessInstanceStop(execution.processInstanceId, outcome);
    }
  }

  private async runMessageActivity(activity: MessageActivity, api: ProcessPluginApi, execution: DelegateExecution, values: SendTaskValues): Promise<void> {
    const variables = new VariablesImpl(execution, api.logger);
    try {
      await activity.execute(api, variables, values);
    } catch (error) {
      const outcome = await activity.getErrorHandler().handleException(api, variables, values, error);
      this.afterHandler(outcome, execution);
    }
  }

  private async runExecutionListener(activity: ExecutionListener, api: ProcessPluginApi, execution: DelegateExecution): Promise<void> {
    const variables = new VariablesImpl(execution, api.logger);
    try {
      await activity.notify(api, variables);
    } catch (error) {
      this.afterHandler(error instanceof ErrorBoundaryEvent ? error : await activity.getErrorHandler().handleException(api, variables, error), execution);
    }
  }

  private async runUserTaskListener(activity: UserTaskListener, api: ProcessPluginApi, task: DelegateTask): Promise<void> {
    const variables = new VariablesImpl(task.execution, api.logger);
    try {
      await activity.notify(api, variables, { userTaskId: task.id, formKey: task.formKey ?? '' });
    } catch (error) {
      this.afterHandler(error instanceof ErrorBoundaryEvent ? error : await activity.getErrorHandler().handleException(api, variables, error), task.execution);
    }
  }

  private afterHandler(outcome: unknown, execution: DelegateExecution): void {
    if (outcome === null || outcome === undefined) return;
    if (outcome instanceof ErrorBoundaryEvent) throw new BpmnError(outcome.errorCode, outcome.errorMessage);
    throw new ProcessInstanceStop(execution.processInstanceId, outcome);
  }
}

function sendTaskValues(fields: Readonly<Record<string, unknown>>): SendTaskValues {
  return {
    instantiatesCanonical: String(fields.instantiatesCanonical ?? ''),
    messageName: String(fields.messageName ?? ''),
    profile: String(fields.profile ?? ''),
  };
}
