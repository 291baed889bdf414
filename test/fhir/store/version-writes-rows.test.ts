// The write statements send each index row with the position of its write in the statement (1-based),
// not its resource's id and type: the database takes those from the writes' own columns. Every row must
// land with its own resource's id and type, whatever the number of rows of each write (none included),
// in both statements (creates only, and the full one with updates and keys).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { writeVersions, type VersionWrite } from '../../../src/fhir/store/version-writes.ts';
import { indexRow, type IndexRow } from '../../../src/fhir/search/index-row.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_version_rows');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
});
after(() => db?.drop());

const write = (type: string, indexRows: IndexRow[], more: Partial<VersionWrite> = {}): VersionWrite => {
  const id = more.id ?? randomUUID();
  const version = more.version ?? 1;
  return {
    id,
    type,
    version,
    lastUpdated: new Date().toISOString(),
    json: JSON.stringify({ resourceType: type, id, meta: { versionId: String(version) } }),
    replaces: version > 1,
    indexRows,
    keys: [],
    previousKeys: [],
    ...more,
  };
};

/** The index rows of these resources as `type/id param code`, sorted. */
async function rowsOf(ids: string[]): Promise<string[]> {
  const r = await db.pool.query('SELECT type, resource_id::text AS id, param, code FROM search_index WHERE resource_id = ANY($1::uuid[])', [ids]);
  return r.rows.map((x) => `${x.type}/${x.id} ${x.param} ${x.code}`).sort();
}

const expected = (writes: VersionWrite[]) => writes.flatMap((w) => w.indexRows.map((r) => `${w.type}/${w.id} ${r.param} ${r.code}`)).sort();

test('a statement of creates: each index row carries its own write id and type, writes without rows between others', async () => {
  const writes = [
    write('Patient', [indexRow('active', { code: 'true' }), indexRow('identifier', { system: 'http://x', code: 'p1' })]),
    write('Organization', []),
    write('Task', [indexRow('status', { code: 'requested' })]),
    write('Patient', []),
    write('Organization', [indexRow('name', { norm: 'a' }), indexRow('active', { code: 'false' }), indexRow('identifier', { code: 'o2' })]),
  ];
  assert.equal(await writeVersions(db.pool as never, writes), undefined);
  assert.deepEqual(await rowsOf(writes.map((w) => w.id)), expected(writes));
  assert.equal((await rowsOf(writes.map((w) => w.id))).length, 6);
});

test('the full statement (an update and a key among creates): each index row carries its own write id and type', async () => {
  const first = write('Patient', [indexRow('identifier', { code: 'old' })]);
  assert.equal(await writeVersions(db.pool as never, [first]), undefined);
  const writes = [
    write('Task', [indexRow('status', { code: 'draft' })]),
    write('Patient', [indexRow('identifier', { code: 'new' }), indexRow('active', { code: 'true' })], { id: first.id, version: 2 }),
    write('Organization', [], { keys: [`identifier:${randomUUID()}`] }),
    write('Organization', [indexRow('identifier', { code: 'o3' })], { keys: [`identifier:${randomUUID()}`] }),
  ];
  assert.equal(await writeVersions(db.pool as never, writes), undefined);
  assert.deepEqual(await rowsOf(writes.map((w) => w.id)), expected(writes));
  assert.deepEqual(await rowsOf([first.id]), [`Patient/${first.id} active true`, `Patient/${first.id} identifier new`]);
});
