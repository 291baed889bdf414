// Answering a user task as a person would in the DSF UI: find the in-progress QuestionnaireResponse of the
// process (by its business-key item), put the answers in, set it completed.
import type { QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import { BpmnUserTask } from '../plugin-api/constants.ts';
import type { FhirClient } from '../plugin-api/fhir-client.ts';

/** An answer: a FHIR answer object ({ valueString: 'x' }) or a plain string, number or boolean. */
export type AnswerValue = QuestionnaireResponseItemAnswer | string | number | boolean;

export function businessKeyOf(qr: QuestionnaireResponse): string | undefined {
  return qr.item?.find((i) => i.linkId === BpmnUserTask.businessKey)?.answer?.[0]?.valueString;
}

/** In-progress QuestionnaireResponses of the process with this business key (any, when undefined). */
export async function openQuestionnaireResponses(client: FhirClient, businessKey: string | undefined, questionnaire?: string): Promise<QuestionnaireResponse[]> {
  const found = await client.searchAll<QuestionnaireResponse>('QuestionnaireResponse', { status: 'in-progress', _sort: '-_lastUpdated' });
  return found.filter((qr) => (businessKey === undefined || businessKeyOf(qr) === businessKey) && (questionnaire === undefined || qr.questionnaire === questionnaire || qr.questionnaire?.startsWith(`${questionnaire}|`)));
}

function toAnswer(value: AnswerValue, current: QuestionnaireResponseItemAnswer | undefined): QuestionnaireResponseItemAnswer {
  if (typeof value === 'object') return value;
  // A plain value takes the answer type of the placeholder answer the BPE put there.
  const key = (current && Object.keys(current).find((k) => k.startsWith('value'))) ?? (typeof value === 'boolean' ? 'valueBoolean' : typeof value === 'number' ? 'valueDecimal' : 'valueString');
  return { [key]: value } as QuestionnaireResponseItemAnswer;
}

function fill(items: QuestionnaireResponseItem[], answers: Record<string, AnswerValue>, used: Set<string>): QuestionnaireResponseItem[] {
  return items.map((item) => {
    const value = item.linkId !== undefined ? answers[item.linkId] : undefined;
    const next: QuestionnaireResponseItem = { ...item, ...(item.item ? { item: fill(item.item, answers, used) } : {}) };
    if (value !== undefined && item.linkId) {
      used.add(item.linkId);
      next.answer = [toAnswer(value, item.answer?.[0])];
    }
    return next;
  });
}

/**
 * The response with the answers filled in and status completed. Items without a given answer keep the
 * BPE's placeholder answer unless `dropUnanswered` (then they lose it); an answer for no item is an error.
 */
export function completedResponse(qr: QuestionnaireResponse, answers: Record<string, AnswerValue>, dropUnanswered: boolean): QuestionnaireResponse {
  const used = new Set<string>();
  let item = fill(qr.item ?? [], answers, used);
  const unknown = Object.keys(answers).filter((k) => !used.has(k));
  if (unknown.length) throw new Error(`QuestionnaireResponse ${qr.id} has no item ${unknown.join(', ')}`);
  if (dropUnanswered) {
    const keep = new Set([BpmnUserTask.businessKey, BpmnUserTask.userTaskId, ...Object.keys(answers)]);
    const strip = (items: QuestionnaireResponseItem[]): QuestionnaireResponseItem[] =>
      items.map((i) => (i.item ? { ...i, item: strip(i.item) } : keep.has(i.linkId ?? '') ? i : (({ answer: _a, ...rest }) => rest)(i)));
    item = strip(item);
  }
  return { ...qr, status: 'completed', authored: new Date().toISOString(), item };
}
