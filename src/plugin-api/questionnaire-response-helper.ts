// Building and reading QuestionnaireResponse items for user tasks (pure; no I/O).
import type {
  Coding,
  Extension,
  Identifier,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import { PRACTITIONER_IDENTIFIER_SID, QUESTIONNAIRE_AUTHORIZATION_EXTENSION } from './constants.ts';

export type Answer = Omit<QuestionnaireResponseItemAnswer, 'item' | 'id' | 'extension'>;

export class QuestionnaireResponseHelper {
  constructor(private readonly localBaseUrl: string) {}

  getLocalVersionlessAbsoluteUrl(qr: QuestionnaireResponse | undefined): string | undefined {
    return qr?.id ? `${this.localBaseUrl}/QuestionnaireResponse/${qr.id}` : undefined;
  }

  /** Leaf items (items without child items), depth first. */
  getItemLeaves(qr: QuestionnaireResponse): QuestionnaireResponseItem[] {
    const out: QuestionnaireResponseItem[] = [];
    const walk = (items: QuestionnaireResponseItem[] | undefined) => {
      for (const i of items ?? []) {
        if (i.item?.length) walk(i.item);
        else out.push(i);
      }
    };
    walk(qr.item);
    return out;
  }

  getItemLeavesMatchingLinkId(qr: QuestionnaireResponse, linkId: string): QuestionnaireResponseItem[] {
    return this.getItemLeaves(qr).filter((i) => i.linkId === linkId);
  }

  getFirstItemLeafMatchingLinkId(qr: QuestionnaireResponse, linkId: string): QuestionnaireResponseItem | undefined {
    return this.getItemLeavesMatchingLinkId(qr, linkId)[0];
  }

  /** The first string answer of the item with this linkId. */
  getStringAnswer(qr: QuestionnaireResponse, linkId: string): string | undefined {
    for (const item of this.getItemLeavesMatchingLinkId(qr, linkId)) {
      for (const a of item.answer ?? []) if (typeof a.valueString === 'string') return a.valueString;
    }
    return undefined;
  }

  /**
   * A placeholder answer of the type the question asks for (what the reference puts into a new
   * QuestionnaireResponse before the user answers).
   */
  transformQuestionTypeToAnswer(question: QuestionnaireItem): Answer {
    switch (question.type) {
      case 'string':
      case 'text':
        return { valueString: 'Placeholder..' };
      case 'integer':
        return { valueInteger: 0 };
      case 'decimal':
        return { valueDecimal: 0 };
      case 'date':
        return { valueDate: '1900-01-01' };
      case 'time':
        return { valueTime: '00:00:00' };
      case 'dateTime':
        return { valueDateTime: '1900-01-01T00:00:00.000Z' };
      case 'url':
        return { valueUri: 'http://example.org/foo' };
      case 'reference':
        return { valueReference: { reference: 'http://example.org/fhir/Placeholder/id' } };
      case 'boolean':
        return { valueBoolean: false };
      case 'choice':
        return { valueCoding: { system: 'http://example.org/fhir/CodeSystem/placeholder', code: 'placeholder' } };
      default:
        throw new Error(`Questionnaire item type ${question.type} not supported`);
    }
  }

  addItemLeafWithoutAnswer(qr: QuestionnaireResponse, linkId: string, text: string | undefined): void {
    (qr.item ??= []).push(text === undefined ? { linkId } : { linkId, text });
  }

  addItemLeafWithAnswer(qr: QuestionnaireResponse, linkId: string, text: string | undefined, answer: Answer): void {
    (qr.item ??= []).push({ linkId, ...(text === undefined ? {} : { text }), answer: [answer] });
  }

  /** The questionnaire-authorization extension naming who may complete the response. */
  createQuestionnaireAuthorizationExtension(practitioners: readonly Identifier[], practitionerRoles: readonly Coding[]): Extension {
    return {
      url: QUESTIONNAIRE_AUTHORIZATION_EXTENSION,
      extension: [
        ...practitioners.map((p) => ({ url: 'practitioner', valueIdentifier: { system: p.system ?? PRACTITIONER_IDENTIFIER_SID, value: p.value } })),
        ...practitionerRoles.map((r) => ({ url: 'practitioner-role', valueCoding: r })),
      ],
    };
  }
}
