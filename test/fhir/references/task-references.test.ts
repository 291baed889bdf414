// Tasks and their references (the reference-related cases of the reference server's
// TaskIntegrationTest): the requester that came as an identifier is found by search and _include
// through its resolved Organization, while every reader (read, vread, search, history, bundle
// responses, websocket events) sees the identifier only; instantiatesCanonical must name a stored
// ActivityDefinition; outputs of an in-progress Task must point at Binaries that exist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { EventClient, wsUrl } from '../events/event-client.ts';
import { assertRefused, BPMN, countStored, createProcess, ORG_ID, organizationId, orgRef, PROCESS, referenceParameter, refTask, stored } from './reference-fixtures.ts';

let site: TestSite;
let localOrgId: string;
const LOCAL = testOrganizationIdentifier('Test_Organization');

before(async () => {
  site = await startTestSite();
  await createProcess(site);
  localOrgId = await organizationId(site.client, LOCAL);
});
after(() => site?.stop());

const businessKey = (value: string) => ({ type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: value });

/** A Task the local organisation sent to itself, then started (in-progress, with a business-key). */
async function inProgressTask(): Promise<any> {
  const created = await site.client.create(refTask({ requester: LOCAL, recipient: LOCAL }));
  const started = await site.client.put(`/Task/${created.id}`, { ...created, status: 'in-progress', input: [...created.input, businessKey(randomUUID())] });
  assert.equal(started.status, 200, started.body);
  return started.json;
}

test('testSearchTaskByRequesterId: the requester given as identifier is found by id and included; readers see the identifier only', async () => {
  const created = await site.client.create(refTask({ requester: LOCAL, recipient: LOCAL }));
  assert.deepEqual(created.requester, orgRef(LOCAL));
  assert.equal((await stored(site, created.id)).requester.reference, `Organization/${localOrgId}`);

  const byId = await site.client.get(`/Task?requester=${localOrgId}&_id=${created.id}`);
  assert.equal(byId.json.total, 1);
  const byTypeAndId = await site.client.get(`/Task?requester=Organization/${localOrgId}&_id=${created.id}&_include=Task:requester:Organization`);
  assert.equal(byTypeAndId.json.total, 1);
  const match = byTypeAndId.json.entry.find((e: any) => e.search.mode === 'match').resource;
  assert.deepEqual(match.requester, orgRef(LOCAL));
  assert.deepEqual(match.restriction.recipient, [orgRef(LOCAL)]);
  assert.deepEqual(byTypeAndId.json.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id), [localOrgId]);
  // The identifier search keeps working as before.
  assert.equal((await site.client.get(`/Task?requester:identifier=${ORG_ID}|${LOCAL}&_id=${created.id}`)).json.total, 1);

  assert.deepEqual((await site.client.get(`/Task/${created.id}`)).json.requester, orgRef(LOCAL));
  assert.deepEqual((await site.client.get(`/Task/${created.id}/_history/1`)).json.requester, orgRef(LOCAL));
  for (const path of [`/Task/${created.id}/_history`, '/Task/_history?_count=500', '/_history?_count=500']) {
    const entry = (await site.client.get(path)).json.entry.find((e: any) => e.resource?.id === created.id);
    assert.deepEqual(entry.resource.requester, orgRef(LOCAL), path);
  }
});

test('testHistoryLiteralReferenceClean: history of a Task whose requester and recipient came as identifiers', async () => {
  const created = await site.client.create(refTask({ requester: LOCAL, recipient: LOCAL }));
  const s = await stored(site, created.id);
  assert.ok(s.requester.reference && s.restriction.recipient[0].reference, 'the database has the literals');
  const history = await site.client.get(`/Task/${created.id}/_history`);
  assert.equal(history.json.type, 'history');
  assert.equal(history.json.total, 1);
  const fromHistory = history.json.entry[0].resource;
  assert.deepEqual(fromHistory.requester, orgRef(LOCAL));
  assert.deepEqual(fromHistory.restriction.recipient[0], orgRef(LOCAL));
});

test('transaction responses and batch responses show the identifier only', async () => {
  const bundle = (type: string) => ({ resourceType: 'Bundle', type, entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: refTask({ requester: LOCAL, recipient: LOCAL }), request: { method: 'POST', url: 'Task' } }] });
  for (const type of ['transaction', 'batch']) {
    const r = await site.client.post('', bundle(type), { prefer: 'return=representation' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.entry[0].response.status, '201 Created');
    assert.deepEqual(r.json.entry[0].resource.requester, orgRef(LOCAL), type);
    const read = await site.client.post('', { resourceType: 'Bundle', type, entry: [{ request: { method: 'GET', url: `Task/${r.json.entry[0].resource.id}` } }] });
    assert.deepEqual(read.json.entry[0].resource.requester, orgRef(LOCAL), `${type} read`);
  }
});

test('websocket events carry what readers see', async () => {
  const subscriptions = await site.client.get('/Subscription?criteria:exact=Task?status=requested');
  const events = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  try {
    await events.bind(subscriptions.json.entry[0].resource.id);
    const created = await site.client.create(refTask({ requester: LOCAL, recipient: LOCAL }));
    await events.until(() => events.resources().some((r) => r.id === created.id), 'the Task event');
    const event = events.resources().find((r) => r.id === created.id);
    assert.deepEqual(event.requester, orgRef(LOCAL));
    assert.deepEqual(event.restriction.recipient, [orgRef(LOCAL)]);
  } finally {
    await events.close();
  }
});

test('Task.instantiatesCanonical must name a stored ActivityDefinition (url and version)', async () => {
  const before = await countStored(site, 'Task');
  const draft = (canonical: string) => ({
    ...refTask({ requester: LOCAL, recipient: LOCAL, status: 'draft' }),
    identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: `draft-${randomUUID()}` }],
    instantiatesCanonical: canonical,
  });
  assertRefused(await site.client.post('/Task', draft('http://dsf.dev/bpe/Process/nothing|1.0')), 'Task.instantiatesCanonical', /Reference target http:\/\/dsf.dev\/bpe\/Process\/nothing\|1.0 .* not found/);
  assertRefused(await site.client.post('/Task', draft(`http://dsf.dev/bpe/Process/${PROCESS}|9.9`)), 'Task.instantiatesCanonical', /not found/);
  assert.equal(await countStored(site, 'Task'), before);
  const ok = await site.client.post('/Task', draft(`http://dsf.dev/bpe/Process/${PROCESS}|1.0`));
  assert.equal(ok.status, 201, ok.body);
});

test('testUpdateTaskFromInProgressToInProgressWithNonExistingInputReferenceToBinaryNotAllowed', async () => {
  const task = await inProgressTask();
  const withOutput = { ...task, output: [referenceParameter('binary-ref', { reference: `Binary/${randomUUID()}` })] };
  assertRefused(await site.client.put(`/Task/${task.id}`, withOutput), 'Task.output', /Reference target Binary\/.* not found/);
  assert.equal((await stored(site, task.id)).meta.versionId, task.meta.versionId, 'nothing stored');
});

test('testUpdateTaskFromInProgressToInProgressWithExistingInputReferencesToBinaryAllowed', async () => {
  const binary = await site.client.create({ resourceType: 'Binary', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, contentType: 'text/plain', data: Buffer.from('DSF').toString('base64') });
  const task = await inProgressTask();
  const updated1 = await site.client.put(`/Task/${task.id}`, { ...task, output: [referenceParameter('binary-ref', { reference: `Binary/${binary.id}` })] });
  assert.equal(updated1.status, 200, updated1.body);
  const { output: _output, ...withoutOutput } = updated1.json;
  const updated2 = await site.client.put(`/Task/${task.id}`, withoutOutput);
  assert.equal(updated2.status, 200, updated2.body);
});

test('a Task set to failed is not checked again: its output may point at a Binary deleted since', async () => {
  const binary = await site.client.create({ resourceType: 'Binary', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, contentType: 'text/plain', data: Buffer.from('gone').toString('base64') });
  const task = await inProgressTask();
  const withOutput = (await site.client.put(`/Task/${task.id}`, { ...task, output: [referenceParameter('binary-ref', { reference: `Binary/${binary.id}` })] })).json;
  assert.equal((await site.client.delete(`/Binary/${binary.id}`)).status, 200);
  assertRefused(await site.client.put(`/Task/${task.id}`, { ...withOutput, status: 'completed' }), 'Task.output', /not found/);
  const failed = await site.client.put(`/Task/${task.id}`, { ...withOutput, status: 'failed' });
  assert.equal(failed.status, 200, failed.body);
});

test('a Patient reference in a Task input (any type) must exist when it is literal', async () => {
  const missing = await site.client.post('/Task', refTask({ requester: LOCAL, recipient: LOCAL, inputs: [referenceParameter('patient', { reference: `Patient/${randomUUID()}` })] }));
  assertRefused(missing, 'Task.input', /not found/);
  const patient = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const present = await site.client.post('/Task', refTask({ requester: LOCAL, recipient: LOCAL, inputs: [referenceParameter('patient', { reference: `Patient/${patient.id}` })] }));
  assert.equal(present.status, 201, present.body);
});
