// What happens when a user task starts (the reference's DefaultUserTaskListener): the Questionnaire
// named by the formKey is read from the local FHIR server and an in-progress QuestionnaireResponse
// with the business-key and user-task-id items (plus a placeholder answer per question) is created
// there. The process waits until someone completes it. Subclasses adapt the response through
// beforeQuestionnaireResponseCreate / afterQuestionnaireResponseCreate.
import type { Coding, Identifier, Questionnaire, QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
import { BpmnUserTask, ORGANIZATION_IDENTIFIER_SID, PRACTITIONER_IDENTIFIER_SID, PRACTITIONER_ROLE_SYSTEM, PROFILE_QUESTIONNAIRE_RESPONSE } from './constants.ts';
import { UserTaskListener, type ActivityFields, type CreateQuestionnaireResponseValues } from './activities.ts';
import type { ProcessPluginApi } from './services.ts';
import type { Variables } from './variables.ts';

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).filter((v) => v.trim() !== '');
  return String(value)
    .split(/[,\s]+/)
    .filter(Boolean);
}

/** 'value' or 'system|value'. */
function keyAndValue(text: string, defaultSystem: string): { system: string; value: string } {
  const parts = text.split('|');
  if (parts.length === 1) return { system: defaultSystem, value: parts[0]! };
  if (parts.length === 2) return { system: parts[0]!, value: parts[1]! };
  throw new Error(`Invalid format '${text}': must be a simple 'value' or 'system|value'`);
}

export class DefaultUserTaskListener extends UserTaskListener {
  /** camunda:fields practitioners / practitionerRoles (comma lists) limit who may complete the response. */
  constructor(fields: ActivityFields = {}) {
    super(fields);
  }

  async notify(api: ProcessPluginApi, variables: Variables, values: CreateQuestionnaireResponseValues): Promise<void> {
    const questionnaire = await this.readQuestionnaire(api, values.formKey);
    const qr = await this.createDefaultQuestionnaireResponse(api, values.formKey, variables.getBusinessKey(), values.userTaskId);
    for (const item of questionnaire.item ?? []) {
      if (item.linkId === BpmnUserTask.businessKey || item.linkId === BpmnUserTask.userTaskId) continue;
      this.transformItem(api, qr, item);
    }
    await this.beforeQuestionnaireResponseCreate(api, variables, values, qr);
    checkQuestionnaireResponse(qr);
    const created = await api.dsfClientProvider.getLocal().create(qr);
    api.logger.info(`Created QuestionnaireResponse for user task at ${api.questionnaireResponseHelper.getLocalVersionlessAbsoluteUrl(created)}, process waiting for its completion`);
    await this.afterQuestionnaireResponseCreate(api, variables, values, created);
  }

  /** Change the response before it is created (e.g. set answers, add items). */
  protected beforeQuestionnaireResponseCreate(_api: ProcessPluginApi, _variables: Variables, _values: CreateQuestionnaireResponseValues, _qr: QuestionnaireResponse): Promise<void> | void {}

  protected afterQuestionnaireResponseCreate(_api: ProcessPluginApi, _variables: Variables, _values: CreateQuestionnaireResponseValues, _created: QuestionnaireResponse): Promise<void> | void {}

  protected getPractitioners(): Identifier[] {
    return list(this.fields.practitioners ?? this.fields.practitioner).map((p) => keyAndValue(p, PRACTITIONER_IDENTIFIER_SID));
  }

  protected getPractitionerRoles(): Coding[] {
    return list(this.fields.practitionerRoles ?? this.fields.practitionerRole).map((r) => {
      const { system, value } = keyAndValue(r, PRACTITIONER_ROLE_SYSTEM);
      return { system, code: value };
    });
  }

  private async readQuestionnaire(api: ProcessPluginApi, urlWithVersion: string): Promise<Questionnaire> {
    // url and version as two parameters: every DSF FHIR server supports that form.
    const [url, version] = urlWithVersion.split('|', 2) as [string, string | undefined];
    const found = await api.dsfClientProvider.getLocal().searchAll<Questionnaire>('Questionnaire', version ? { url, version } : { url });
    if (found.length === 0) throw new Error(`Could not find Questionnaire resource with url|version=${urlWithVersion}`);
    return found[0]!;
  }

  private async createDefaultQuestionnaireResponse(api: ProcessPluginApi, formKey: string, businessKey: string, userTaskId: string): Promise<QuestionnaireResponse> {
    const local = await api.organizationProvider.getLocalOrganizationIdentifierValue();
    if (!local) throw new Error('Local organization identifier unknown');
    const qr: QuestionnaireResponse = {
      resourceType: 'QuestionnaireResponse',
      meta: { profile: [PROFILE_QUESTIONNAIRE_RESPONSE] },
      questionnaire: formKey,
      status: 'in-progress',
      author: { type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER_SID, value: local } },
    };
    const h = api.questionnaireResponseHelper;
    h.addItemLeafWithAnswer(qr, BpmnUserTask.businessKey, 'The business-key of the process execution', { valueString: businessKey });
    h.addItemLeafWithAnswer(qr, BpmnUserTask.userTaskId, 'The user-task-id of the process execution', { valueString: userTaskId });
    const practitioners = this.getPractitioners();
    const roles = this.getPractitionerRoles();
    if (practitioners.length || roles.length) (qr.extension ??= []).push(h.createQuestionnaireAuthorizationExtension(practitioners, roles));
    return qr;
  }

  private transformItem(api: ProcessPluginApi, qr: QuestionnaireResponse, question: QuestionnaireItem): void {
    if (question.type === 'display') api.questionnaireResponseHelper.addItemLeafWithoutAnswer(qr, question.linkId!, question.text);
    else api.questionnaireResponseHelper.addItemLeafWithAnswer(qr, question.linkId!, question.text, api.questionnaireResponseHelper.transformQuestionTypeToAnswer(question));
  }
}

function checkQuestionnaireResponse(qr: QuestionnaireResponse): void {
  if (!qr.item?.some((i) => i.linkId === BpmnUserTask.businessKey)) throw new Error(`QuestionnaireResponse does not contain an item with linkId='${BpmnUserTask.businessKey}'`);
  if (!qr.item?.some((i) => i.linkId === BpmnUserTask.userTaskId)) throw new Error(`QuestionnaireResponse does not contain an item with linkId='${BpmnUserTask.userTaskId}'`);
  if (qr.status !== 'in-progress') throw new Error("QuestionnaireResponse must be in status 'in-progress'");
}
