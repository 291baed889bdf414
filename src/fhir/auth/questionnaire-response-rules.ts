// Who may create, update, delete and read QuestionnaireResponses (user tasks of running processes).
// Create: local identities, status in-progress with a user-task-id item. Update in-progress ->
// completed: the local organisation, a DSF_ADMIN practitioner or a practitioner the
// questionnaire-authorization extension names; in-progress -> stopped and completed -> amended change
// only the status and need the local organisation or DSF_ADMIN. Remote identities have no access.
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import type { SqlParams } from '../search/search-sql.ts';
import { isDsfAdmin, type Identity } from './identity.ts';
import { EXT_QUESTIONNAIRE_AUTHORIZATION, PRACTITIONER_IDENTIFIER } from './dsf-urls.ts';
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

/** A practitioner named (by e-mail or practitioner role) in the response's questionnaire-authorization extension. */
function authorizedPractitioner(identity: Identity, qr: Obj): boolean {
  if (identity.kind !== 'practitioner') return false;
  const ext = ((qr.extension ?? []) as Obj[]).filter((e) => e.url === EXT_QUESTIONNAIRE_AUTHORIZATION).flatMap((e) => (e.extension ?? []) as Obj[]);
  return ext.some(
    (s) =>
      (s.url === 'practitioner' && s.valueIdentifier?.system === PRACTITIONER_IDENTIFIER && identity.email !== undefined && s.valueIdentifier?.value === identity.email) ||
      (s.url === 'practitioner-role' && identity.practitionerRoles.some((r) => r.system === s.valueCoding?.system && r.code === s.valueCoding?.code)),
  );
}

export function checkQuestionnaireResponseCreate(identity: Identity, qr: QuestionnaireResponse): void {
  if (!identity.local) throw deny('QuestionnaireResponse create: only local identities may create QuestionnaireResponses');
  const problems: string[] = [];
  if (qr.status !== 'in-progress') problems.push(`status must be in-progress, not '${qr.status ?? ''}'`);
  const userTask = itemAnswer(qr, 'user-task-id');
  if (userTask.problem) problems.push(userTask.problem);
  if (!qr.questionnaire) problems.push('QuestionnaireResponse.questionnaire missing');
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
    const problems: string[] = [];
    for (const linkId of ['user-task-id', 'business-key']) {
      if (itemAnswer(o, linkId).value !== itemAnswer(n, linkId).value) problems.push(`item '${linkId}' may not change`);
    }
    if (o.questionnaire !== n.questionnaire) problems.push('QuestionnaireResponse.questionnaire may not change');
    if (!n.author) problems.push('QuestionnaireResponse.author is required');
    if (!n.authored) problems.push('QuestionnaireResponse.authored is required');
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
  if (!identity.local) throw deny('QuestionnaireResponse delete: only local identities may delete QuestionnaireResponses');
}

/** SQL: the local organisation and DSF_ADMIN read every response, a practitioner those that name it, remote identities none. */
export function questionnaireResponseReadCondition(alias: string, identity: Identity, p: SqlParams): string {
  if (!identity.local) return 'false';
  if (localOrganizationOrAdmin(identity)) return 'true';
  if (identity.kind !== 'practitioner') return 'false';
  const patterns: unknown[] = identity.practitionerRoles.map((r) => [{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner-role', valueCoding: { system: r.system, code: r.code } }] }]);
  if (identity.email) patterns.push([{ url: EXT_QUESTIONNAIRE_AUTHORIZATION, extension: [{ url: 'practitioner', valueIdentifier: { system: PRACTITIONER_IDENTIFIER, value: identity.email } }] }]);
  if (!patterns.length) return 'false';
  return `(${alias}.resource->'extension' @> ANY(${p.add(patterns.map((x) => JSON.stringify(x)))}::jsonb[]))`;
}
