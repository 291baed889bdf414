// The reference's QuestionnaireResponseIntegrationTest, ported: who creates, completes, stops, amends,
// deletes, reads, searches and sees the history of user-task responses (local organisation, remote
// organisation, DSF_ADMIN, practitioner and minimal users named or not by the questionnaire-authorization
// extension), over HTTPS with the reference's identities.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectForbidden, expectStatus, ids, LOCAL_ORG, MAIL, ORG_ID, PRACTITIONER_ID, PRACTITIONER_ROLE, startParitySite, tagAll, type ParitySite } from './parity-site.ts';

let p: ParitySite;

const QUESTIONNAIRE_URL = 'http://dsf.dev/fhir/Questionnaire/userTask/foo';
const QUESTIONNAIRE_VERSION = '2.0';
const TEST_IDENTIFIER = { system: 'http://dsf.dev/fhir/CodeSystem/test', value: 'foo' };
const QR_DATE = '2022-01-02T00:00:00.000Z';
const EXT_AUTHORIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization';

// null: no version (undefined would take the default).
function questionnaire(version: string | null = QUESTIONNAIRE_VERSION): any {
  return {
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire'], tag: [tagAll()] },
    url: QUESTIONNAIRE_URL,
    ...(version ? { version } : {}),
    identifier: [TEST_IDENTIFIER],
    status: 'active',
    date: '2022-01-01T00:00:00Z',
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', type: 'string', required: true },
      { linkId: 'business-key', text: 'The business-key of the process execution', type: 'string', required: true },
    ],
  };
}

const item = (linkId: string, value: string) => ({ linkId, text: `The ${linkId} of the process execution`, answer: [{ valueString: value }] });

function questionnaireResponse(extra: object = {}): any {
  return {
    resourceType: 'QuestionnaireResponse',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire-response'] },
    identifier: TEST_IDENTIFIER,
    questionnaire: `${QUESTIONNAIRE_URL}|${QUESTIONNAIRE_VERSION}`,
    status: 'in-progress',
    authored: QR_DATE,
    author: { type: 'Organization', reference: `Organization/${p.ids.localOrganization}`, identifier: { system: ORG_ID, value: LOCAL_ORG } },
    item: [item('user-task-id', randomUUID()), item('business-key', randomUUID())],
    ...extra,
  };
}

const authorizedRole = (code: string) => ({ extension: [{ url: EXT_AUTHORIZATION, extension: [{ url: 'practitioner-role', valueCoding: { system: PRACTITIONER_ROLE, code } }] }] });
const authorizedPractitioner = (mail: string) => ({ extension: [{ url: EXT_AUTHORIZATION, extension: [{ url: 'practitioner', valueIdentifier: { system: PRACTITIONER_ID, value: mail } }] }] });

/** The response completed by a practitioner (author = that practitioner). */
const completedBy = (qr: any, mail: string) => ({ ...qr, status: 'completed', authored: new Date().toISOString(), author: { type: 'Practitioner', identifier: { system: PRACTITIONER_ID, value: mail } } });

async function storedResponses(): Promise<number> {
  return Number((await p.site.server.pool.query(`SELECT count(*) AS n FROM resources WHERE type = 'QuestionnaireResponse'`)).rows[0].n);
}

async function expectSearchTotal(client: ParitySite['local'], qrId: string, total: number): Promise<void> {
  const r = await client.get(`/QuestionnaireResponse?_id=${qrId}`);
  expectStatus(r, 200);
  assert.equal(r.json.total, total);
  assert.equal(ids(r.json).length, total);
}

async function expectVersionRead(client: ParitySite['local'], qr: any, version: string, allowed: boolean): Promise<void> {
  const r = await client.get(`/QuestionnaireResponse/${qr.id}/_history/${version}`);
  if (!allowed) return expectForbidden(r, /Not allowed to read/);
  expectStatus(r, 200);
  assert.equal(r.json.id, qr.id);
  assert.equal(r.json.meta.versionId, version);
}

describe('QuestionnaireResponseIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
  });
  after(() => p?.stop());
  afterEach(() => p.reset(['QuestionnaireResponse', 'Questionnaire']));

  it('testCreateValidByLocalUser', async () => {
    await p.storeDirectly(questionnaire());
    const r = await p.local.post('/QuestionnaireResponse', questionnaireResponse());
    expectStatus(r, 201);
  });

  it('testCreateNotAllowedByLocalUserStatusCompleted', async () => {
    expectForbidden(await p.local.post('/QuestionnaireResponse', questionnaireResponse({ status: 'completed' })), /status must be in-progress/);
    assert.equal(await storedResponses(), 0);
  });

  it('testCreateNotAllowedByLocalUserQuestionnaireDoesNotExists', async () => {
    expectForbidden(await p.local.post('/QuestionnaireResponse', questionnaireResponse()), /Reference target .* of reference at QuestionnaireResponse.questionnaire .* not found/);
    assert.equal(await storedResponses(), 0);
  });

  it('testCreateNotAllowedByRemoteUser', async () => {
    expectForbidden(await p.external.post('/QuestionnaireResponse', questionnaireResponse()), /lacks the role CREATE/);
    assert.equal(await storedResponses(), 0);
  });

  it('testUpdateAllowedByLocalUser', async () => {
    await p.storeDirectly(questionnaire());
    const created = await p.storeDirectly(questionnaireResponse());
    const r = await p.local.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'completed' });
    expectStatus(r, 200);
    assert.equal(r.json.id, created.id);
    assert.equal(r.json.meta.versionId, '2');
  });

  it('testUpdateNotAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.local.put(`/QuestionnaireResponse/${created.id}`, created), /in-progress->in-progress is not allowed/);
  });

  it('testUpdateNotAllowedByLocalUserNoUserTaskId', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.local.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'stopped', item: undefined }), /only the status may change/);
  });

  it('testUpdateNotAllowedByLocalUserChangedUserTaskId', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.local.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'stopped', item: [item('user-task-id', randomUUID())] }), /only the status may change/);
  });

  it('testSecondUpdateNotAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    const updated = await p.site.server.store.transaction((c) => p.site.server.store.update(c, { ...created, status: 'completed' }));
    expectForbidden(await p.local.put(`/QuestionnaireResponse/${created.id}`, updated.stored.resource), /completed->completed is not allowed/);
  });

  it('testUpdateNotAllowedByRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.external.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'completed' }), /lacks the role UPDATE/);
  });

  it('testSearchByDate', async () => {
    await p.storeDirectly(questionnaireResponse());
    const r = await p.local.get('/QuestionnaireResponse?authored=le2022-02-01');
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 1);
    assert.equal(new Date(r.json.entry[0].resource.authored).getTime(), new Date(QR_DATE).getTime());
  });

  it('testSearchByIdentifier', async () => {
    await p.storeDirectly(questionnaireResponse());
    const r = await p.local.get(`/QuestionnaireResponse?identifier=${TEST_IDENTIFIER.system}|${TEST_IDENTIFIER.value}`);
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 1);
    assert.deepEqual(r.json.entry[0].resource.identifier, TEST_IDENTIFIER);
  });

  it('testSearchByIdentifierRemoteUser', async () => {
    await p.storeDirectly(questionnaireResponse());
    const r = await p.external.get(`/QuestionnaireResponse?identifier=${TEST_IDENTIFIER.system}|${TEST_IDENTIFIER.value}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 0);
    assert.equal(r.json.entry, undefined);
  });

  /** Search by questionnaire with the Questionnaire included; `expectVersion` of the included one. */
  async function searchByQuestionnaire(criteria: string, expectedQuestionnaire: string, expectVersion: string | undefined): Promise<void> {
    const r = await p.local.get(`/QuestionnaireResponse?questionnaire=${encodeURIComponent(criteria)}&_include=QuestionnaireResponse:questionnaire`);
    expectStatus(r, 200);
    assert.equal(r.json.entry?.length, 2, r.body);
    assert.equal(r.json.entry[0].resource.resourceType, 'QuestionnaireResponse');
    assert.equal(r.json.entry[0].resource.questionnaire, expectedQuestionnaire);
    assert.equal(r.json.entry[1].resource.resourceType, 'Questionnaire');
    assert.equal(r.json.entry[1].resource.url, QUESTIONNAIRE_URL);
    assert.equal(r.json.entry[1].resource.version, expectVersion);
  }

  for (const [name, criteria] of [
    ['testSearchByQuestionnaireWithVersion', `${QUESTIONNAIRE_URL}|${QUESTIONNAIRE_VERSION}`],
    ['testSearchByQuestionnaireWithoutVersion', QUESTIONNAIRE_URL],
  ]) {
    it(name!, async () => {
      await p.storeDirectly(questionnaire());
      await p.storeDirectly(questionnaireResponse());
      await searchByQuestionnaire(criteria!, `${QUESTIONNAIRE_URL}|${QUESTIONNAIRE_VERSION}`, QUESTIONNAIRE_VERSION);
    });
  }

  it('testSearchByQuestionnaireNoVersion', async () => {
    await p.storeDirectly(questionnaire(null));
    await p.storeDirectly(questionnaireResponse({ questionnaire: QUESTIONNAIRE_URL }));
    await searchByQuestionnaire(QUESTIONNAIRE_URL, QUESTIONNAIRE_URL, undefined);
  });

  it('testSearchByQuestionnaireWithoutVersionButMultipleVersionExist', async () => {
    for (const version of ['0.1.0', QUESTIONNAIRE_VERSION, '0.2.0', null]) await p.storeDirectly(questionnaire(version));
    await p.storeDirectly(questionnaireResponse());
    await searchByQuestionnaire(QUESTIONNAIRE_URL, `${QUESTIONNAIRE_URL}|${QUESTIONNAIRE_VERSION}`, QUESTIONNAIRE_VERSION);
  });

  it('testSearchByStatus', async () => {
    await p.storeDirectly(questionnaireResponse());
    const r = await p.local.get('/QuestionnaireResponse?status=in-progress');
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 1);
    assert.equal(r.json.entry[0].resource.status, 'in-progress');
  });

  it('testSearchBySubjectReference', async () => {
    const subject = { type: 'Organization', reference: `Organization/${p.ids.localOrganization}`, identifier: { system: ORG_ID, value: LOCAL_ORG } };
    await p.storeDirectly(questionnaireResponse({ subject }));
    const r = await p.local.get(`/QuestionnaireResponse?subject=Organization/${p.ids.localOrganization}&_include=QuestionnaireResponse:subject:Organization`);
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 2);
    assert.deepEqual(r.json.entry[0].resource.subject.identifier, subject.identifier);
    assert.equal(r.json.entry[0].resource.subject.reference, undefined);
    assert.equal(r.json.entry[1].resource.resourceType, 'Organization');
    assert.deepEqual(r.json.entry[1].resource.identifier[0], { system: ORG_ID, value: LOCAL_ORG });
  });

  it('testDeleteAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectStatus(await p.local.delete(`/QuestionnaireResponse/${created.id}`), 200);
    expectStatus(await p.local.get(`/QuestionnaireResponse/${created.id}`), 410);
  });

  it('testDeleteNotAllowedByRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.external.delete(`/QuestionnaireResponse/${created.id}`), /lacks the role DELETE/);
  });

  it('testReadAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    const r = await p.local.get(`/QuestionnaireResponse/${created.id}`);
    expectStatus(r, 200);
    assert.equal(r.json.id, created.id);
    assert.equal(r.json.meta.versionId, '1');
  });

  it('testReadNotAllowedByRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.external.get(`/QuestionnaireResponse/${created.id}`), /Not allowed to read/);
  });

  it('testReadNotAllowedByRemoteUserWithVersion', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    await expectVersionRead(p.external, created, '1', false);
  });

  it('testNotModifiedCheckAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    const r = await p.local.get(`/QuestionnaireResponse/${created.id}`, { 'if-none-match': 'W/"1"' });
    assert.equal(r.status, 304);
  });

  it('testNotModifiedCheckNotAllowedByRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    expectForbidden(await p.external.get(`/QuestionnaireResponse/${created.id}`, { 'if-none-match': 'W/"1"' }), /Not allowed to read QuestionnaireResponse\//);
  });

  it('testNotModifiedCheckAllowedByLocalUserWithModification', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    await p.site.server.store.transaction((c) => p.site.server.store.update(c, { ...created, authored: new Date().toISOString() }));
    const r = await p.local.get(`/QuestionnaireResponse/${created.id}`, { 'if-none-match': 'W/"1"' });
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
  });

  it('testNotModifiedCheckNotAllowedByRemoteUserWithModification', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    await p.site.server.store.transaction((c) => p.site.server.store.update(c, { ...created, authored: new Date().toISOString() }));
    expectForbidden(await p.external.get(`/QuestionnaireResponse/${created.id}`, { 'if-none-match': 'W/"1"' }), /Not allowed to read QuestionnaireResponse\//);
  });

  it('testHistory', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    const instance = await p.local.get(`/QuestionnaireResponse/${created.id}/_history`);
    expectStatus(instance, 200);
    assert.deepEqual(ids(instance.json), [created.id]);
    const type = await p.local.get('/QuestionnaireResponse/_history');
    expectStatus(type, 200);
    assert.deepEqual(ids(type.json), [created.id]);
    const system = await p.local.get('/_history?_count=1000');
    expectStatus(system, 200);
    assert.equal(system.json.entry.filter((e: any) => e.resource?.resourceType === 'QuestionnaireResponse').length, 1);
  });

  it('testHistoryRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    const instance = await p.external.get(`/QuestionnaireResponse/${created.id}/_history`);
    expectStatus(instance, 200);
    assert.equal(instance.json.total, 0);
    assert.equal(instance.json.entry, undefined);
    const type = await p.external.get('/QuestionnaireResponse/_history');
    expectStatus(type, 200);
    assert.equal(type.json.entry, undefined);
    const system = await p.external.get('/_history?_count=1000');
    expectStatus(system, 200);
    assert.ok(system.json.entry.length > 0);
    assert.equal(system.json.entry.filter((e: any) => e.resource?.resourceType === 'QuestionnaireResponse').length, 0);
  });

  it('testDeletePermanentlyAllowedByLocalUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    await p.deleteDirectly('QuestionnaireResponse', created.id);
    expectStatus(await p.local.post(`/QuestionnaireResponse/${created.id}/$permanent-delete`, undefined), 200);
    assert.equal(await storedResponses(), 0);
  });

  it('testDeletePermanentlyNotAllowedByRemoteUser', async () => {
    const created = await p.storeDirectly(questionnaireResponse());
    await p.deleteDirectly('QuestionnaireResponse', created.id);
    expectForbidden(await p.external.post(`/QuestionnaireResponse/${created.id}/$permanent-delete`, undefined), /PERMANENT_DELETE/);
  });

  it('testUpdateAllowedByMinimalUserWithRole', async () => {
    await p.storeDirectly(questionnaire());
    const created = await p.storeDirectly(questionnaireResponse(authorizedRole('DIC_USER')));
    const r = await p.minimal.put(`/QuestionnaireResponse/${created.id}`, completedBy(created, MAIL.minimal));
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
  });

  it('testUpdateNotAllowedByMinimalUserWithoutRole', async () => {
    await p.storeDirectly(questionnaire());
    const created = await p.storeDirectly(questionnaireResponse(authorizedRole('UAC_USER')));
    expectForbidden(await p.minimal.put(`/QuestionnaireResponse/${created.id}`, completedBy(created, MAIL.minimal)), /extension-questionnaire-authorization/);
  });

  /** The reference's read tests: `minimal` reads the response before and after the admin or `minimal` completes it, or never. */
  async function readScenario(extension: object, readable: boolean): Promise<void> {
    await p.storeDirectly(questionnaire());
    const created = await p.storeDirectly(questionnaireResponse(extension));
    await expectVersionRead(p.minimal, created, '1', readable);
    await expectSearchTotal(p.minimal, created.id, readable ? 1 : 0);
    await expectSearchTotal(p.local, created.id, 1);
    const completer = readable ? p.minimal : p.admin;
    const updated = await completer.put(`/QuestionnaireResponse/${created.id}`, completedBy(created, readable ? MAIL.minimal : MAIL.admin));
    expectStatus(updated, 200);
    assert.equal(updated.json.meta.versionId, '2');
    await expectVersionRead(p.minimal, created, '2', readable);
    await expectSearchTotal(p.minimal, created.id, readable ? 1 : 0);
    await expectSearchTotal(p.admin, created.id, 1);
  }

  it('testReadNotAllowedByPractitionerUserWithoutRole', () => readScenario(authorizedRole('UAC_USER'), false));
  it('testReadAllowedByPractitionerUserWithRole', () => readScenario(authorizedRole('DIC_USER'), true));
  it('testReadNotAllowedByPractitionerUserWithoutIdentifier', () => readScenario(authorizedPractitioner(MAIL.practitioner), false));
  it('testReadAllowedByPractitionerUserWithIdentifier', () => readScenario(authorizedPractitioner(MAIL.minimal), true));

  const completedByMinimal = async () => {
    await p.storeDirectly(questionnaire());
    return p.storeDirectly(completedBy(questionnaireResponse(), MAIL.minimal));
  };

  it('testUpdateCompletedAmendedAllowedOrganizationUser', async () => {
    const created = await completedByMinimal();
    expectStatus(await p.local.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'amended' }), 200);
  });

  it('testUpdateCompletedAmendedAllowedDsfAdmin', async () => {
    const created = await completedByMinimal();
    expectStatus(await p.admin.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'amended' }), 200);
  });

  it('testUpdateCompletedAmendedNotAllowed', async () => {
    const created = await completedByMinimal();
    for (const client of [p.minimal, p.practitioner, p.external]) expectForbidden(await client.put(`/QuestionnaireResponse/${created.id}`, { ...created, status: 'amended' }), /^(QuestionnaireResponse update \(completed->amended\): only the local organization or a DSF_ADMIN|.*lacks the role UPDATE for QuestionnaireResponse)/);
  });

  it('testSearchAllowedByMinimalUserWithRole', async () => {
    await p.storeDirectly(questionnaire());
    const created = await p.storeDirectly(questionnaireResponse(authorizedRole('DIC_USER')));
    const updated = await p.minimal.put(`/QuestionnaireResponse/${created.id}`, completedBy(created, MAIL.minimal));
    expectStatus(updated, 200);
    assert.equal(updated.json.meta.versionId, '2');
    const r = await p.minimal.get(`/QuestionnaireResponse?author:identifier=${encodeURIComponent(`${PRACTITIONER_ID}|${MAIL.minimal}`)}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(ids(r.json), [created.id]);
  });
});
