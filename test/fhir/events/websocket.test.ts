// The /ws endpoint over real TLS: bind/bound, events as JSON, XML or `ping <id>`, unknown
// subscriptions, ordering and once-per-change delivery, rolled-back transactions, ping frames and
// dropping peers that stop answering them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { EventClient, wsUrl } from './event-client.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite({ config: { websocketPingIntervalMs: 200 } });
});
after(() => site?.stop());

const patient = (system: string, value: string, extra: Record<string, unknown> = {}): any => ({
  resourceType: 'Patient',
  meta: TAG_ALL,
  identifier: [{ system, value }],
  active: true,
  ...extra,
});

async function subscription(criteria: string, payload?: string): Promise<string> {
  const created = await site.client.create({ resourceType: 'Subscription', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, status: 'active', reason: 'test', criteria, channel: { type: 'websocket', ...(payload ? { payload } : {}) } });
  return created.id;
}

const connect = (opts?: { autoPong?: boolean }) => EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization', opts);

test('the built-in Task and QuestionnaireResponse subscriptions are active and can be bound', async () => {
  const r = await site.client.get('/Subscription?status=active&type=websocket');
  const criteria = r.json.entry.map((e: any) => e.resource.criteria).sort();
  assert.deepEqual(criteria, ['QuestionnaireResponse?status=completed', 'Task?status=requested']);
  const task = r.json.entry.find((e: any) => e.resource.criteria === 'Task?status=requested').resource;
  const c = await connect();
  await c.bind(task.id);
  await c.close();
});

test('bind answers bound; matching creates and updates arrive as JSON, in order, once each; others do not', async () => {
  const id = await subscription('Patient?identifier=http://events.test/json|', 'application/fhir+json');
  const c = await connect();
  await c.bind(id);
  const a = await site.client.create(patient('http://events.test/json', 'a'));
  await site.client.create(patient('http://events.test/other', 'not-matching'));
  const b = await site.client.create(patient('http://events.test/json', 'b'));
  const a2 = (await site.client.put(`/Patient/${a.id}`, { ...a, active: false })).json;
  await site.client.delete(`/Patient/${b.id}`); // deletes are not announced
  const sentinel = await site.client.create(patient('http://events.test/json', 'sentinel'));
  await c.until(() => c.resources().some((r) => r.id === sentinel.id), 'the sentinel');
  const got = c.resources().map((r) => `${r.id}/${r.meta.versionId}`);
  assert.deepEqual(got, [`${a.id}/1`, `${b.id}/1`, `${a.id}/${a2.meta.versionId}`, `${sentinel.id}/1`]);
  assert.equal(c.resources()[2].active, false, 'the event carries the updated version');
  await c.close();
});

test('an event carries the version that matched even when a later update stops it matching', async () => {
  const id = await subscription('Patient?active=true&identifier=http://events.test/version|', 'application/fhir+json');
  const c = await connect();
  await c.bind(id);
  const p = await site.client.create(patient('http://events.test/version', 'v'));
  await site.client.put(`/Patient/${p.id}`, { ...p, active: false }); // no longer matches: not sent
  const sentinel = await site.client.create(patient('http://events.test/version', 'sentinel'));
  await c.until(() => c.resources().some((r) => r.id === sentinel.id), 'the sentinel');
  assert.deepEqual(c.resources().map((r) => [r.id, r.meta.versionId, r.active]), [[p.id, '1', true], [sentinel.id, '1', true]]);
  await c.close();
});

test('payload application/fhir+xml sends XML, no payload sends `ping <id>`', async () => {
  const xmlId = await subscription('Patient?identifier=http://events.test/xml|', 'application/fhir+xml');
  const pingId = await subscription('Patient?identifier=http://events.test/xml|');
  const xml = await connect();
  await xml.bind(xmlId);
  const ping = await connect();
  await ping.bind(pingId);
  const p = await site.client.create(patient('http://events.test/xml', 'x'));
  const x = await xml.message(1);
  assert.match(x, /^<Patient xmlns="http:\/\/hl7.org\/fhir">/);
  assert.ok(x.includes(`<id value="${p.id}"/>`));
  assert.equal(await ping.message(1), `ping ${pingId}`);
  await xml.close();
  await ping.close();
});

test('one socket may bind several subscriptions; each matching one sends its own event', async () => {
  const s1 = await subscription('Patient?identifier=http://events.test/multi|', 'application/fhir+json');
  const s2 = await subscription('Patient?identifier=http://events.test/multi|m1');
  const c = await connect();
  await c.bind(s1);
  await c.bind(s2);
  await site.client.create(patient('http://events.test/multi', 'm1'));
  await c.until(() => c.messages.length >= 4, 'two events');
  assert.deepEqual(c.messages.slice(2).map((m) => (m.startsWith('{') ? 'json' : m)).sort(), ['json', `ping ${s2}`].sort());
  await c.close();
});

test('an unknown or inactive subscription id is refused with close code 1003', async () => {
  const c = await connect();
  c.socket.send('bind 00000000-0000-4000-8000-000000000000');
  const closed = await c.waitClosed();
  assert.equal(closed.code, 1003);
  assert.match(closed.reason, /00000000-0000-4000-8000-000000000000 not found/);

  const off = await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'off', reason: 'test', criteria: 'Patient?identifier=http://events.test/off|', channel: { type: 'websocket' } });
  const d = await connect();
  d.socket.send(`bind ${off.id}`);
  assert.equal((await d.waitClosed()).code, 1003);
});

test('a Subscription deactivated while bound stops sending; other messages are ignored', async () => {
  const created = await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'active', reason: 'test', criteria: 'Patient?identifier=http://events.test/deact|', channel: { type: 'websocket', payload: 'application/fhir+json' } });
  const keep = await subscription('Patient?identifier=http://events.test/deact|keep', 'application/fhir+json');
  const c = await connect();
  c.socket.send('hello'); // ignored, as by the reference
  await c.bind(created.id);
  await c.bind(keep);
  await site.client.put(`/Subscription/${created.id}`, { ...created, status: 'off' });
  await site.client.create(patient('http://events.test/deact', 'after-off'));
  const k = await site.client.create(patient('http://events.test/deact', 'keep'));
  await c.until(() => c.resources().some((r) => r.id === k.id), 'the event of the other subscription');
  assert.deepEqual(c.resources().map((r) => r.id), [k.id]);
  await c.close();
});

test('a rolled-back transaction sends nothing; a committed one sends every entry in order', async () => {
  const id = await subscription('Patient?identifier=http://events.test/tx|', 'application/fhir+json');
  const c = await connect();
  await c.bind(id);
  const entry = (v: string) => ({ resource: patient('http://events.test/tx', v), request: { method: 'POST', url: 'Patient' } });
  const failing = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry('rolled-back-1'), { resource: { resourceType: 'Patient', meta: TAG_ALL, active: 'not a boolean' }, request: { method: 'POST', url: 'Patient' } }] });
  assert.ok(failing.status >= 400, `transaction should fail, got ${failing.status}`);
  const ok = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry('t1'), entry('t2'), entry('t3')] });
  assert.equal(ok.status, 200);
  await c.until(() => c.resources().length >= 3, 'three events');
  const sentinel = await site.client.create(patient('http://events.test/tx', 'sentinel'));
  await c.until(() => c.resources().some((r) => r.id === sentinel.id), 'the sentinel');
  assert.deepEqual(c.resources().map((r) => r.identifier[0].value), ['t1', 't2', 't3', 'sentinel']);
  await c.close();
});

test('ping frames carry 32 random bytes; a peer that stops answering is dropped', async () => {
  const alive = await connect();
  await alive.until(() => alive.pings.length >= 3, 'three pings');
  assert.ok(alive.pings.every((p) => p.length === 32));
  assert.notDeepEqual(alive.pings[0], alive.pings[1]);
  const dead = await connect({ autoPong: false });
  const closed = await dead.waitClosed();
  assert.equal(closed.code, 1006, 'terminated without a close frame');
  assert.equal(alive.socket.readyState, alive.socket.OPEN, 'the answering peer stays connected');
  await alive.close();
});

test('a plain GET on /ws (no upgrade) is not a websocket', async () => {
  const r = await site.client.get('/ws');
  assert.equal(r.status, 404);
});
