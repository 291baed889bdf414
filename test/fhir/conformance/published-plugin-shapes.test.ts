// Over HTTPS, two shapes published DSF plugins have that the reference (HAPI) accepts: a Task profile
// whose element ids do not spell their paths (the differential is walked by path and slice name), and
// Questionnaire/QuestionnaireResponse items that break the @default slice's constraints (the reference
// reports those as warnings).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { GREETING_PROCESS, GREETING_PROFILE, greetingResources, greetingTask } from '../../fixtures/validation/greeting-process.ts';

let site: TestSite;
const LOCAL = testOrganizationIdentifier('Test_Organization');
const PA = 'http://dsf.dev/fhir/CodeSystem/process-authorization';
const QUESTIONNAIRE_URL = 'http://test.dsf.dev/fhir/Questionnaire/greeting-vote';
const USER_TASK_ID_TEXT = 'The user-task-id of the process execution';
const BUSINESS_KEY_TEXT = 'The business-key of the process execution';

before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

async function count(type: string): Promise<number> {
  const r = await site.server.pool.query('SELECT count(*)::int AS n FROM resources WHERE type = $1 AND current AND NOT deleted', [type]);
  return r.rows[0].n;
}

function issues(r: { json: any }): OperationOutcomeIssue[] {
  return (r.json?.issue ?? []) as OperationOutcomeIssue[];
}

const describeIssues = (list: OperationOutcomeIssue[]) => list.map((i) => `${i.severity} ${i.code} ${i.expression?.[0]}: ${i.diagnostics}`).join('\n');

function activityDefinition() {
  const local = { system: PA, code: 'LOCAL_ALL' };
  return {
    resourceType: 'ActivityDefinition',
    meta: TAG_ALL,
    url: GREETING_PROCESS,
    version: '1.0',
    name: 'greeting',
    status: 'active',
    kind: 'Task',
    date: '2025-01-01',
    extension: [
      {
        url: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization',
        extension: [
          { url: 'message-name', valueString: 'greet' },
          { url: 'task-profile', valueCanonical: GREETING_PROFILE },
          { url: 'requester', valueCoding: local },
          { url: 'recipient', valueCoding: local },
        ],
      },
    ],
  };
}

test('a plugin Task profile with element ids that do not spell their paths stores, and Tasks claiming it validate', async () => {
  for (const resource of greetingResources()) {
    const r = await site.client.post(`/${resource.resourceType}`, resource);
    assert.equal(r.status, 201, `${resource.resourceType}: ${r.body}`);
  }
  await site.client.create(activityDefinition());

  const ok = await site.client.post('/Task', greetingTask({ requester: LOCAL, recipient: LOCAL }));
  assert.equal(ok.status, 201, ok.body);

  const before = await count('Task');
  const tooLong = await site.client.post('/Task', greetingTask({ requester: LOCAL, recipient: LOCAL, text: 'x'.repeat(41) }));
  assert.equal(tooLong.status, 422, tooLong.body);
  assert.deepEqual(
    issues(tooLong).map((i) => [i.severity, i.code, i.expression?.[0]]),
    [['error', 'invariant', 'Task.input[1].valueString']],
  );
  assert.match(issues(tooLong)[0]!.diagnostics!, /greeting-text-length/);

  const wrongSystem = await site.client.post('/Task', greetingTask({ requester: LOCAL, recipient: LOCAL, addresseeSystem: 'http://dsf.dev/sid/organization-identifier' }));
  assert.equal(wrongSystem.status, 422, wrongSystem.body);
  assert.deepEqual(
    issues(wrongSystem).map((i) => [i.severity, i.code, i.expression?.[0]]),
    [['error', 'value', 'Task.input[2].valueReference.identifier.system']],
  );
  assert.equal(await count('Task'), before, 'nothing stored');
});

/** The published tutorial's shape: a display item and a boolean item without text. */
function questionnaire(version: string) {
  return {
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire|2.0.0'], ...TAG_ALL },
    url: QUESTIONNAIRE_URL,
    version,
    date: '2025-01-01',
    status: 'active',
    item: [
      { linkId: 'business-key', text: BUSINESS_KEY_TEXT, type: 'string', required: true },
      { linkId: 'user-task-id', text: USER_TASK_ID_TEXT, type: 'string', required: true },
      { linkId: 'greeting-question', type: 'display' },
      { linkId: 'vote', type: 'boolean', required: true },
    ],
  };
}

test('a Questionnaire whose @default items lack text is stored, the issues told as warnings', async () => {
  const plain = await site.client.post('/Questionnaire', questionnaire('1.0'));
  assert.equal(plain.status, 201, plain.body);

  const told = await site.client.post('/Questionnaire', questionnaire('1.1'), { prefer: 'return=OperationOutcome' });
  assert.equal(told.status, 201, told.body);
  assert.equal(told.json.resourceType, 'OperationOutcome');
  const warnings = issues(told).filter((i) => i.severity === 'warning');
  assert.deepEqual(
    warnings.map((i) => [i.code, i.expression?.[0]]),
    [
      ['required', 'Questionnaire.item[2].text'],
      ['required', 'Questionnaire.item[3].text'],
    ],
    describeIssues(issues(told)),
  );
  assert.ok(warnings.every((i) => i.diagnostics?.includes('Questionnaire.item:@default')), describeIssues(warnings));
  assert.ok(!issues(told).some((i) => i.severity === 'error'), describeIssues(issues(told)));

  // Errors elsewhere stay errors: a named slice's fixed text.
  const before = await count('Questionnaire');
  const broken = questionnaire('1.2');
  broken.item[0]!.text = 'Business key';
  const refused = await site.client.post('/Questionnaire', broken);
  assert.equal(refused.status, 422, refused.body);
  assert.deepEqual(
    issues(refused).map((i) => [i.severity, i.code, i.expression?.[0]]),
    [['error', 'value', 'Questionnaire.item[0].text']],
  );
  assert.equal(await count('Questionnaire'), before, 'nothing stored');
});

function questionnaireResponse() {
  return {
    resourceType: 'QuestionnaireResponse',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire-response|2.0.0'] },
    questionnaire: `${QUESTIONNAIRE_URL}|1.0`,
    status: 'in-progress',
    authored: '2025-01-02T10:00:00+01:00',
    item: [
      { linkId: 'business-key', text: BUSINESS_KEY_TEXT, answer: [{ valueString: randomUUID() }] },
      { linkId: 'user-task-id', text: USER_TASK_ID_TEXT, answer: [{ valueString: randomUUID() }] },
      { linkId: 'greeting-question' },
      { linkId: 'vote', answer: [{ valueBoolean: true }] },
    ],
  };
}

test('a QuestionnaireResponse whose @default items lack text is stored, in a transaction too, the issues told as warnings', async () => {
  const direct = await site.client.post('/QuestionnaireResponse', questionnaireResponse(), { prefer: 'return=OperationOutcome' });
  assert.equal(direct.status, 201, direct.body);
  assert.deepEqual(
    issues(direct).filter((i) => i.severity === 'warning').map((i) => [i.code, i.expression?.[0]]),
    [
      ['required', 'QuestionnaireResponse.item[2].text'],
      ['required', 'QuestionnaireResponse.item[3].text'],
    ],
    describeIssues(issues(direct)),
  );

  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: questionnaireResponse(), request: { method: 'POST', url: 'QuestionnaireResponse' } }],
  };
  const tx = await site.client.post('', bundle, { prefer: 'return=OperationOutcome' });
  assert.equal(tx.status, 200, tx.body);
  const entry = tx.json.entry[0].response;
  assert.equal(entry.status, '201 Created');
  assert.deepEqual(
    (entry.outcome.issue as OperationOutcomeIssue[]).filter((i) => i.severity === 'warning').map((i) => i.expression?.[0]),
    ['QuestionnaireResponse.item[2].text', 'QuestionnaireResponse.item[3].text'],
  );

  // A base-definition error in a @default item stays an error.
  const before = await count('QuestionnaireResponse');
  const broken = questionnaireResponse();
  delete (broken.item[3] as { linkId?: string }).linkId;
  const refused = await site.client.post('/QuestionnaireResponse', broken);
  assert.equal(refused.status, 422, refused.body);
  assert.ok(
    issues(refused).some((i) => i.severity === 'error' && i.expression?.[0] === 'QuestionnaireResponse.item[3].linkId'),
    describeIssues(issues(refused)),
  );
  assert.equal(await count('QuestionnaireResponse'), before, 'nothing stored');
});
