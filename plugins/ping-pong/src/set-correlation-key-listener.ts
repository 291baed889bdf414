// Before waiting for the pong: the target's correlation key becomes the local correlationKey variable,
// so only the pong of this target's sub-process instance is correlated with it.
import { BpmnExecutionVariables, ExecutionListener, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';

export class SetCorrelationKeyListener extends ExecutionListener {
  notify(_api: ProcessPluginApi, variables: Variables): void {
    const target = variables.getTarget();
    if (!target?.correlationKey) throw new Error('no target with a correlation key');
    variables.setStringLocal(BpmnExecutionVariables.correlationKey, target.correlationKey);
  }
}
