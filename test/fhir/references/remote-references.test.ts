// Literal references to another DSF FHIR server, with two real sites on loopback: when an active
// Endpoint of this server names the other server's base URL, the referenced resource must exist
// there, asked with a HEAD request over mutual TLS with this server's client certificate; not found,
// not readable, or the server unreachable (stopped, nothing listening): refused. Servers no Endpoint
// names are not asked. The Task cases of the reference server's TaskIntegrationTest (inputs pointing
// at a Binary of another site) follow the reference's exceptions for completed and failed Tasks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freePort } from '../../../src/db/embedded.ts';
import { sitesBundle } from '../../../src/fhir/init-bundle.ts';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { assertRefused, BPMN, countStored, createProcess, organizationId, referenceParameter, refTask, stored } from './reference-fixtures.ts';

let a: TestSite; // this server (Test_Organization)
let b: TestSite; // the other site (External_Test_Organization)
let bBaseUrl: string;
const LOCAL = testOrganizationIdentifier('Test_Organization');
const REMOTE = testOrganizationIdentifier('External_Test_Organization');
const TAG_LOCAL = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] };

/** Each site learns the other's organisation (client thumbprint) and Endpoint (base URL). */
async function introduce(to: TestSite, other: TestSite, organization: string): Promise<void> {
  const site = { organizationIdentifier: testOrganizationIdentifier(organization), thumbprints: [other.certs.organizations[organization]!.client.thumbprint], fhirBaseUrl: other.baseUrl };
  const r = await to.client.post('', sitesBundle([site]));
  assert.equal(r.status, 200, r.body);
}

before(async () => {
  a = await startTestSite();
  b = await startTestSite({ organization: 'External_Test_Organization' });
  bBaseUrl = b.baseUrl;
  await introduce(a, b, 'External_Test_Organization');
  await introduce(b, a, 'Test_Organization');
  await createProcess(a);
});
after(async () => {
  await a?.stop();
  await b?.stop();
});

const binaryAtB = async (meta: object = TAG_ALL) => b.client.create({ resourceType: 'Binary', meta, contentType: 'text/plain', data: Buffer.from(`at B ${randomUUID()}`).toString('base64') });

const taskWithInput = (reference: string) => refTask({ requester: LOCAL, recipient: LOCAL, inputs: [referenceParameter('binary-ref', { reference })] });

const businessKey = () => ({ type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: randomUUID() });

test('a resource that exists at the other site (and this site may read there) is accepted', async () => {
  const x = await binaryAtB();
  const r = await a.client.post('/Task', taskWithInput(`${bBaseUrl}/Binary/${x.id}`));
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json.input.at(-1).valueReference.reference, `${bBaseUrl}/Binary/${x.id}`);
});

test('not found at the other site: 403, nothing stored', async () => {
  const before = await countStored(a, 'Task');
  const missing = `${bBaseUrl}/Binary/${randomUUID()}`;
  assertRefused(await a.client.post('/Task', taskWithInput(missing)), 'Task.input', new RegExp(`Reference target ${missing} .* not found on server ${bBaseUrl}`));
  assert.equal(await countStored(a, 'Task'), before);
});

test('a resource the other site does not let this site read: could not be resolved (reason hidden)', async () => {
  const x = await binaryAtB(TAG_LOCAL);
  assertRefused(await a.client.post('/Task', taskWithInput(`${bBaseUrl}/Binary/${x.id}`)), 'Task.input', /could not be resolved on server .* \(reason hidden\)/);
});

test('a server no Endpoint names is not asked; one an Endpoint names that nobody answers is unreachable: 403, transactions roll back', async () => {
  const closedPort = await freePort();
  const silentBase = `https://localhost:${closedPort}/fhir`;
  const unknown = await a.client.post('/Task', taskWithInput(`${silentBase}/Binary/${randomUUID()}`));
  assert.equal(unknown.status, 201, unknown.body);

  // Now an Endpoint names that base URL: the reference is checked, and nothing listens there.
  const localOrgId = await organizationId(a.client, LOCAL);
  await a.client.create({
    resourceType: 'Endpoint',
    meta: TAG_ALL,
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: `silent-${closedPort}` }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: `Organization/${localOrgId}` },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: silentBase,
  });
  const before = await countStored(a, 'Task');
  assertRefused(await a.client.post('/Task', taskWithInput(`${silentBase}/Binary/${randomUUID()}`)), 'Task.input', /could not be resolved on server/);
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: refTask({ requester: LOCAL, recipient: LOCAL }), request: { method: 'POST', url: 'Task' } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: taskWithInput(`${silentBase}/Binary/${randomUUID()}`), request: { method: 'POST', url: 'Task' } },
    ],
  };
  assertRefused(await a.client.post('', bundle), 'Task.input', /Bundle.entry\[1\].*could not be resolved/);
  assert.equal(await countStored(a, 'Task'), before);
});

/** A Task whose input points at a Binary of the other site that is deleted there once the Task is in `status`. */
async function taskWithDeletedRemoteInput(status: 'requested' | 'in-progress'): Promise<any> {
  const x = await binaryAtB();
  let task = await a.client.create(taskWithInput(`${bBaseUrl}/Binary/${x.id}`));
  if (status === 'in-progress') {
    const started = await a.client.put(`/Task/${task.id}`, { ...task, status: 'in-progress', input: [...task.input, businessKey()] });
    assert.equal(started.status, 200, started.body);
    task = started.json;
  }
  assert.equal((await b.client.delete(`/Binary/${x.id}`)).status, 200);
  return task;
}

test('testUpdateTaskFromRequestedToInProgressWithNonExistingInputReferenceToExternalBinary: 403', async () => {
  const task = await taskWithDeletedRemoteInput('requested');
  assertRefused(await a.client.put(`/Task/${task.id}`, { ...task, status: 'in-progress', input: [...task.input, businessKey()] }), 'Task.input', /could not be resolved|not found/);
  assert.equal((await stored(a, task.id)).status, 'requested');
});

test('testUpdateTaskFromRequestedToFailedWithNonExistingInputReferenceToExternalBinary: a failed Task is not checked', async () => {
  const task = await taskWithDeletedRemoteInput('requested');
  const r = await a.client.put(`/Task/${task.id}`, { ...task, status: 'failed' });
  assert.equal(r.status, 200, r.body);
});

test('in progress: updated in progress it is refused; testUpdateTaskFromInProgressToCompletedWithNonExistingInputReferenceToExternalBinary is allowed', async () => {
  const task = await taskWithDeletedRemoteInput('in-progress');
  assertRefused(await a.client.put(`/Task/${task.id}`, { ...task, authoredOn: '2024-06-01T10:00:00Z' }), 'Task.input', /could not be resolved|not found/);
  const completed = await a.client.put(`/Task/${task.id}`, { ...task, status: 'completed' });
  assert.equal(completed.status, 200, completed.body);
});

test('the same through transaction bundles (...ViaBundle)', async () => {
  const put = (task: any) => ({ resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `${a.baseUrl}/Task/${task.id}`, resource: task, request: { method: 'PUT', url: `Task/${task.id}` } }] });
  const requested = await taskWithDeletedRemoteInput('requested');
  assertRefused(await a.client.post('', put({ ...requested, status: 'in-progress', input: [...requested.input, businessKey()] })), 'Task.input', /Bundle.entry\[0\].*(could not be resolved|not found)/);
  const failed = await a.client.post('', put({ ...requested, status: 'failed' }), { prefer: 'return=representation' });
  assert.equal(failed.status, 200, failed.body);
  assert.equal(failed.json.entry[0].response.status, '200 OK');
  const inProgress = await taskWithDeletedRemoteInput('in-progress');
  const completed = await a.client.post('', put({ ...inProgress, status: 'completed' }), { prefer: 'return=representation' });
  assert.equal(completed.status, 200, completed.body);
  assert.equal(completed.json.entry[0].resource.resourceType, 'Task');
});

test('the other site stopped: its references cannot be resolved', async () => {
  const x = await binaryAtB();
  const reference = `${bBaseUrl}/Binary/${x.id}`;
  assert.equal((await a.client.post('/Task', taskWithInput(reference))).status, 201);
  await b.stop();
  b = undefined as never;
  assertRefused(await a.client.post('/Task', taskWithInput(reference)), 'Task.input', /could not be resolved on server/);
});
