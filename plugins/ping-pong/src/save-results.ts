// After every target's sub-process: one ping-status output per target on the start Task (sorted by
// endpoint identifier), with the error text for not-allowed and not-reachable; optional failure mails.
import { ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { PingStatus, PingVariables, type PingStatusCode } from './constants.ts';
import { isEnabled, PING_FAILED_SUBJECT, sendFailureMail } from './failure-mail.ts';
import { pingStatusOutput } from './ping-status-output.ts';

const FAILURE_TEXT: Partial<Record<PingStatusCode, string>> = {
  [PingStatus.notReachable]: 'Not reachable with ping',
  [PingStatus.notAllowed]: 'Ping forbidden',
  [PingStatus.pongMissing]: 'No pong message received',
};

export class SaveResults extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = variables.getStartTask();
    if (!task) throw new Error('no start task');
    const mail = isEnabled(this.fields.sendMailOnPingFailure);
    const targets = [...(variables.getTargets()?.entries ?? [])].sort((a, b) => a.endpointIdentifierValue.localeCompare(b.endpointIdentifierValue));
    for (const target of targets) {
      const key = target.correlationKey ?? '';
      // A target whose sub-process recorded nothing (it cannot happen in this BPMN) counts as missing.
      const status = (variables.getString(PingVariables.statusCodeOf(key)) as PingStatusCode | undefined) ?? PingStatus.pongMissing;
      const failedToSend = status === PingStatus.notAllowed || status === PingStatus.notReachable;
      const errorMessage = failedToSend ? (variables.getString(PingVariables.errorMessageOf(key)) ?? '') : undefined;
      (task.output ??= []).push(pingStatusOutput(target, status, errorMessage));
      const failure = FAILURE_TEXT[status];
      if (mail && failure) await sendFailureMail(api, PING_FAILED_SUBJECT, target, failure, errorMessage, task);
    }
    variables.updateTask(task);
  }
}
