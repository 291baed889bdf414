// Subscription resources are checked on create and update: websocket channel, FHIR JSON/XML or no
// payload, supported search criteria, unchanged criteria/channel on update. Refusals are 403 or 422
// with an OperationOutcome, and nothing is stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const subscription = (criteria: string, channel: Record<string, unknown> = { type: 'websocket', payload: 'application/fhir+json' }, extra: Record<string, unknown> = {}): any => ({
  resourceType: 'Subscription',
  meta: TAG_ALL,
  status: 'active',
  reason: 'test',
  criteria,
  channel,
  ...extra,
});

async function subscriptionCount(): Promise<number> {
  return (await site.client.get('/Subscription?_summary=count')).json.total;
}

test('valid Subscriptions are stored: JSON, XML and no payload; criteria with modifiers and several parameters', async () => {
  for (const s of [
    subscription('Task?status=requested&identifier=http://rules.test|x'),
    subscription('Organization?identifier:not=http://rules.test|', { type: 'websocket', payload: 'application/fhir+xml' }),
    subscription('QuestionnaireResponse?status=completed,amended&_lastUpdated=gt2020-01-01', { type: 'websocket' }),
    subscription('Endpoint'),
  ]) {
    const r = await site.client.post('/Subscription', s);
    assert.equal(r.status, 201, `${s.criteria}: ${r.body}`);
  }
});

test('wrong channel type, payload or unsupported criteria are refused with an OperationOutcome and nothing is stored', async () => {
  const before = await subscriptionCount();
  const cases: [any, number[], RegExp][] = [
    [subscription('Task?status=requested', { type: 'rest-hook', endpoint: 'https://x.test', payload: 'application/fhir+json' }), [403, 422], /websocket/],
    [subscription('Task?status=requested', { type: 'websocket', payload: 'text/plain' }), [403, 422], /payload/],
    [subscription('Task?unknown-param=1'), [403], /Subscription\.criteria invalid.*unknown-param/],
    [subscription('Observation?status=final'), [403], /resource 'Observation' not supported/],
    [subscription('Task/abc?status=requested'), [403], /criteria invalid/],
    [subscription('Task?authored-on=notadate'), [403], /criteria invalid/],
    [subscription('Task?status:below=x'), [403], /Modifier/],
  ];
  for (const [s, statuses, message] of cases) {
    const r = await site.client.post('/Subscription', s);
    assert.ok(statuses.includes(r.status), `${s.criteria} ${JSON.stringify(s.channel)}: got ${r.status} ${r.body}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(JSON.stringify(r.json.issue), message);
  }
  assert.equal(await subscriptionCount(), before);
});

test('a Subscription without criteria is refused', async () => {
  const { criteria: _c, ...noCriteria } = subscription('Task?status=requested&identifier=http://rules.test|none');
  const r = await site.client.post('/Subscription', noCriteria);
  assert.ok([403, 422].includes(r.status), r.body);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  if (r.status === 403) assert.match(JSON.stringify(r.json.issue), /Subscription.criteria not defined/);
});

test('update: status may change; criteria, channel type and payload may not', async () => {
  const created = await site.client.create(subscription('Task?status=requested&identifier=http://rules.test|upd'));
  const off = await site.client.put(`/Subscription/${created.id}`, { ...created, status: 'off' });
  assert.equal(off.status, 200, off.body);
  const changed = await site.client.put(`/Subscription/${created.id}`, { ...off.json, criteria: 'Task?status=completed' });
  assert.equal(changed.status, 403);
  assert.match(JSON.stringify(changed.json.issue), /criteria may not change/);
  const payload = await site.client.put(`/Subscription/${created.id}`, { ...off.json, channel: { type: 'websocket', payload: 'application/fhir+xml' } });
  assert.equal(payload.status, 403);
  assert.match(JSON.stringify(payload.json.issue), /Subscription.channel.payload may not change/);
  const read = await site.client.get(`/Subscription/${created.id}`);
  assert.equal(read.json.criteria, 'Task?status=requested&identifier=http://rules.test|upd');
  assert.equal(read.json.meta.versionId, '2');
});

test('the same criteria, type and payload twice is refused by the uniqueness rule', async () => {
  const s = subscription('Task?status=requested&identifier=http://rules.test|dup');
  assert.equal((await site.client.post('/Subscription', s)).status, 201);
  const again = await site.client.post('/Subscription', s);
  assert.equal(again.status, 403);
  assert.equal(again.json.resourceType, 'OperationOutcome');
  assert.match(again.json.issue[0].diagnostics, /^A Subscription with the same subscription .* already exists/);
});
