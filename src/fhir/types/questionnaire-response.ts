// QuestionnaireResponse: the user tasks of running processes (the reference's QuestionnaireResponse
// authorization rule). Create: the local organisation or a DSF_ADMIN practitioner, status in-progress,
// one user-task-id answer, a questionnaire. Update in-progress -> completed: the local organisation, a
// DSF_ADMIN practitioner or a practitioner the questionnaire-authorization extension names (any
// practitioner when the extension is absent, the DSF 1.x behaviour), with author (the caller) and
// authored, user-task-id, business-key, questionnaire and the authorization extension unchanged;
// in-progress -> stopped and completed -> amended change only the status and need the local
// organisation or DSF_ADMIN. Delete: the local organisation or DSF_ADMIN. Read: the local organisation,
// DSF_ADMIN and the practitioners a response names; remote identities have no access. No tags.
import type { Extension, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { ALL, containsAny, NONE, type AccessCondition } from '../store/access-condition.ts';
import { isLocalOrganizationOrAdmin, type Identity } from './identity.ts';
import { EXT_QUESTIONNAIRE_AUTHORIZATION, ORGANIZATION_IDENTIFIER, PRACTITIONER_IDENTIFIER } from '../model/dsf-urls.ts';
import { canonicalJson } from './canonical-json.ts';
import type { ReadAccessContext, ResourceTypeBehaviour, WriteRuleContext } from './behaviour.ts';
import { refusal } from './refusal.ts';
import { currentByCanonical } from '../store/resource-lookups.ts';
import { answerProblems } from './questionnaire-answers.ts';
import { dsfDefaultProfile, urlIdentityCriteria } from './tagged-type.ts';

/** The single string answer of the item with this linkId, or why there is none. */
function itemAnswer(qr: QuestionnaireResponse, linkId: string): { value?: string; problem?: string } {
  const items = (qr.item ?? []).filter((i) => i.linkId === linkId);
  if (items.length !== 1) return { problem: `QuestionnaireResponse.item('${linkId}') missing or more than one` };
  const answers = items[0]!.answer ?? [];
  const value = answers[0]?.valueString as unknown;
  if (answers.length !== 1 || typeof value !== 'string' || !value) {
    return { problem: `QuestionnaireResponse.item('${linkId}') needs exactly one non-empty string answer` };
  }
  return { value };
}

/** The entries of the questionnaire-authorization extension; undefined when the response has none. */
const authorizationEntries = (qr: QuestionnaireResponse): Extension[] | undefined => {
  const ext = (qr.extension ?? []).filter((e) => e.url === EXT_QUESTIONNAIRE_AUTHORIZATION);
  return ext.length ? ext.flatMap((e) => e.extension ?? []) : undefined;
};

/**
 * A practitioner named (by e-mail or practitioner role) in the response's questionnaire-authorization
 * extension, or any practitioner when the response has none (as the reference: DSF 1.x behaviour).
 */
function authorizedPractitioner(identity: Identity, qr: QuestionnaireResponse): boolean {
  if (identity.kind !== 'practitioner') return false;
  const entries = authorizationEntries(qr);
  if (!entries) return true;
  return entries.some(
    (s) =>
      (s.url === 'practitioner' && s.valueIdentifier?.system === PRACTITIONER_IDENTIFIER && identity.email !== undefined && s.valueIdentifier?.value === identity.email) ||
      (s.url === 'practitioner-role' && identity.practitionerRoles.some((r) => r.system === s.valueCoding?.system && r.code === s.valueCoding?.code)),
  );
}

/** The reference's checks of a response to be stored with one of the allowed statuses. */
function contentProblems(identity: Identity, qr: QuestionnaireResponse, allowedStatus: string[]): string[] {
  const problems: string[] = [];
  if (!allowedStatus.includes(qr.status)) problems.push(`status must be ${allowedStatus.join(' or ')}, not '${qr.status ?? ''}'`);
  const userTask = itemAnswer(qr, 'user-task-id');
  if (userTask.problem) problems.push(userTask.problem);
  if (!qr.questionnaire) problems.push('QuestionnaireResponse.questionnaire missing');
  if (qr.status === 'completed' || qr.status === 'amended') {
    const id = qr.author?.identifier;
    if (!qr.author) problems.push('QuestionnaireResponse.author missing');
    else if (typeof id?.system !== 'string' || typeof id?.value !== 'string') problems.push('QuestionnaireResponse.author.identifier with system and value missing');
    else if (identity.kind === 'practitioner' && (id.system !== PRACTITIONER_IDENTIFIER || id.value !== identity.email)) {
      problems.push(`QuestionnaireResponse.author must be the caller's ${PRACTITIONER_IDENTIFIER}`);
    } else if (identity.kind === 'organization' && (id.system !== ORGANIZATION_IDENTIFIER || id.value !== identity.organizationIdentifier)) {
      problems.push(`QuestionnaireResponse.author must be the caller's ${ORGANIZATION_IDENTIFIER}`);
    }
    if (!qr.authored) problems.push('QuestionnaireResponse.authored missing');
  }
  const invalid = (authorizationEntries(qr) ?? []).some(
    (e) =>
      (e.url === 'practitioner' && !(typeof e.valueIdentifier?.system === 'string' && typeof e.valueIdentifier?.value === 'string')) ||
      (e.url === 'practitioner-role' && !(typeof e.valueCoding?.system === 'string' && typeof e.valueCoding?.code === 'string')),
  );
  if (invalid) problems.push('extension-questionnaire-authorization invalid');
  return problems;
}

async function authorizeCreate({ identity }: WriteRuleContext, qr: QuestionnaireResponse): Promise<void> {
  const rule = 'QuestionnaireResponse create';
  if (!isLocalOrganizationOrAdmin(identity)) throw refusal(rule, 'only the local organization or a DSF_ADMIN practitioner');
  const problems = contentProblems(identity, qr, ['in-progress']);
  if (problems.length) throw refusal(rule, problems.join('; '));
}

/** Everything but status and meta. */
function withoutStatus(qr: QuestionnaireResponse): string {
  const { status: _s, meta: _m, ...rest } = qr;
  return canonicalJson(rest);
}

async function authorizeUpdate({ identity, db }: WriteRuleContext, previous: QuestionnaireResponse, next: QuestionnaireResponse): Promise<void> {
  const transition = `${previous.status}->${next.status}`;
  const rule = `QuestionnaireResponse update (${transition})`;
  if (!identity.local) throw refusal('QuestionnaireResponse update', 'only local identities may update QuestionnaireResponses');
  if (transition === 'in-progress->completed') {
    if (!isLocalOrganizationOrAdmin(identity) && !authorizedPractitioner(identity, previous)) {
      throw refusal(rule, 'caller is not the local organization, a DSF_ADMIN practitioner or a practitioner named by extension-questionnaire-authorization');
    }
    const problems = contentProblems(identity, next, ['completed']);
    for (const linkId of ['user-task-id', 'business-key']) {
      if (itemAnswer(previous, linkId).value !== itemAnswer(next, linkId).value) problems.push(`item '${linkId}' may not change`);
    }
    if (previous.questionnaire !== next.questionnaire) problems.push('QuestionnaireResponse.questionnaire may not change');
    if (canonicalJson(authorizationEntries(previous)) !== canonicalJson(authorizationEntries(next))) problems.push('extension-questionnaire-authorization may not change');
    if (problems.length) throw refusal(rule, problems.join('; '));
    // The answers must fit the Questionnaire (when this server has it).
    const [url, version] = (next.questionnaire ?? '').split('|', 2);
    const questionnaire = url ? (await currentByCanonical<Questionnaire>(db, 'Questionnaire', url, version))[0] : undefined;
    const answers = questionnaire ? answerProblems(questionnaire, next) : [];
    if (answers.length) throw refusal(rule, answers.join('; '));
    return;
  }
  if (transition === 'in-progress->stopped' || transition === 'completed->amended') {
    if (!isLocalOrganizationOrAdmin(identity)) throw refusal(rule, 'only the local organization or a DSF_ADMIN practitioner');
    if (withoutStatus(previous) !== withoutStatus(next)) throw refusal(rule, 'only the status may change');
    return;
  }
  throw refusal('QuestionnaireResponse update', `status transition ${transition} is not allowed`);
}

async function authorizeDelete({ identity }: WriteRuleContext): Promise<void> {
  if (!isLocalOrganizationOrAdmin(identity)) throw refusal('QuestionnaireResponse delete', 'only the local organization or a DSF_ADMIN practitioner');
}

/** The local organisation and DSF_ADMIN read every response, a practitioner those that name it, remote identities none. */
function readAccess({ identity }: ReadAccessContext): AccessCondition {
  if (!identity.local) return NONE;
  if (isLocalOrganizationOrAdmin(identity)) return ALL;
  if (identity.kind !== 'practitioner') return NONE;
  const patterns: unknown[] = identity.practitionerRoles.map((r) => [{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner-role', valueCoding: { system: r.system, code: r.code } }] }]);
  if (identity.email) patterns.push([{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner', valueIdentifier: { system: PRACTITIONER_IDENTIFIER, value: identity.email } }] }]);
  return containsAny(['extension'], patterns);
}

export const questionnaireResponse: ResourceTypeBehaviour<QuestionnaireResponse> = {
  type: 'QuestionnaireResponse',
  readAccess,
  securityContextTarget: true,
  authorizeCreate,
  authorizeUpdate,
  authorizeDelete,
  defaultProfile: dsfDefaultProfile('QuestionnaireResponse'),
  validatesUpdate: () => true,
  uniqueKeys: () => [],
  identityCriteria: urlIdentityCriteria,
  affectsIdentities: false,
};
