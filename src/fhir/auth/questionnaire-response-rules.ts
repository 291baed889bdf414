// Who may create, update, delete and read QuestionnaireResponses (user tasks of running processes),
// as the reference's QuestionnaireResponse authorization rule. Create: the local organisation or a
// DSF_ADMIN practitioner, status in-progress, one user-task-id answer, a questionnaire. Update
// in-progress -> completed: the local organisation, a DSF_ADMIN practitioner or a practitioner the
// questionnaire-authorization extension names (any practitioner when the extension is absent, the DSF
// 1.x behaviour), with author (the caller) and authored, user-task-id, business-key, questionnaire and
// the authorization extension unchanged; in-progress -> stopped and completed -> amended change only
// the status and need the local organisation or DSF_ADMIN. Delete: the local organisation or DSF_ADMIN.
// Remote identities have no access.
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { ALL, containsAny, NONE, type AccessCondition } from '../store/access-condition.ts';
import { isDsfAdmin, type Identity } from '../types/identity.ts';
import { EXT_QUESTIONNAIRE_AUTHORIZATION, ORGANIZATION_IDENTIFIER, PRACTITIONER_IDENTIFIER } from '../model/dsf-urls.ts';
import { canonicalJson } from './canonical-json.ts';

type Obj = Record<string, any>;

const deny = (rule: string) => new FhirError(403, rule, 'forbidden');

/** The single string answer of the item with this linkId, or why there is none. */
function itemAnswer(qr: Obj, linkId: string): { value?: string; problem?: string } {
  const items = ((qr.item ?? []) as Obj[]).filter((i) => i.linkId === linkId);
  if (items.length !== 1) return { problem: `QuestionnaireResponse.item('${linkId}') missing or more than one` };
  const answers = (items[0]!.answer ?? []) as Obj[];
  if (answers.length !== 1 || typeof answers[0]!.valueString !== 'string' || !answers[0]!.valueString) {
    return { problem: `QuestionnaireResponse.item('${linkId}') needs exactly one non-empty string answer` };
  }
  return { value: answers[0]!.valueString };
}

const localOrganizationOrAdmin = (identity: Identity) => (identity.local && identity.kind === 'organization') || isDsfAdmin(identity);

const authorizationEntries = (qr: Obj): Obj[] | undefined => {
  const ext = ((qr.extension ?? []) as Obj[]).filter((e) => e.url === EXT_QUESTIONNAIRE_AUTHORIZATION);
  return ext.length ? ext.flatMap((e) => (e.extension ?? []) as Obj[]) : undefined;
};

/**
 * A practitioner named (by e-mail or practitioner role) in the response's questionnaire-authorization
 * extension, or any practitioner when the response has none (as the reference: DSF 1.x behaviour).
 */
function authorizedPractitioner(identity: Identity, qr: Obj): boolean {
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
function contentProblems(identity: Identity, qr: Obj, allowedStatus: string[]): string[] {
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
  const entries = authorizationEntries(qr) ?? [];
  const invalid = entries.some(
    (e) =>
      (e.url === 'practitioner' && !(typeof e.valueIdentifier?.system === 'string' && typeof e.valueIdentifier?.value === 'string')) ||
      (e.url === 'practitioner-role' && !(typeof e.valueCoding?.system === 'string' && typeof e.valueCoding?.code === 'string')),
  );
  if (invalid) problems.push('extension-questionnaire-authorization invalid');
  return problems;
}

export function checkQuestionnaireResponseCreate(identity: Identity, qr: QuestionnaireResponse): void {
  if (!localOrganizationOrAdmin(identity)) throw deny('QuestionnaireResponse create: only the local organization or a DSF_ADMIN practitioner');
  const problems = contentProblems(identity, qr as Obj, ['in-progress']);
  if (problems.length) throw deny(`QuestionnaireResponse create: ${problems.join('; ')}`);
}

/** Everything but status and meta. */
function withoutStatus(qr: Obj): string {
  const { status: _s, meta: _m, ...rest } = qr;
  return canonicalJson(rest);
}

export function checkQuestionnaireResponseUpdate(identity: Identity, oldQr: QuestionnaireResponse, newQr: QuestionnaireResponse): void {
  const o = oldQr as Obj;
  const n = newQr as Obj;
  const transition = `${o.status}->${n.status}`;
  if (!identity.local) throw deny('QuestionnaireResponse update: only local identities may update QuestionnaireResponses');
  if (transition === 'in-progress->completed') {
    if (!localOrganizationOrAdmin(identity) && !authorizedPractitioner(identity, o)) {
      throw deny('QuestionnaireResponse update (in-progress->completed): caller is not the local organization, a DSF_ADMIN practitioner or a practitioner named by extension-questionnaire-authorization');
    }
    const problems = contentProblems(identity, n, ['completed']);
    for (const linkId of ['user-task-id', 'business-key']) {
      if (itemAnswer(o, linkId).value !== itemAnswer(n, linkId).value) problems.push(`item '${linkId}' may not change`);
    }
    if (o.questionnaire !== n.questionnaire) problems.push('QuestionnaireResponse.questionnaire may not change');
    if (canonicalJson(authorizationEntries(o)) !== canonicalJson(authorizationEntries(n))) problems.push('extension-questionnaire-authorization may not change');
    if (problems.length) throw deny(`QuestionnaireResponse update (in-progress->completed): ${problems.join('; ')}`);
    return;
  }
  if (transition === 'in-progress->stopped' || transition === 'completed->amended') {
    if (!localOrganizationOrAdmin(identity)) throw deny(`QuestionnaireResponse update (${transition}): only the local organization or a DSF_ADMIN practitioner`);
    if (withoutStatus(o) !== withoutStatus(n)) throw deny(`QuestionnaireResponse update (${transition}): only the status may change`);
    return;
  }
  throw deny(`QuestionnaireResponse update: status transition ${transition} is not allowed`);
}

export function checkQuestionnaireResponseDelete(identity: Identity): void {
  if (!localOrganizationOrAdmin(identity)) throw deny('QuestionnaireResponse delete: only the local organization or a DSF_ADMIN practitioner');
}

/** The local organisation and DSF_ADMIN read every response, a practitioner those that name it, remote identities none. */
export function questionnaireResponseReadCondition(identity: Identity): AccessCondition {
  if (!identity.local) return NONE;
  if (localOrganizationOrAdmin(identity)) return ALL;
  if (identity.kind !== 'practitioner') return NONE;
  const patterns: unknown[] = identity.practitionerRoles.map((r) => [{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner-role', valueCoding: { system: r.system, code: r.code } }] }]);
  if (identity.email) patterns.push([{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner', valueIdentifier: { system: PRACTITIONER_IDENTIFIER, value: identity.email } }] }]);
  return containsAny(['extension'], patterns);
}
