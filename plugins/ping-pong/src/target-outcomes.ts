// One target's outcome, recorded at process level as statusCode_<correlationKey> (and
// errorMessage_<correlationKey>) for SaveResults: a pong arrived, none arrived in time, or the ping
// could not be sent.
import { ServiceTask, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { PingStatus, PingVariables } from './constants.ts';

function targetOf(variables: Variables): Target & { correlationKey: string } {
  const target = variables.getTarget();
  if (!target?.correlationKey) throw new Error('no target with a correlation key');
  return target as Target & { correlationKey: string };
}

export class LogPong extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    api.logger.info(`PONG from ${target.organizationIdentifierValue} (endpoint: ${target.endpointIdentifierValue})`);
    variables.setString(PingVariables.statusCodeOf(target.correlationKey), PingStatus.pongReceived);
  }
}

export class LogNoResponse extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    api.logger.warn(`PONG from ${target.organizationIdentifierValue} (endpoint: ${target.endpointIdentifierValue}) missing`);
    variables.setString(PingVariables.statusCodeOf(target.correlationKey), PingStatus.pongMissing);
  }
}

export class LogSendError extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    const statusCode = variables.getStringLocal(PingVariables.statusCode) ?? PingStatus.notReachable;
    const errorMessage = variables.getStringLocal(PingVariables.errorMessage) ?? '';
    api.logger.warn(`Unable to send PING to ${target.organizationIdentifierValue} (endpoint: ${target.endpointIdentifierValue}): ${errorMessage}`);
    variables.setString(PingVariables.statusCodeOf(target.correlationKey), statusCode);
    variables.setString(PingVariables.errorMessageOf(target.correlationKey), errorMessage);
  }
}
