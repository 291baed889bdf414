// QuestionnaireResponse.questionnaire must name a stored Questionnaire, and the canonical include
// QuestionnaireResponse:questionnaire returns it (the reference-related cases of the reference server's
// QuestionnaireResponseIntegrationTest).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { assertRefused, countStored, ORG_ID, organizationId } from './reference-fixtures.ts';

let site: TestSite;
let localOrgId: string;
const LOCAL = testOrganizationIdentifier('Test_Organization');

before(async () => {
  site = await startTestSite();
  localOrgId = await organizationId(site.client, LOCAL);
});
after(() => site?.stop());

const questionnaire = (url: string, version?: string) => ({
  resourceType: 'Questionnaire',
  meta: TAG_ALL,
  url,
  ...(version ? { version } : {}),
  date: '2024-01-01',
  status: 'active',
  item: [
    { linkId: 'business-key', type: 'string', text: 'The business-key of the process execution', required: true },
    { linkId: 'user-task-id', type: 'string', text: 'The user-task-id of the process execution', required: true },
  ],
});

const response = (canonical: string, extra: object = {}) => ({
  resourceType: 'QuestionnaireResponse',
  questionnaire: canonical,
  status: 'in-progress',
  item: [
    { linkId: 'user-task-id', text: 'The user-task-id of the process execution', answer: [{ valueString: randomUUID() }] },
    { linkId: 'business-key', text: 'The business-key of the process execution', answer: [{ valueString: randomUUID() }] },
  ],
  ...extra,
});

/** Stored without the server's checks, as the reference test does through its DAO (the DSF profile requires a version). */
async function storeDirectly(resource: any): Promise<void> {
  await site.server.store.transaction((c) => site.server.store.create(c, resource));
}

const matches = (b: any) => b.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource);
const included = (b: any) => b.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource);

test('testCreateNotAllowedByLocalUserQuestionnaireDoesNotExists: 403, nothing stored', async () => {
  const before = await countStored(site, 'QuestionnaireResponse');
  assertRefused(await site.client.post('/QuestionnaireResponse', response('http://test.org/fhir/Questionnaire/missing|1.0.0')), 'QuestionnaireResponse.questionnaire', /not found/);
  assert.equal(await countStored(site, 'QuestionnaireResponse'), before);
});

test('testCreateValidByLocalUser: the Questionnaire exists', async () => {
  await site.client.create(questionnaire('http://test.org/fhir/Questionnaire/valid', '1.0.0'));
  const r = await site.client.post('/QuestionnaireResponse', response('http://test.org/fhir/Questionnaire/valid|1.0.0'));
  assert.equal(r.status, 201, r.body);
  // The version must match too.
  assertRefused(await site.client.post('/QuestionnaireResponse', response('http://test.org/fhir/Questionnaire/valid|2.0.0')), 'QuestionnaireResponse.questionnaire', /not found/);
});

test('testSearchByQuestionnaireWithVersion and ...WithoutVersion: the include returns the Questionnaire of the version named', async () => {
  const url = 'http://test.org/fhir/Questionnaire/search';
  await site.client.create(questionnaire(url, '1.0.0'));
  const qr = await site.client.create(response(`${url}|1.0.0`));
  for (const value of [`${url}|1.0.0`, url]) {
    const b = (await site.client.get(`/QuestionnaireResponse?questionnaire=${encodeURIComponent(value)}&_include=QuestionnaireResponse:questionnaire`)).json;
    assert.deepEqual(matches(b).map((r: any) => r.id), [qr.id], value);
    assert.equal(matches(b)[0].questionnaire, `${url}|1.0.0`);
    assert.deepEqual(included(b).map((r: any) => [r.resourceType, r.url, r.version]), [['Questionnaire', url, '1.0.0']], value);
  }
});

test('testSearchByQuestionnaireNoVersion: a canonical without version includes the Questionnaire without version', async () => {
  const url = 'http://test.org/fhir/Questionnaire/no-version';
  await storeDirectly(questionnaire(url));
  const qr = await site.client.create(response(url));
  const b = (await site.client.get(`/QuestionnaireResponse?questionnaire=${encodeURIComponent(url)}&_include=QuestionnaireResponse:questionnaire`)).json;
  assert.deepEqual(matches(b).map((r: any) => r.id), [qr.id]);
  assert.deepEqual(included(b).map((r: any) => [r.url, r.version]), [[url, undefined]]);
});

test('testSearchByQuestionnaireWithoutVersionButMultipleVersionExist: only the version the response names is included', async () => {
  const url = 'http://test.org/fhir/Questionnaire/versions';
  for (const v of ['0.1.0', '1.0.0', '0.2.0']) await site.client.create(questionnaire(url, v));
  await storeDirectly(questionnaire(url));
  const qr = await site.client.create(response(`${url}|1.0.0`));
  const b = (await site.client.get(`/QuestionnaireResponse?questionnaire=${encodeURIComponent(url)}&_include=QuestionnaireResponse:questionnaire`)).json;
  assert.deepEqual(matches(b).map((r: any) => r.id), [qr.id]);
  assert.deepEqual(included(b).map((r: any) => r.version), ['1.0.0']);
  // Without a version the canonical would be ambiguous (four Questionnaires have this url): refused as the reference does.
  assertRefused(await site.client.post('/QuestionnaireResponse', response(url)), 'QuestionnaireResponse.questionnaire', /not found/);
});

test('testSearchBySubjectReference: subject with literal and identifier; search and include by the literal, readers see the identifier', async () => {
  const url = 'http://test.org/fhir/Questionnaire/subject';
  await site.client.create(questionnaire(url, '1.0.0'));
  const subject = { type: 'Organization', reference: `Organization/${localOrgId}`, identifier: { system: ORG_ID, value: LOCAL } };
  const qr = await site.client.create(response(`${url}|1.0.0`, { subject }));
  const b = (await site.client.get(`/QuestionnaireResponse?subject=Organization/${localOrgId}&_include=QuestionnaireResponse:subject:Organization`)).json;
  assert.deepEqual(matches(b).map((r: any) => r.id), [qr.id]);
  assert.deepEqual(matches(b)[0].subject, { type: 'Organization', identifier: { system: ORG_ID, value: LOCAL } });
  assert.deepEqual(included(b).map((r: any) => r.id), [localOrgId]);
});
