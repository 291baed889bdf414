// Event delivery with the server's real identities (client certificates resolved by the identity
// provider, the role configuration, the read-access filter): the built-in Task subscription delivers
// each requested Task only to those who may read it, and a remote organisation (no WEBSOCKET role)
// is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, testCertificates, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { ORG_ID } from '../auth/auth-support.ts';
import { activityDefinition, coding, task, taskProfile } from '../auth/process-fixtures.ts';
import { EventClient } from './event-client.ts';

let site: TestSite;
let wsUrl: string;
const LOCAL = testOrganizationIdentifier('Test_Organization');
const EXTERNAL = testOrganizationIdentifier('External_Test_Organization');

before(async () => {
  const certs = await testCertificates();
  site = await startTestSite({
    remoteOrganizations: true,
    roleConfig: `
- users:
    thumbprint: ${certs.users['practitioner']!.thumbprint}
    dsf-role: [READ, SEARCH, { CREATE: [Task] }, { WEBSOCKET: [Task] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
`,
  });
  wsUrl = `${site.baseUrl.replace('https://', 'wss://')}/ws`;
  await site.client.create(taskProfile());
  await site.client.create(activityDefinition('events', [coding.organization(false, EXTERNAL), coding.localAllPractitioner('DIC_USER')], [coding.localAll()]));
});
after(() => site?.stop());

async function builtInTaskSubscription(): Promise<string> {
  const all = (await site.client.get('/Subscription?status=active')).json.entry.map((e: any) => e.resource);
  return all.find((s: any) => s.criteria === 'Task?status=requested').id;
}

test('a remote organisation has no WEBSOCKET role: closed with 1008 Forbidden', async () => {
  const c = await EventClient.connect(wsUrl, site.certs, 'External_Test_Organization');
  assert.deepEqual(await c.waitClosed(), { code: 1008, reason: 'Forbidden' });
});

test('the built-in Task subscription: the local organisation gets every Task sent to it, a local user only its own', async () => {
  const subscription = await builtInTaskSubscription();
  const local = await EventClient.connect(wsUrl, site.certs, 'Test_Organization');
  const user = await EventClient.connect(wsUrl, site.certs, 'practitioner');
  await local.bind(subscription);
  await user.bind(subscription);

  const fromRemote = await site.clientFor('External_Test_Organization').post('/Task', task({ process: 'events', requester: { system: ORG_ID, value: EXTERNAL }, recipient: LOCAL }));
  assert.equal(fromRemote.status, 201, fromRemote.body);
  const fromUser = await site.clientFor('practitioner').post('/Task', task({ process: 'events', requester: { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'practitioner@test.org' }, recipient: LOCAL }));
  assert.equal(fromUser.status, 201, fromUser.body);

  await local.until(() => local.resources().length === 2, 'both Tasks at the local organisation');
  await user.until(() => user.resources().length === 1, "the user's own Task");
  assert.deepEqual(local.resources().map((r) => r.id), [fromRemote.json.id, fromUser.json.id]);
  assert.deepEqual(user.resources().map((r) => r.id), [fromUser.json.id]);
  // The user's view equals its search: the remote organisation's Task is not readable to it.
  const hidden = await site.clientFor('practitioner').get(`/Task/${fromRemote.json.id}`);
  assert.equal(hidden.status, 403);
  assert.match(hidden.json.issue[0].diagnostics, /^Not allowed to read Task\//);
  await local.close();
  await user.close();
});
