// Server-assigned ids are UUIDs whose first 48 bits are the creation time in milliseconds (RFC 9562
// version 7): a new id sorts after the ids made in earlier milliseconds, so the indexes keyed by id
// (the version table's primary key, its index of current ids, the search index's rows by resource)
// take each create's entries at their right edge instead of at a random page. Pinned here: the format
// (a UUID the store accepts as its own, version 7, RFC variant), the time prefix, the order across
// milliseconds, and enough randomness that ids made in the same millisecond differ.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { newResourceId } from '../../../src/fhir/store/resource-ids.ts';
import { isServerId, ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { nextMillisecond } from '../../support/clock.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_resource_ids');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
});
after(() => db?.drop());

test('a new id is a version 7 UUID of the RFC variant that the store takes as its own', () => {
  for (let i = 0; i < 1000; i++) {
    const id = newResourceId();
    assert.ok(isServerId(id), id);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

test('its first 48 bits are the time it was made, in milliseconds', () => {
  const before = Date.now();
  const id = newResourceId();
  const after = Date.now();
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  assert.ok(ms >= before && ms <= after, `${ms} not within [${before}, ${after}]`);
});

test('ids made in a later millisecond sort after earlier ones, as text and as PostgreSQL compares uuids', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(newResourceId());
    nextMillisecond();
  }
  // uuid comparison in PostgreSQL is bytewise, which for lower-case hex text is the text order.
  assert.deepEqual([...ids].sort(), ids);
});

test('ids made in the same millisecond differ', () => {
  const ids = new Set(Array.from({ length: 10000 }, () => newResourceId()));
  assert.equal(ids.size, 10000);
});

test('the store gives creates such ids; those created later come later in the primary key', async () => {
  const store = new ResourceStore(db.pool, 'https://localhost/fhir');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const created = await store.transaction((c) => store.create(c, { resourceType: 'Patient', active: true } as Resource));
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.push(created.id);
    nextMillisecond();
  }
  const rows = (await db.pool.query('SELECT id::text FROM resources WHERE id = ANY($1::uuid[]) ORDER BY id', [ids])).rows;
  assert.deepEqual(
    rows.map((r) => r.id),
    ids,
  );
});
