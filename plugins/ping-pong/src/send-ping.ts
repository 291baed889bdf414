// Sends the ping Task to one target, with the local endpoint's identifier as the address for the pong.
// A refusal (403) or an unreachable target does not stop the process: the outcome becomes the local
// variables statusCode / errorMessage, and the BPMN's gateway takes the path to LogSendError.
import type { TaskInput } from '@medplum/fhirtypes';
import {
  ENDPOINT_IDENTIFIER_SID,
  errorMessageOf,
  isNotAllowed,
  MessageIntermediateThrowEvent,
  type MessageActivityErrorHandler,
  type ProcessPluginApi,
  type SendTaskValues,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { PING_SYSTEM, PingCodes, PingStatus, PingVariables } from './constants.ts';

export class SendPing extends MessageIntermediateThrowEvent {
  private localEndpointIdentifier: string | undefined;

  override async execute(api: ProcessPluginApi, variables: Variables, values: SendTaskValues): Promise<void> {
    this.localEndpointIdentifier = await api.endpointProvider.getLocalEndpointIdentifierValue();
    if (!this.localEndpointIdentifier) throw new Error('Local endpoint identifier unknown');
    await super.execute(api, variables, values);
  }

  override getAdditionalInputParameters(api: ProcessPluginApi): TaskInput[] {
    return [
      api.taskHelper.createInput(
        { valueReference: { type: 'Endpoint', identifier: { system: ENDPOINT_IDENTIFIER_SID, value: this.localEndpointIdentifier } } },
        PING_SYSTEM,
        PingCodes.endpointIdentifier,
      ),
    ];
  }

  override getErrorHandler(): MessageActivityErrorHandler {
    return new SendPingErrorHandler();
  }
}

class SendPingErrorHandler implements MessageActivityErrorHandler {
  handleException(_api: ProcessPluginApi, variables: Variables, _values: SendTaskValues, error: unknown): null {
    variables.setStringLocal(PingVariables.statusCode, isNotAllowed(error) ? PingStatus.notAllowed : PingStatus.notReachable);
    variables.setStringLocal(PingVariables.errorMessage, errorMessageOf(error));
    return null;
  }
}
