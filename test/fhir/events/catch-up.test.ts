// A client that was disconnected catches up as the BPE does: bind first (events from then on are
// buffered), then page through the criteria with _lastUpdated=gt<last seen>&_sort=_lastUpdated. Nothing
// written while it was away is lost, and every resource it gets twice carries the same id and
// versionId, so it can recognise the duplicate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { EventClient, wsUrl } from './event-client.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const SYSTEM = 'http://catch-up.test/pid';
const CRITERIA = `Patient?identifier=${SYSTEM}|`;
const patient = (value: string, system = SYSTEM): any => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system, value }], active: true });

/** What the client knows: the newest version of each resource it has seen, and duplicates seen. */
class ClientState {
  readonly versions = new Map<string, number>();
  lastUpdated = '';
  duplicates = 0;
  unrecognisable: string[] = [];
  private seen = new Set<string>();

  accept(r: any): void {
    const key = `${r.id}/${r.meta.versionId}`;
    if (this.seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.seen.add(key);
    const v = Number(r.meta.versionId);
    if ((this.versions.get(r.id) ?? 0) >= v) this.unrecognisable.push(key); // an older version after a newer one
    else this.versions.set(r.id, v);
    if (r.meta.lastUpdated > this.lastUpdated) this.lastUpdated = r.meta.lastUpdated;
  }
}

async function catchUp(state: ClientState, since: string): Promise<number> {
  let pages = 0;
  for (let page = 1; page <= 100; page++) {
    const q = new URLSearchParams({ identifier: `${SYSTEM}|`, _lastUpdated: `gt${since}`, _sort: '_lastUpdated', _count: '3', _page: String(page) });
    const r = await site.client.get(`/Patient?${q}`);
    assert.equal(r.status, 200, r.body);
    const entries = (r.json.entry ?? []).filter((e: any) => e.search?.mode !== 'include');
    for (const e of entries) state.accept(e.resource);
    pages++;
    if (entries.length < 3) break;
  }
  return pages;
}

test('disconnect, writes, reconnect and catch-up: nothing lost, every duplicate recognisable', async () => {
  const sub = await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'active', reason: 'test', criteria: CRITERIA, channel: { type: 'websocket', payload: 'application/fhir+json' } });
  const state = new ClientState();

  // Connected: two resources arrive as events.
  const first = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  await first.bind(sub.id);
  const a = await site.client.create(patient('a'));
  const b = await site.client.create(patient('b'));
  await first.until(() => first.resources().length === 2, 'two events');
  for (const r of first.resources()) state.accept(r);
  await first.close();
  const disconnectedAt = state.lastUpdated;

  // Away: creates, updates of known resources, non-matching writes, a resource updated twice.
  const away: any[] = [];
  for (let i = 0; i < 7; i++) away.push(await site.client.create(patient(`away-${i}`)));
  const a2 = (await site.client.put(`/Patient/${a.id}`, { ...a, active: false })).json;
  await site.client.create(patient('other', 'http://catch-up.test/other'));
  const twice = away[3];
  await site.client.put(`/Patient/${twice.id}`, { ...twice, active: false });
  const twice3 = (await site.client.put(`/Patient/${twice.id}`, { ...twice, active: true, gender: 'female' })).json;

  // Back: bind first, then catch up while more is written.
  const second = await EventClient.connect(wsUrl(site.baseUrl), site.certs, 'Test_Organization');
  await second.bind(sub.id);
  const during = site.client.create(patient('during-catch-up'));
  const pages = await catchUp(state, disconnectedAt);
  const duringCreated = await during;
  await second.until(() => second.resources().some((r) => r.id === duringCreated.id), 'the event written during catch-up');
  for (const r of second.resources()) state.accept(r);
  await second.close();

  assert.ok(pages >= 3, 'the catch-up needed several pages');
  // Nothing lost: every resource written while away, in its newest version.
  for (const r of away) assert.ok(state.versions.has(r.id), `missed ${r.identifier[0].value}`);
  assert.equal(state.versions.get(a.id), Number(a2.meta.versionId));
  assert.equal(state.versions.get(twice.id), Number(twice3.meta.versionId));
  assert.equal(state.versions.get(b.id), 1);
  assert.ok(state.versions.has(duringCreated.id));
  // The client's view equals the server's current set.
  const all = await site.client.get(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}|`)}&_count=100`);
  const current = new Map<string, number>(all.json.entry.map((e: any) => [e.resource.id, Number(e.resource.meta.versionId)]));
  assert.deepEqual(new Map([...state.versions].sort()), new Map([...current].sort()));
  // Duplicates (a resource both caught up and received as an event) carry the same id and version.
  assert.deepEqual(state.unrecognisable, []);
});
