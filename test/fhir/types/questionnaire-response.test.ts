// The QuestionnaireResponse module on its own: who reads which response (PostgreSQL runs the condition),
// who creates, completes, stops, amends and deletes, and what may change on completion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Organization, QuestionnaireResponse } from '@medplum/fhirtypes';
import { questionnaireResponse as qrType } from '../../../src/fhir/types/questionnaire-response.ts';
import { identities, LOCAL, organizationResource, refusalOf, SITE, typeTestStore, type TypeTestStore } from './type-fixtures.ts';

let s: TypeTestStore;
let who: ReturnType<typeof identities>;
const QA = 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization';

const response = (named?: string): QuestionnaireResponse => ({
  resourceType: 'QuestionnaireResponse',
  status: 'in-progress',
  questionnaire: 'http://dsf.dev/fhir/Questionnaire/test|1.0',
  ...(named ? { extension: [{ url: QA, extension: [{ url: 'practitioner', valueIdentifier: { system: 'http://dsf.dev/sid/practitioner-identifier', value: named } }] }] } : {}),
  item: [
    { linkId: 'user-task-id', answer: [{ valueString: 'ut-1' }] },
    { linkId: 'business-key', answer: [{ valueString: 'bk-1' }] },
  ],
});
const completedBy = (qr: QuestionnaireResponse, email: string): QuestionnaireResponse => ({
  ...qr,
  status: 'completed',
  authored: '2024-05-01T10:00:00Z',
  author: { identifier: { system: 'http://dsf.dev/sid/practitioner-identifier', value: email } },
});

before(async () => {
  s = await typeTestStore();
  const [local, remote, other] = await Promise.all([s.put(organizationResource(LOCAL)), s.put(organizationResource('remote.test')), s.put(organizationResource('other.test'))]);
  who = identities(local as Organization, remote as Organization, other as Organization);
});
after(() => s?.stop());

test('read: the local organisation and DSF_ADMIN all, a practitioner those naming it, remote identities none', async () => {
  const named = await s.put(response('user@test.org'));
  const other = await s.put(response('someone@test.org'));
  const rule = (identity: keyof typeof who) => qrType.readAccess!({ identity: who[identity], site: SITE, tags: { kind: 'none' }, securityContextTargets: () => ({ kind: 'none' }) });
  assert.equal(await s.readable(rule('local'), other), true);
  assert.equal(await s.readable(rule('admin'), other), true);
  assert.equal(await s.readable(rule('user'), named), true);
  assert.equal(await s.readable(rule('user'), other), false);
  assert.equal(await s.readable(rule('remote'), named), false);
});

test('create and delete: the local organisation or DSF_ADMIN, in-progress with one user-task-id', async () => {
  const create = (identity: keyof typeof who, qr: QuestionnaireResponse) => refusalOf(() => qrType.authorizeCreate(s.rules(who[identity]), qr));
  assert.equal(await create('local', response()), undefined);
  assert.equal(await create('admin', response()), undefined);
  assert.match((await create('user', response()))!, /^QuestionnaireResponse create: only the local organization or a DSF_ADMIN/);
  assert.match((await create('local', completedBy(response(), 'x@test.org')))!, /^QuestionnaireResponse create: status must be in-progress/);
  assert.match((await create('local', { ...response(), item: [] }))!, /item\('user-task-id'\) missing/);
  assert.match((await refusalOf(() => qrType.authorizeDelete(s.rules(who.user), response())))!, /^QuestionnaireResponse delete: only the local organization or a DSF_ADMIN/);
});

test('completion by a named practitioner as author; user-task-id, business-key and questionnaire unchanged; stop and amend change only the status', async () => {
  const qr = response('user@test.org');
  const update = (identity: keyof typeof who, next: QuestionnaireResponse, previous = qr) => refusalOf(() => qrType.authorizeUpdate(s.rules(who[identity]), previous, next));
  assert.equal(await update('user', completedBy(qr, 'user@test.org')), undefined);
  assert.match((await update('user', completedBy(qr, 'other@test.org')))!, /^QuestionnaireResponse update \(in-progress->completed\): QuestionnaireResponse.author must be the caller/);
  assert.match((await update('user', { ...completedBy(qr, 'user@test.org'), questionnaire: 'http://other|1' }))!, /questionnaire may not change/);
  const changedKey = { ...completedBy(qr, 'user@test.org'), item: [qr.item![0]!, { linkId: 'business-key', answer: [{ valueString: 'bk-2' }] }] };
  assert.match((await update('user', changedKey))!, /item 'business-key' may not change/);
  assert.match((await update('remote', completedBy(qr, 'user@test.org')))!, /^QuestionnaireResponse update: only local identities/);
  assert.match((await update('user', { ...qr, status: 'stopped' }))!, /^QuestionnaireResponse update \(in-progress->stopped\): only the local organization or a DSF_ADMIN/);
  assert.equal(await update('local', { ...qr, status: 'stopped' }), undefined);
  assert.match((await update('local', { ...qr, status: 'stopped', questionnaire: 'http://other|1' }))!, /only the status may change/);
  const done = completedBy(qr, 'user@test.org');
  assert.equal(await update('admin', { ...done, status: 'amended' }, done), undefined);
  assert.match((await update('local', { ...done, status: 'in-progress' }, done))!, /^QuestionnaireResponse update: status transition completed->in-progress is not allowed/);
});

test('data: default profile, no uniqueness keys, always validated', () => {
  assert.equal(qrType.defaultProfile, 'http://dsf.dev/fhir/StructureDefinition/questionnaire-response');
  assert.deepEqual(qrType.uniqueKeys(response()), []);
  assert.equal(qrType.validatesUpdate(response(), response()), true);
  assert.equal(qrType.securityContextTarget, true);
});
