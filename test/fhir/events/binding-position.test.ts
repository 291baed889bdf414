// A websocket binding receives exactly the changes that became visible after it was bound, however far
// the server's change stream is behind: a client that binds and then catches up by search (the BPE's
// way, catch-up.test.ts) never gets, as an event, a version its search could already return — so never
// an older version after a newer one — and gets every change its search could not see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { EventClient, wsUrl } from './event-client.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const SYSTEM = 'http://binding.test/pid';
const patient = (value: string): any => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: SYSTEM, value }], active: true });
const versions = (c: EventClient) => c.resources().map((r) => `${r.identifier[0].value}/${r.meta.versionId}`);

async function bound(id: string): Promise<EventClient> {
  const c = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  await c.bind(id);
  return c;
}

test('changes committed before a bind, still unread by the lagging stream, go to earlier bindings only; later ones to all', async () => {
  const sub = await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'active', reason: 'test', criteria: `Patient?identifier=${SYSTEM}|`, channel: { type: 'websocket', payload: 'application/fhir+json' } });
  const early = await bound(sub.id);
  const { listener } = site.server.events;

  // The stream falls behind: these commit while it reads nothing.
  await listener.stop();
  const a = await site.client.create(patient('a'));
  await site.client.create(patient('b'));
  await site.client.put(`/Patient/${a.id}`, { ...a, active: false });
  const late = await bound(sub.id);
  // A transaction open at the late bind, committing after it: its change is new to the late binding.
  let release!: () => void;
  let opened!: () => void;
  const isOpen = new Promise<void>((r) => (opened = r));
  const gate = new Promise<void>((r) => (release = r));
  const store = site.server.store;
  const open = store.transaction(async (c) => {
    await store.create(c, patient('open-at-bind') as Resource);
    await c.query('SELECT 1'); // the row exists, uncommitted
    opened();
    await gate;
  });
  await isOpen;
  const latest = await bound(sub.id);
  release();
  await open;
  await listener.start(); // catches up from where it stopped
  await site.client.create(patient('c'));

  for (const c of [early, late, latest]) await c.until(() => versions(c).includes('c/1'), 'the event after the stream caught up');
  assert.deepEqual(versions(early), ['a/1', 'b/1', 'a/2', 'open-at-bind/1', 'c/1']);
  assert.deepEqual(versions(late), ['open-at-bind/1', 'c/1']);
  // Bound while that transaction was open, so its commit came after the bind.
  assert.deepEqual(versions(latest), ['open-at-bind/1', 'c/1']);
  for (const c of [early, late, latest]) await c.close();
});
