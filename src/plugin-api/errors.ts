// Errors of activities and their handlers. An activity that throws an ErrorBoundaryEvent raises a
// BPMN error (caught by a matching error boundary event). Any other error goes to the activity's
// error handler, which may absorb it (return null: the process goes on), turn it into an
// ErrorBoundaryEvent, or return it: then the in-progress Tasks are failed and the instance is stopped.
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { BpmnMessage } from './constants.ts';
import { FhirHttpError } from './fhir-client.ts';
import type { ProcessPluginApi } from './services.ts';
import type { Variables } from './variables.ts';

/** Raises the BPMN error `errorCode`; the nearest error boundary event with that code catches it. */
export class ErrorBoundaryEvent extends Error {
  constructor(
    readonly errorCode: string,
    readonly errorMessage: string,
  ) {
    if (!errorCode) throw new TypeError('errorCode empty');
    if (!errorMessage) throw new TypeError('errorMessage empty');
    super(`${errorCode} - ${errorMessage}`);
    this.name = 'ErrorBoundaryEvent';
  }
}

/** Values of the camunda:field injections every message activity needs. */
export interface SendTaskValues {
  readonly instantiatesCanonical: string;
  readonly messageName: string;
  readonly profile: string;
}

/** What a handler returns: null absorbs the error, an ErrorBoundaryEvent raises a BPMN error, anything else stops the instance. */
export type HandledError = unknown | null;

export interface ExceptionErrorHandler {
  handleException(api: ProcessPluginApi, variables: Variables, error: unknown): Promise<HandledError> | HandledError;
}

export interface ServiceTaskErrorHandler extends ExceptionErrorHandler {
  /** Called for ErrorBoundaryEvents the task throws; return null to swallow the event. */
  handleErrorBoundaryEvent(api: ProcessPluginApi, variables: Variables, event: ErrorBoundaryEvent): Promise<ErrorBoundaryEvent | null> | ErrorBoundaryEvent | null;
}

export type ExecutionListenerErrorHandler = ExceptionErrorHandler;
export type UserTaskListenerErrorHandler = ExceptionErrorHandler;

export interface MessageActivityErrorHandler {
  handleException(api: ProcessPluginApi, variables: Variables, sendTaskValues: SendTaskValues, error: unknown): Promise<HandledError> | HandledError;
}

export function errorMessageOf(error: unknown): string {
  if (error instanceof FhirHttpError && !error.message) return `${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Shared by the default handlers: set in-progress Tasks to failed with an `error` output. */
export abstract class TaskFailingErrorHandler {
  protected getTasks(_api: ProcessPluginApi, variables: Variables, _error: unknown): Task[] {
    return variables.getTasks();
  }

  protected createTaskErrorOutput(_api: ProcessPluginApi, _variables: Variables, errorMessage: string): TaskOutput {
    return { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.error }] }, valueString: errorMessage };
  }

  /** Newest first, as the reference does; each failed Task is written to the local FHIR server. */
  protected async updateFailedIfInProgress(api: ProcessPluginApi, variables: Variables, errorMessage: string, tasks: Task[]): Promise<void> {
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i]!;
      if (task.status !== 'in-progress') continue;
      task.status = 'failed';
      (task.output ??= []).push(this.createTaskErrorOutput(api, variables, errorMessage));
      try {
        const updated = await api.dsfClientProvider.getLocal().update(task);
        variables.updateTask(updated);
      } catch (e) {
        api.logger.error(`Unable to update Task ${api.taskHelper.getLocalVersionlessAbsoluteUrl(task)}: ${errorMessageOf(e)}`);
      }
    }
  }
}

/**
 * The reference's default for service tasks and listeners: log, set every in-progress Task of the
 * process to failed with an `error` output, and return the error (the instance stops).
 */
export class DefaultErrorHandler extends TaskFailingErrorHandler implements ServiceTaskErrorHandler {
  handleErrorBoundaryEvent(api: ProcessPluginApi, variables: Variables, event: ErrorBoundaryEvent): ErrorBoundaryEvent | null {
    api.logger.warn(
      `Process ${variables.getProcessDefinitionId()} encountered error boundary event in step ${variables.getActivityInstanceId()} for task ${api.taskHelper.getLocalVersionlessAbsoluteUrl(variables.getStartTask()) ?? '-'}, error-code: ${event.errorCode}, error-message: ${event.errorMessage}`,
    );
    return event;
  }

  async handleException(api: ProcessPluginApi, variables: Variables, error: unknown): Promise<HandledError> {
    api.logger.warn(
      `Process ${variables.getProcessDefinitionId()} has fatal error in step ${variables.getActivityInstanceId()} for task ${api.taskHelper.getLocalVersionlessAbsoluteUrl(variables.getStartTask()) ?? '-'}, reason: ${errorName(error)} - ${errorMessageOf(error)}`,
    );
    await this.updateFailedIfInProgress(api, variables, this.createErrorMessage(api, variables, error), this.getTasks(api, variables, error));
    return error;
  }

  protected createErrorMessage(_api: ProcessPluginApi, variables: Variables, error: unknown): string {
    return `Process ${variables.getProcessDefinitionId()} has fatal error in step ${variables.getActivityInstanceId()}, reason: ${errorMessageOf(error)}`;
  }
}

function sendErrorMessage(variables: Variables, values: SendTaskValues, error: unknown): string {
  const target = variables.getTarget();
  return (
    `Task ${values.instantiatesCanonical} send failed [recipient: ${target?.organizationIdentifierValue ?? '-'}, endpoint: ${target?.endpointIdentifierValue ?? '-'}, ` +
    `businessKey: ${variables.getBusinessKey()}${target?.correlationKey ? `, correlationKey: ${target.correlationKey}` : ''}, message: ${values.messageName}, ` +
    `error: ${errorName(error)} - ${errorMessageOf(error)}]`
  );
}

/** Message throw events: fail the in-progress Tasks and stop the instance. */
export class DefaultMessageActivityErrorHandler extends TaskFailingErrorHandler implements MessageActivityErrorHandler {
  async handleException(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, error: unknown): Promise<HandledError> {
    api.logger.error(`Process ${variables.getProcessDefinitionId()} has fatal error in step ${variables.getActivityInstanceId()}: ${errorName(error)} - ${errorMessageOf(error)}`);
    await this.updateFailedIfInProgress(api, variables, sendErrorMessage(variables, values, error), this.getTasks(api, variables, error));
    return error;
  }
}

/**
 * Send tasks: in a multi-instance send (targets set) the failed target is removed from `targets`
 * and the process goes on; otherwise as a throw event.
 */
export class DefaultMessageSendTaskErrorHandler extends DefaultMessageActivityErrorHandler {
  override async handleException(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, error: unknown): Promise<HandledError> {
    const targets = variables.getTargets();
    const target = variables.getTarget();
    if (!targets?.entries.length || !target) return super.handleException(api, variables, values, error);
    variables.setTargets({ entries: targets.entries.filter((t) => t.endpointIdentifierValue !== target.endpointIdentifierValue) });
    await this.updateFailedIfInProgress(api, variables, sendErrorMessage(variables, values, error), this.getTasks(api, variables, error));
    api.logger.debug(`Target organization ${target.organizationIdentifierValue}, endpoint ${target.endpointIdentifierValue} with error ${errorMessageOf(error)} removed from target list`);
    return null;
  }
}

/** Message end events: fail the in-progress Tasks; the instance ends anyway. */
export class DefaultMessageEndEventErrorHandler extends DefaultMessageActivityErrorHandler {
  override async handleException(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, error: unknown): Promise<HandledError> {
    await super.handleException(api, variables, values, error);
    return null;
  }
}

/** Turns every error into an ErrorBoundaryEvent with a code computed from the error. */
export class ExceptionToErrorBoundaryEventTranslationErrorHandler implements ServiceTaskErrorHandler, MessageActivityErrorHandler {
  constructor(
    private readonly errorCode: (error: unknown) => string,
    private readonly errorMessage: (error: unknown) => string = errorMessageOf,
  ) {}

  handleException(...args: [ProcessPluginApi, Variables, unknown] | [ProcessPluginApi, Variables, SendTaskValues, unknown]): ErrorBoundaryEvent {
    const error = args[args.length - 1];
    return new ErrorBoundaryEvent(this.errorCode(error), this.errorMessage(error) || 'error');
  }

  handleErrorBoundaryEvent(_api: ProcessPluginApi, _variables: Variables, event: ErrorBoundaryEvent): ErrorBoundaryEvent {
    return event;
  }
}
