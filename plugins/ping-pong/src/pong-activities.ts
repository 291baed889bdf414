// The pong process: log the ping, find the endpoint that expects the pong (the ping's endpoint-identifier
// input, known locally and active), answer it with the ping's business and correlation keys, and note
// the outcome as a pong-status output on the ping Task.
import type { Task } from '@medplum/fhirtypes';
import {
  BpmnMessage,
  createTarget,
  DefaultMessageEndEventErrorHandler,
  ErrorBoundaryEvent,
  errorMessageOf,
  isNotAllowed,
  MessageEndEvent,
  ServiceTask,
  type MessageActivityErrorHandler,
  type ProcessPluginApi,
  type SendTaskValues,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { PING_SYSTEM, PingCodes, PingStatus } from './constants.ts';
import { isEnabled, PONG_FAILED_SUBJECT, sendFailureMail } from './failure-mail.ts';
import { pongStatusOutput } from './ping-status-output.ts';

function pingTask(variables: Variables): Task {
  const task = variables.getStartTask();
  if (!task) throw new Error('no start task');
  return task;
}

function endpointIdentifierOf(api: ProcessPluginApi, task: Task): string | undefined {
  return api.taskHelper.getFirstInputParameter(task, PING_SYSTEM, PingCodes.endpointIdentifier)?.valueReference?.identifier?.value;
}

export class LogPing extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const task = variables.getLatestTask() ?? pingTask(variables);
    api.logger.info(`PING from ${task.requester?.identifier?.value ?? '?'} (endpoint: ${endpointIdentifierOf(api, task) ?? '?'})`);
  }
}

export class SelectPongTarget extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = pingTask(variables);
    const correlationKey = api.taskHelper.getFirstInputParameterStringValue(task, BpmnMessage.system, BpmnMessage.correlationKey);
    const organization = task.requester?.identifier?.value;
    const endpoint = endpointIdentifierOf(api, task);
    if (!correlationKey || !organization || !endpoint) throw new Error('ping Task without correlation-key, requester or endpoint-identifier');
    const address = await api.endpointProvider.getEndpointAddress(endpoint);
    if (!address) {
      api.logger.warn(`Pong response target (organization ${organization}, endpoint ${endpoint}) not found locally or not active, not sending pong`);
      throw new ErrorBoundaryEvent('target_not_allowed', `endpoint ${endpoint} unknown or not active`);
    }
    variables.setTarget(createTarget(organization, endpoint, address, correlationKey));
  }
}

export class SendPong extends MessageEndEvent {
  override async execute(api: ProcessPluginApi, variables: Variables, values: SendTaskValues): Promise<void> {
    await super.execute(api, variables, values);
    const task = pingTask(variables);
    (task.output ??= []).push(pongStatusOutput(variables.getTarget()!, PingStatus.pongSend));
    variables.updateTask(task);
  }

  override getErrorHandler(): MessageActivityErrorHandler {
    return new SendPongErrorHandler(isEnabled(this.fields.sendMailOnPongFailure));
  }
}

/** The pong could not be sent: a pong-status output with the reason, then the default (ping Task failed). */
class SendPongErrorHandler extends DefaultMessageEndEventErrorHandler {
  constructor(private readonly mail: boolean) {
    super();
  }

  override async handleException(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, error: unknown) {
    const task = variables.getStartTask();
    const target = variables.getTarget();
    if (task && target) {
      const status = isNotAllowed(error) ? PingStatus.notAllowed : PingStatus.notReachable;
      (task.output ??= []).push(pongStatusOutput(target, status, errorMessageOf(error)));
      variables.updateTask(task);
      if (this.mail) await sendFailureMail(api, PONG_FAILED_SUBJECT, target, status === PingStatus.notAllowed ? 'Pong forbidden' : 'Not reachable with pong', errorMessageOf(error), task);
    }
    return super.handleException(api, variables, values, error);
  }
}
