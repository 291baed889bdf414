// QuestionnaireResponse authorization: create by the local organisation or DSF_ADMIN, the completion
// rule (local organisation, DSF_ADMIN or a practitioner named by extension-questionnaire-authorization,
// the caller as author), status-only stop/amend, and read access (none for remote identities, also not
// through search or history).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { localOrganizationRoles, type DsfRole, type Identity, type RoleGrant } from '../../../src/fhir/types/identity.ts';
import { as, assertRefused, createRemoteOrganizations, matchIds, organizationByIdentifier, organizationIdentity, PRACTITIONER_ROLE, practitionerIdentity } from './auth-support.ts';

let site: TestSite;
let local: Identity, remote: Identity, byEmail: Identity, byRole: Identity, stranger: Identity, admin: Identity;
const PRACTITIONER_ID = 'http://dsf.dev/sid/practitioner-identifier';

const userRoles = (): Map<DsfRole, RoleGrant> =>
  new Map<DsfRole, RoleGrant>([
    ['CREATE', new Set(['QuestionnaireResponse'])],
    ['UPDATE', new Set(['QuestionnaireResponse'])],
    ['READ', 'all'],
    ['SEARCH', 'all'],
    ['HISTORY', 'all'],
  ]);

function response(userTaskId: string): any {
  return {
    resourceType: 'QuestionnaireResponse',
    extension: [
      {
        url: 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization',
        extension: [
          { url: 'practitioner', valueIdentifier: { system: PRACTITIONER_ID, value: 'named@test.org' } },
          { url: 'practitioner-role', valueCoding: { system: PRACTITIONER_ROLE, code: 'DIC_USER' } },
        ],
      },
    ],
    questionnaire: 'http://dsf.dev/fhir/Questionnaire/authz-test|1.0',
    status: 'in-progress',
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', answer: [{ valueString: userTaskId }] },
      { linkId: 'business-key', text: 'The business-key of the process execution', answer: [{ valueString: 'bk-1' }] },
    ],
  };
}

const completed = (qr: any, email: string) => ({ ...qr, status: 'completed', authored: '2024-05-01T10:00:00Z', author: { type: 'Practitioner', identifier: { system: PRACTITIONER_ID, value: email } } });
/** Completed by the local organisation: the author is the organisation itself. */
const completedByOrganization = (qr: any) => ({ ...qr, status: 'completed', authored: '2024-05-01T10:00:00Z', author: { type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: local.organizationIdentifier } } });

before(async () => {
  site = await startTestSite();
  const localOrg = await organizationByIdentifier(site, site.server.config.organizationIdentifier);
  await createRemoteOrganizations(site, ['remote-a.test']);
  local = organizationIdentity(localOrg, true);
  remote = organizationIdentity(await organizationByIdentifier(site, 'remote-a.test'), false);
  const id = local.organizationIdentifier;
  byEmail = practitionerIdentity(localOrg.organization, id, 'named@test.org', [], userRoles());
  byRole = practitionerIdentity(localOrg.organization, id, 'dic@test.org', [{ system: PRACTITIONER_ROLE, code: 'DIC_USER' }], userRoles());
  stranger = practitionerIdentity(localOrg.organization, id, 'stranger@test.org', [{ system: PRACTITIONER_ROLE, code: 'TTP_USER' }], userRoles());
  admin = practitionerIdentity(localOrg.organization, id, 'admin@test.org', [{ system: PRACTITIONER_ROLE, code: 'DSF_ADMIN' }], localOrganizationRoles());
  // QuestionnaireResponse.questionnaire must name a stored Questionnaire (reference check).
  const questionnaire = await as(site, local).create({
    resourceType: 'Questionnaire',
    meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    url: 'http://dsf.dev/fhir/Questionnaire/authz-test',
    version: '1.0',
    date: '2024-01-01',
    status: 'active',
    item: [
      { linkId: 'business-key', type: 'string', text: 'The business-key of the process execution', required: true },
      { linkId: 'user-task-id', type: 'string', text: 'The user-task-id of the process execution', required: true },
    ],
  });
  assert.equal(questionnaire.status, 201, questionnaire.message);
});
after(() => site?.stop());

async function created(userTaskId: string): Promise<any> {
  const r = await as(site, local).create(response(userTaskId));
  assert.equal(r.status, 201, r.message);
  return r.resource;
}

const count = async () => (await as(site, local).search('QuestionnaireResponse', '_summary=count')).resource.total;

test('create: the local organization or DSF_ADMIN, status in-progress, one user-task-id', async () => {
  await created('ut-create');
  const before = await count();
  const remoteWithCreate: Identity = { ...remote, roles: new Map([...remote.roles, ['CREATE', 'all']]) };
  for (const [name, identity, qr, rule] of [
    ['remote (no CREATE role)', remote, response('ut-r'), /lacks the role CREATE for QuestionnaireResponse/],
    ['remote even with CREATE', remoteWithCreate, response('ut-r2'), /^QuestionnaireResponse create: only the local organization or a DSF_ADMIN/],
    ['status completed', local, completed(response('ut-c'), 'named@test.org'), /^QuestionnaireResponse create: status must be in-progress/],
    ['two user-task-id items', local, { ...response('ut-2'), item: [...response('ut-2').item, { linkId: 'user-task-id', text: 'The user-task-id of the process execution', answer: [{ valueString: 'x' }] }] }, undefined],
  ] as [string, Identity, any, RegExp | undefined][]) {
    const r = await as(site, identity).create(qr);
    assert.ok([403, 422].includes(r.status), `${name}: ${r.status} ${r.message}`);
    if (rule) assertRefused(r, rule, name);
  }
  const user = await as(site, byRole).create(response('ut-user'));
  assertRefused(user, /^QuestionnaireResponse create: only the local organization or a DSF_ADMIN practitioner/, 'a local practitioner, even with the CREATE role (as the reference)');
  assert.equal(await count(), before);
  assert.equal((await as(site, admin).create(response('ut-admin'))).status, 201, 'DSF_ADMIN');
});

test('completion: local organization, DSF_ADMIN, or a practitioner named by e-mail or role', async () => {
  for (const [name, identity, expected, rule] of [
    ['local organization', local, 200],
    ['DSF_ADMIN', admin, 200],
    ['named by e-mail', byEmail, 200],
    ['named by practitioner role', byRole, 200],
    ['not named', stranger, 403, /^QuestionnaireResponse update \(in-progress->completed\): caller is not the local organization, a DSF_ADMIN practitioner or a practitioner named/],
    ['remote', remote, 403, /lacks the role UPDATE for QuestionnaireResponse/],
  ] as [string, Identity, number, RegExp?][]) {
    const qr = await created(`ut-${name}`);
    const r = await as(site, identity).update(identity.kind === 'practitioner' ? completed(qr, identity.email!) : completedByOrganization(qr));
    if (rule) assertRefused(r, rule, name);
    else assert.equal(r.status, expected, `${name}: ${r.message}`);
    const stored = (await as(site, local).read('QuestionnaireResponse', qr.id)).resource;
    assert.equal(stored.status, expected === 200 ? 'completed' : 'in-progress', `${name}: stored status`);
  }
  const qr = await created('ut-other-author');
  const otherAuthor = await as(site, byEmail).update(completed(qr, 'dic@test.org'));
  assertRefused(otherAuthor, /^QuestionnaireResponse update \(in-progress->completed\): QuestionnaireResponse.author must be the caller/, 'the author must be the caller');
});

test('completion by any practitioner when the response names none (the reference\'s DSF 1.x behaviour)', async () => {
  const { extension: _none, ...unnamed } = response('ut-unnamed');
  const r = await as(site, local).create(unnamed);
  assert.equal(r.status, 201, r.message);
  const done = await as(site, stranger).update(completed(r.resource, 'stranger@test.org'));
  assert.equal(done.status, 200, done.message);
  assert.equal((await as(site, local).delete('QuestionnaireResponse', r.resource.id)).status, 200);
});

test('completion keeps user-task-id, business-key and questionnaire, and needs author and authored', async () => {
  const qr = await created('ut-keep');
  const changedTask = completed({ ...qr, item: [{ ...qr.item[0], answer: [{ valueString: 'other' }] }, ...qr.item.slice(1)] }, 'named@test.org');
  const r1 = await as(site, byEmail).update(changedTask);
  assertRefused(r1, /^QuestionnaireResponse update \(in-progress->completed\): item 'user-task-id' may not change/, 'changed user-task-id');
  const changedQuestionnaire = await as(site, byEmail).update(completed({ ...qr, questionnaire: 'http://dsf.dev/fhir/Questionnaire/other|1.0' }, 'named@test.org'));
  assertRefused(changedQuestionnaire, /^QuestionnaireResponse update \(in-progress->completed\): QuestionnaireResponse.questionnaire may not change/, 'changed questionnaire');
  const noAuthor = await as(site, local).update({ ...qr, status: 'completed', authored: '2024-05-01T10:00:00Z' });
  assert.ok([403, 422].includes(noAuthor.status), noAuthor.message);
  assert.equal((await as(site, local).read('QuestionnaireResponse', qr.id)).resource.meta.versionId, '1');
});

test('stop and amend change only the status, by the local organization or DSF_ADMIN', async () => {
  const qr = await created('ut-stop');
  assertRefused(await as(site, byEmail).update({ ...qr, status: 'stopped' }), /^QuestionnaireResponse update \(in-progress->stopped\): only the local organization or a DSF_ADMIN/, 'a named practitioner may not stop');
  const withChange = await as(site, local).update({ ...qr, status: 'stopped', item: [qr.item[0], { ...qr.item[1], answer: [{ valueString: 'bk-2' }] }] });
  assertRefused(withChange, /^QuestionnaireResponse update \(in-progress->stopped\): only the status may change/, 'stop with a change');
  assert.equal((await as(site, local).update({ ...qr, status: 'stopped' })).status, 200);

  const qr2 = await created('ut-amend');
  const done = await as(site, local).update(completedByOrganization(qr2));
  assert.equal((await as(site, admin).update({ ...done.resource, status: 'amended' })).status, 200);
  const qr3 = await created('ut-back');
  const done3 = await as(site, local).update(completedByOrganization(qr3));
  const back = await as(site, local).update({ ...done3.resource, status: 'in-progress' });
  assertRefused(back, /^QuestionnaireResponse update: status transition completed->in-progress is not allowed/, 'completed -> in-progress');
});

test('read: local organization, DSF_ADMIN and named practitioners; remote identities see nothing, not even totals', async () => {
  const qr = await created('ut-read');
  for (const [name, identity, expected] of [
    ['local', local, 200],
    ['admin', admin, 200],
    ['named by e-mail', byEmail, 200],
    ['named by role', byRole, 200],
    ['not named', stranger, 403],
    ['remote', remote, 403],
  ] as [string, Identity, number][]) {
    const r = await as(site, identity).read('QuestionnaireResponse', qr.id);
    if (expected === 403) assertRefused(r, /^Not allowed to read QuestionnaireResponse\//, name);
    else assert.equal(r.status, expected, name);
  }
  const remoteSearch = await as(site, remote).search('QuestionnaireResponse', '');
  assert.deepEqual(matchIds(remoteSearch.resource), []);
  assert.equal(remoteSearch.resource.total, 0);
  assert.equal((await as(site, remote).history('QuestionnaireResponse')).resource.total, 0);
  assert.equal((await as(site, stranger).search('QuestionnaireResponse', '_summary=count')).resource.total, 0);
  assert.equal((await as(site, byRole).search('QuestionnaireResponse', '_summary=count')).resource.total, await count());
});

test('delete: the local organization or DSF_ADMIN', async () => {
  const qr = await created('ut-delete');
  const practitionerWithDelete: Identity = { ...byRole, roles: new Map([...byRole.roles, ['DELETE', 'all']]) };
  assertRefused(await as(site, practitionerWithDelete).delete('QuestionnaireResponse', qr.id), /^QuestionnaireResponse delete: only the local organization or a DSF_ADMIN/, 'practitioner');
  const remoteWithDelete: Identity = { ...remote, roles: new Map([...remote.roles, ['DELETE', 'all']]) };
  assertRefused(await as(site, remote).delete('QuestionnaireResponse', qr.id), /lacks the role DELETE for QuestionnaireResponse/, 'remote');
  assertRefused(await as(site, remoteWithDelete).delete('QuestionnaireResponse', qr.id), /^QuestionnaireResponse delete: only the local organization or a DSF_ADMIN/, 'remote with DELETE');
  assert.equal((await as(site, local).delete('QuestionnaireResponse', qr.id)).status, 200);
});
