// The reference's SubscriptionIntegrationTest, ported: which Subscriptions may be created (websocket,
// FHIR JSON/XML or no payload, a supported search as criteria, unique criteria + type + payload) and
// what an update may not change (criteria, channel type, payload).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectForbidden, expectStatus, startParitySite, tagLocal, type ParitySite } from './parity-site.ts';

let p: ParitySite;

function subscription(criteria: string | undefined, payload: string | null = 'application/fhir+json'): any {
  return {
    resourceType: 'Subscription',
    meta: { tag: [tagLocal()] },
    status: 'active',
    ...(criteria !== undefined ? { criteria } : {}),
    reason: 'Integration-Test',
    channel: { type: 'websocket', ...(payload ? { payload } : {}) },
  };
}

async function created(s: object): Promise<any> {
  const r = await p.local.post('/Subscription', s);
  expectStatus(r, 201);
  assert.equal(r.json.meta.versionId, '1');
  return r.json;
}

describe('SubscriptionIntegrationTest', () => {
  let builtIn: string[];
  before(async () => {
    p = await startParitySite();
    const all = await p.local.get('/Subscription');
    builtIn = all.json.entry.map((e: any) => e.resource.id);
  });
  after(() => p?.stop());
  // Each reference test starts with only the two built-in Subscriptions.
  afterEach(async () => {
    const all = await p.local.get('/Subscription?_count=100');
    await p.removeDirectly((all.json.entry ?? []).map((e: any) => e.resource.id).filter((id: string) => !builtIn.includes(id)));
  });

  it('testCreateOkJson', () => created(subscription('Task?status=completed')));
  it('testCreateOkXml', () => created(subscription('Task?status=completed', 'application/fhir+xml')));
  it('testCreateOkNoPayload', () => created(subscription('Task?status=completed', null)));

  it('testCreateOkNoPayloadAllreadyExistsWithPayload', async () => {
    await p.storeDirectly(subscription('Task?status=completed'));
    await created(subscription('Task?status=completed', null));
  });

  it('testCreateNotOkNoPayloadAllreadyExistsWithoutPayload', async () => {
    await p.storeDirectly(subscription('Task?status=completed', null));
    expectForbidden(await p.local.post('/Subscription', subscription('Task?status=completed', null)), /already exists/);
  });

  it('testCreateInvalid', async () => {
    const noStatus = subscription('Task?status=completed');
    delete noStatus.status;
    // Differs: a Subscription without status fails validation here (422); the reference answers invalid resources with 403.
    expectStatus(await p.local.post('/Subscription', noStatus), 422, /Subscription\.status/);
    const noChannel = subscription('Task?status=completed');
    delete noChannel.channel;
    expectForbidden(await p.local.post('/Subscription', noChannel), /channel not defined/);
    const noChannelType = subscription('Task?status=completed');
    delete noChannelType.channel.type;
    expectForbidden(await p.local.post('/Subscription', noChannelType), /channel.type not websocket/);
    const email = subscription('Task?status=completed');
    email.channel.type = 'email';
    expectForbidden(await p.local.post('/Subscription', email), /channel.type not websocket/);
    expectForbidden(await p.local.post('/Subscription', subscription('Task?status=completed', 'application/pdf')), /payload/);
    expectForbidden(await p.local.post('/Subscription', subscription(undefined)), /criteria not defined/);
    const noTag = subscription('Task?status=completed');
    delete noTag.meta;
    expectForbidden(await p.local.post('/Subscription', noTag), /read-access tag/);
  });

  it('testCreateExisting', async () => {
    expectForbidden(await p.local.post('/Subscription', subscription('Task?status=requested')), /already exists/);
    expectForbidden(await p.local.post('/Subscription', subscription('QuestionnaireResponse?status=completed')), /already exists/);
  });

  it('testCreateUnsupportedSearchParameterInCriteria', async () => {
    expectForbidden(await p.local.post('/Subscription', subscription('Task?status=requested&unsupported=true')), /criteria invalid/);
  });

  it('testCreateUnsupportedResourcerInCriteria', async () => {
    expectForbidden(await p.local.post('/Subscription', subscription('CareTeam?status=active')), /criteria invalid/);
  });

  it('testCreateUnsupportedResourcerInCriteriaPath', async () => {
    expectForbidden(await p.local.post('/Subscription', subscription('fhir/Task?status=completed')), /criteria invalid/);
  });

  it('testUpdateOk', async () => {
    const s = await p.storeDirectly(subscription('Task?status=completed'));
    const r = await p.local.put(`/Subscription/${s.id}`, { ...s, reason: 'Update Test' });
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
  });

  it('testUpdateNotAllowed', async () => {
    const s = await p.storeDirectly(subscription('Task?status=completed'));
    expectForbidden(await p.local.put(`/Subscription/${s.id}`, { ...s, criteria: 'Task?status=failed' }), /criteria may not change/);
    expectForbidden(await p.local.put(`/Subscription/${s.id}`, { ...s, channel: { type: 'websocket', payload: 'application/fhir+xml' } }), /payload may not change/);
    expectForbidden(await p.local.put(`/Subscription/${s.id}`, { ...s, channel: { type: 'websocket' } }), /payload may not change/);
  });
});
