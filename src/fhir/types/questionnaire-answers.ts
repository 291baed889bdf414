// A completed QuestionnaireResponse answers its Questionnaire: every item it has is one of the
// Questionnaire's (by linkId), a non-repeating item at most once with at most one answer, display items
// without answers, and every required item answered. The reference gets these checks from its validator
// (its QuestionnaireVsQuestionnaireResponse tests); here they also stop a form post with thousands of
// invented fields. Iterative, and the number of problems reported is bounded.
import type { Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';

const MAX_PROBLEMS = 5;

export function answerProblems(questionnaire: Questionnaire, qr: QuestionnaireResponse): string[] {
  const canonical = `${questionnaire.url ?? ''}${questionnaire.version ? `|${questionnaire.version}` : ''}`;
  const problems: string[] = [];
  const add = (p: string) => problems.length < MAX_PROBLEMS && problems.push(p);
  // Level by level: the Questionnaire's items against the response's items with the same parent.
  const stack: { qItems: QuestionnaireItem[]; rItems: QuestionnaireResponseItem[] }[] = [{ qItems: questionnaire.item ?? [], rItems: qr.item ?? [] }];
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const { qItems, rItems } = stack.pop()!;
    const byLinkId = new Map(qItems.map((q) => [q.linkId, q]));
    const seen = new Map<string, number>();
    for (const r of rItems) {
      const q = byLinkId.get(r.linkId);
      if (!q) {
        add(`item '${String(r.linkId).slice(0, 64)}' is not an item of Questionnaire ${canonical} at this level`);
        continue;
      }
      seen.set(r.linkId, (seen.get(r.linkId) ?? 0) + 1);
      const answers = r.answer ?? [];
      if (q.type === 'display' && answers.length) add(`item '${q.linkId}' is a display item and takes no answer`);
      if (!q.repeats && (seen.get(r.linkId)! > 1 || answers.length > 1)) add(`item '${q.linkId}' does not repeat: one answer at most`);
      // Groups hold their items; an answer's nested items belong to the question's children.
      if (r.item?.length) stack.push({ qItems: q.item ?? [], rItems: r.item });
      for (const a of answers) if (a.item?.length) stack.push({ qItems: q.item ?? [], rItems: a.item });
    }
    for (const q of qItems) {
      if (q.required && q.type !== 'display' && !rItems.some((r) => r.linkId === q.linkId && (q.type === 'group' ? r.item?.length : r.answer?.length))) {
        add(`required item '${q.linkId}' of Questionnaire ${canonical} is not answered`);
      }
    }
  }
  return problems;
}
