// A read's lastUpdated comes as text made by PostgreSQL (LAST_UPDATED_ISO), not parsed by the driver
// into a Date and formatted back: the same text as before for every fraction and session time zone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';

const BASE = 'https://localhost/fhir';
let db: TestDatabase;
let zoned: pg.Pool;
before(async () => {
  db = await createTestDatabase('dsf_last_updated_text');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  // A session time zone far from UTC, with a part-hour offset.
  zoned = new pg.Pool({ connectionString: db.url, max: 2, options: '-c TimeZone=Asia/Kathmandu' });
});
after(async () => {
  await zoned?.end();
  await db?.drop();
});

test('read, vread and the read as stored give lastUpdated as Date.toISOString() gives it, for any stored fraction', async () => {
  const store = new ResourceStore(zoned, BASE);
  const created = await store.transaction((c) => store.create(c, { resourceType: 'Patient', active: true } as Resource));
  const stamps = ['2026-12-06 15:14:36+00', '2026-12-06 15:14:36.1+00', '2026-12-06 15:14:36.12+00', '2026-12-06 15:14:36.123+00', '2026-12-06 15:14:36.123456+00', '2026-12-06 15:14:36.999999+00', '2026-12-31 23:59:59.9999+00', '2026-06-30 23:30:00.5+05:45', '0999-01-01 00:00:00.007+00', '2026-12-06 15:14:36.000001+00'];
  for (const stamp of stamps) {
    await db.pool.query('UPDATE resources SET last_updated = $2 WHERE id = $1', [created.id, stamp]);
    const expected = ((await db.pool.query('SELECT last_updated FROM resources WHERE id = $1', [created.id])).rows[0].last_updated as Date).toISOString();
    assert.equal((await store.readText(zoned, 'Patient', created.id, undefined)).lastUpdated, expected, stamp);
    assert.equal((await store.readText(zoned, 'Patient', created.id, 1)).lastUpdated, expected, stamp);
    assert.equal((await store.read(zoned, 'Patient', created.id)).lastUpdated, expected, stamp);
    assert.equal((await store.vread(zoned, 'Patient', created.id, 1)).lastUpdated, expected, stamp);
  }
});
