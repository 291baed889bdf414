// The BPE's built-in listeners (the reference adds them to every process through a BPMN parse
// listener): a Task that correlated with a catch event joins the Tasks of that scope when the event
// ends; when an end event ends a scope, that scope's in-progress Tasks are set to completed on the
// local FHIR server, with the outputs the process gave them.
import type { Task } from '@medplum/fhirtypes';
import type { DelegateExecution, ExecutionListenerEvent, FlowNode } from '../engine/index.ts';
import type { FhirClient } from '../../plugin-api/index.ts';
import { BpeVariables } from '../plugins/variable-names.ts';
import { VariablesImpl } from '../plugins/variables-impl.ts';
import type { BpeLogger } from '../services/logging.ts';

function receivesMessages(node: FlowNode): boolean {
  return node.kind === 'receiveTask' || ((node.kind === 'intermediateCatchEvent' || node.kind === 'boundaryEvent') && node.event?.type === 'message');
}

export class TaskListeners {
  constructor(
    private readonly local: FhirClient,
    private readonly logger: BpeLogger,
  ) {}

  async beforeExecutionListeners(event: ExecutionListenerEvent, execution: DelegateExecution, node: FlowNode): Promise<void> {
    if (event !== 'end') return;
    if (receivesMessages(node)) this.continued(execution);
    else if (node.kind === 'endEvent') await this.ended(execution);
  }

  private continued(execution: DelegateExecution): void {
    const task = execution.getVariableLocal(BpeVariables.incomingTask) as Task | null;
    if (!task) return;
    execution.removeVariableLocal(BpeVariables.incomingTask);
    const tasks = (execution.getVariableLocal(BpeVariables.tasks) as Task[] | null) ?? [];
    execution.setVariableLocal(BpeVariables.tasks, [...tasks, task]);
    this.logger.info(`Continuing process ${execution.processDefinitionKey} [task: ${task.id}, business-key: ${execution.businessKey ?? '-'}]`);
  }

  private async ended(execution: DelegateExecution): Promise<void> {
    const variables = new VariablesImpl(execution, this.logger, this.local);
    const tasks = variables.getCurrentTasks();
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i]!;
      if (task.status !== 'in-progress') continue;
      try {
        variables.updateTask(await this.local.update({ ...task, status: 'completed' }, { ifMatch: false }));
        this.logger.info(`Process ${execution.processDefinitionKey} finished [task: ${task.id}, business-key: ${execution.businessKey ?? '-'}]`);
      } catch (e) {
        this.logger.error(`Unable to update Task ${task.id} (status completed): ${(e as Error).message}`);
      }
    }
  }
}
