// The bpmn-message inputs of a Task (message-name, business-key, correlation-key) and the error output.
import type { Task } from '@medplum/fhirtypes';
import { BpmnMessage } from '../../plugin-api/index.ts';

export function bpmnMessageInput(task: Task, code: string): string | undefined {
  for (const p of task.input ?? []) {
    if ((p.type?.coding ?? []).some((c) => c.system === BpmnMessage.system && c.code === code) && typeof p.valueString === 'string') return p.valueString;
  }
  return undefined;
}

export function withBusinessKey(task: Task, businessKey: string): Task {
  return { ...task, input: [...(task.input ?? []), { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.businessKey }] }, valueString: businessKey }] };
}

export function withError(task: Task, message: string): Task {
  return {
    ...task,
    status: 'failed',
    output: [...(task.output ?? []), { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.error }] }, valueString: message }],
  };
}
