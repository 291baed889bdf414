// helloUser, after the user task: the answers of the completed QuestionnaireResponse go to the log
// (the whole resource to the data logger, when the operator enables it).
import type { QuestionnaireResponseItem, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import { BpmnUserTask, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';

export class LogUserTaskResponse extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const response = variables.getLatestReceivedQuestionnaireResponse();
    if (!response) throw new Error('no completed QuestionnaireResponse');
    const answers = leaves(response.item ?? [])
      .filter((i) => i.linkId !== BpmnUserTask.businessKey && i.linkId !== BpmnUserTask.userTaskId && i.answer?.length)
      .map((i) => `${i.linkId}=${i.answer!.map(answerText).join('|')}`);
    api.logger.info(`Completed QuestionnaireResponse ${response.id ?? ''}: ${answers.join(', ') || 'no answers'}`);
    api.dataLogger.log('Completed QuestionnaireResponse', response);
  }
}

function leaves(items: QuestionnaireResponseItem[]): QuestionnaireResponseItem[] {
  return items.flatMap((i) => (i.item?.length ? leaves(i.item) : [i]));
}

function answerText(a: QuestionnaireResponseItemAnswer): string {
  const [key, value] = Object.entries(a).find(([k]) => k.startsWith('value')) ?? [];
  if (key === undefined) return '';
  // JSON keeps a multi-line text answer on one log line.
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}
