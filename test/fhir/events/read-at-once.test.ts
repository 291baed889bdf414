// When a process reads the change stream after its own commits (events/event-delivery.ts): at once for
// a Subscription (the registry must know it before a client binds) and for types a bound session may
// receive; other writes wait for the next read or the poll, and are then delivered, in order, once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { startEventDelivery, type EventDelivery } from '../../../src/fhir/events/event-delivery.ts';
import type { CommittedChange } from '../../../src/fhir/store/change-stream.ts';

let db: TestDatabase;
let store: ResourceStore;
let delivery: EventDelivery;
const seen: CommittedChange[] = [];

before(async () => {
  db = await createTestDatabase('dsf_read_at_once');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  store = new ResourceStore(db.pool, 'https://localhost/fhir');
  // No safety-net poll during the test: a change is read only when a commit asks for it (or settled()).
  delivery = await startEventDelivery(db.pool, 'https://localhost/fhir', { pollIntervalMs: 600_000, observers: [{ observe: (c) => void seen.push(c), observeGap: () => {} }] });
  store.onCommittedWrites((types) => delivery.committed(types));
});
after(async () => {
  await delivery?.stop();
  await db?.drop();
});

const create = async (resource: Resource) => (await store.transaction((c) => store.create(c, resource))).id;
const patient = { resourceType: 'Patient', active: true } as Resource;
const subscription = {
  resourceType: 'Subscription',
  status: 'active',
  reason: 'test',
  criteria: 'Task?status=requested',
  channel: { type: 'websocket', payload: 'application/fhir+json' },
} as Resource;

async function eventually(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test('a write nobody here waits for is not read at once; a Subscription is, and brings the earlier write along, in order', async () => {
  const first = await create(patient);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(seen.map((c) => c.id), [], 'no session is bound: the Patient waits for the next read');

  const sub = await create(subscription);
  await eventually('the Subscription', () => seen.some((c) => c.id === sub));
  assert.deepEqual(seen.map((c) => c.id), [first, sub], 'read at once, with the write before it, in commit order');

  // A write that waits is delivered by the next look (here settled(); in a server also the poll), once.
  const later = await create(patient);
  await delivery.listener.settled();
  assert.deepEqual(seen.map((c) => c.id), [first, sub, later]);
});
