// ping-autostart: the loop's timer interval (start Task input timer-interval, default PT24H) and the
// local organisation as target of each startPing Task, which carries the start Task's target-endpoints.
import type { TaskInput } from '@medplum/fhirtypes';
import { createTarget, MessageIntermediateThrowEvent, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { DEFAULT_TIMER_INTERVAL, PING_SYSTEM, PingCodes, PingVariables } from './constants.ts';

export class SetTargetAndConfigureTimer extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = variables.getStartTask();
    const interval = (task && api.taskHelper.getFirstInputParameterStringValue(task, PING_SYSTEM, PingCodes.timerInterval)) ?? DEFAULT_TIMER_INTERVAL;
    api.logger.debug(`Setting variable '${PingVariables.timerInterval}' to ${interval}`);
    variables.setString(PingVariables.timerInterval, interval);
    const organization = await api.organizationProvider.getLocalOrganizationIdentifierValue();
    const endpoint = await api.endpointProvider.getLocalEndpointIdentifierValue();
    if (!organization || !endpoint) throw new Error('Local organization or endpoint identifier unknown');
    variables.setTarget(createTarget(organization, endpoint, api.endpointProvider.getLocalEndpointAddress()));
  }
}

export class SendStartPing extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    const task = variables.getStartTask();
    return task ? api.taskHelper.getInputParameters(task, PING_SYSTEM, PingCodes.targetEndpoints) : [];
  }
}
