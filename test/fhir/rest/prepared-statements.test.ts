// The FHIR server's statements are named prepared statements (db/prepared-statements.ts): they must
// survive a PostgreSQL restart (every connection gone) and a schema change under running connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
let admin: pg.Client;
before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  admin = new pg.Client({ connectionString: site.db.url });
  await admin.connect();
});
after(async () => {
  await admin?.end();
  await site?.stop();
});

const patient = (value: string) => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/ps', value }], active: true });

/** A read, searches (also as a remote organisation, through the read-access SQL), a create and a transaction: all must answer as usual. */
async function exercise(id: string, value: string): Promise<void> {
  const remote = site.clientFor('External_Test_Organization');
  for (let round = 0; round < 3; round++) {
    const read = await site.client.get(`/Patient/${id}`);
    assert.equal(read.status, 200, read.body);
    const search = await site.client.get(`/Patient?identifier=http://example.org/ps|${value}`);
    assert.equal(search.status, 200, search.body);
    assert.equal(search.json.entry.length, 1);
    const remoteSearch = await remote.get(`/Patient?identifier=http://example.org/ps|${value}`);
    assert.equal(remoteSearch.status, 200, remoteSearch.body);
    assert.equal(remoteSearch.json.entry.length, 1);
    const remoteRead = await remote.get(`/Patient/${id}`);
    assert.equal(remoteRead.status, 200, remoteRead.body);
    const history = await site.client.get(`/Patient/${id}/_history`);
    assert.equal(history.status, 200, history.body);
    const created = await site.client.post('/Patient', patient(`${value}-${round}`));
    assert.equal(created.status, 201, created.body);
    const tx = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(`${value}-tx-${round}`), request: { method: 'POST', url: 'Patient' } }] });
    assert.equal(tx.status, 200, tx.body);
  }
}

test('after every database connection was terminated (as by a restart), reads, searches and writes work', async () => {
  const p = await site.client.create(patient('restart'));
  await exercise(p.id, 'restart');
  const terminated = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  assert.ok(terminated.rowCount! > 0);
  // The pool drops its idle connections once it sees them closed (bounded wait).
  for (let i = 0; i < 100 && site.db.pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await exercise(p.id, 'restart');
});

test('after a schema change of the columns the statements return, reads, searches and writes work (stale plans prepared again, no 500)', async () => {
  const p = await site.client.create(patient('schema'));
  await exercise(p.id, 'schema');
  // Result types of the prepared reads, searches and history change (a type modifier, int -> bigint).
  // (Not version: the notification trigger's PL/pgSQL keeps its own plans per connection.)
  await admin.query('ALTER TABLE resources ALTER COLUMN last_updated TYPE timestamptz(3), ALTER COLUMN size TYPE bigint');
  await exercise(p.id, 'schema');
  await admin.query('ALTER TABLE resources ALTER COLUMN last_updated TYPE timestamptz, ALTER COLUMN size TYPE int');
  await exercise(p.id, 'schema');
});
