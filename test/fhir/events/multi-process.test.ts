// Two FHIR server processes on one database (this test process and a child): a change committed
// through either reaches the websocket clients of both, in the same order. When a process loses the
// connection it follows the change stream on, it reconnects and goes on from its position: its clients
// miss nothing and need not reconnect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startTestSite, TAG_ALL, FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { startChild, type Child } from '../../../bench/lib/child.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { EventClient, wsUrl } from './event-client.ts';
import { EVENT_CONNECTION_NAME } from '../../../src/fhir/events/event-listener.ts';

let site: TestSite;
let child: Child;
let childPort: number;
let childClient: FhirTestClient;
let childHttp: HttpsClient;

before(async () => {
  site = await startTestSite();
  const org = site.certs.organizations.Test_Organization!;
  childPort = await freePort();
  // Same external base URL and organisation as the first process: two instances of one site.
  child = await startChild(
    ['src/cli/main.ts', 'fhir'],
    {
      DEV_DSF_FHIR_SERVER_BASE_URL: site.baseUrl,
      DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: site.server.config.organizationIdentifier,
      DEV_DSF_SERVER_API_PORT: String(childPort),
      DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
      DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
      DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: site.certs.ca.certPath,
      DEV_DSF_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
      DEV_DSF_FHIR_DB_URL: site.db.url,
    },
    /listening on https/,
  );
  childHttp = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(site.certs.ca.certPath, 'utf8') });
  childClient = new FhirTestClient(childHttp, `https://localhost:${childPort}/fhir`);
});
after(async () => {
  childHttp?.close();
  await child?.stop();
  await site?.stop();
});

const childWsUrl = () => `wss://localhost:${childPort}/fhir/ws`;
const patient = (value: string): any => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://multi.test/pid', value }], active: true });

async function subscriptionId(): Promise<string> {
  const existing = await site.client.get('/Subscription?criteria:exact=' + encodeURIComponent('Patient?identifier=http://multi.test/pid|'));
  if (existing.json.total) return existing.json.entry[0].resource.id;
  return (await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'active', reason: 'test', criteria: 'Patient?identifier=http://multi.test/pid|', channel: { type: 'websocket', payload: 'application/fhir+json' } })).id;
}

test('a change committed through either process reaches the websocket clients of both, in the same order', async () => {
  const id = await subscriptionId();
  const onFirst = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  const onChild = await EventClient.connect(childWsUrl(), site.certs, 'Test_Organization');
  await onFirst.bind(id);
  await onChild.bind(id); // created through the other process a moment ago
  const written: string[] = [];
  for (let i = 0; i < 10; i++) {
    const via = i % 2 === 0 ? site.client : childClient;
    written.push((await via.create(patient(`p${i}`))).id);
  }
  for (const c of [onFirst, onChild]) await c.until(() => c.resources().length >= written.length, 'all ten events');
  assert.deepEqual(onFirst.resources().map((r) => r.id), written);
  assert.deepEqual(onChild.resources().map((r) => r.id), written);
  await onFirst.close();
  await onChild.close();
});

test('a lost change-stream connection is re-established; bound clients stay connected and get everything committed meanwhile, once', async () => {
  const id = await subscriptionId();
  const onFirst = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  const onChild = await EventClient.connect(childWsUrl(), site.certs, 'Test_Organization');
  await onFirst.bind(id);
  await onChild.bind(id);
  const admin = new pg.Client({ connectionString: site.db.url });
  await admin.connect();
  const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [EVENT_CONNECTION_NAME]);
  await admin.end();
  assert.equal(killed.rowCount, 2, 'both processes follow the stream');
  // Written at once, through both processes, while their readers reconnect.
  const written: string[] = [];
  for (let i = 0; i < 6; i++) written.push((await (i % 2 === 0 ? site.client : childClient).create(patient(`during-reconnect-${i}`))).id);
  for (const c of [onFirst, onChild]) {
    await c.until(() => written.every((w) => c.resources().some((r) => r.id === w)), 'the events written while reconnecting');
    assert.deepEqual(
      c.resources().map((r) => r.id).filter((r) => written.includes(r)),
      written,
      'each once, in order',
    );
    assert.equal(c.socket.readyState, c.socket.OPEN, 'not closed');
  }
  await onFirst.close();
  await onChild.close();
});
