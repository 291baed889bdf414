// The databases of a test network on a given server: made per site, all dropped when the network
// closes (several at once), also when more were made than are dropped at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { networkDatabases } from '../../src/testkit/database.ts';
import { withDatabase } from '../../src/db/pool.ts';

test('every database a network made is gone after close, none of another network', { skip: !process.env.DSF_TEST_DATABASE_URL && 'needs DSF_TEST_DATABASE_URL' }, async () => {
  const server = process.env.DSF_TEST_DATABASE_URL!;
  const work = mkdtempSync(join(tmpdir(), 'dsf-network-databases-'));
  const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
  await admin.connect();
  try {
    const existing = async (names: string[]) =>
      (await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1) ORDER BY datname', [names])).rows.map((r) => r.datname);
    const nameOf = (url: string) => new URL(url).pathname.slice(1);
    const ours = await networkDatabases(server, work, () => {});
    const other = await networkDatabases(server, work, () => {});
    const made = await Promise.all(['0_fhir', '0_bpe', '0_data', '1_fhir', '1_bpe', '2_fhir', '2_bpe'].map(async (n) => nameOf(await ours.create(n))));
    const kept = nameOf(await other.create('0_fhir'));
    assert.deepEqual(await existing(made), [...made].sort());
    await ours.close();
    assert.deepEqual(await existing(made), []);
    assert.deepEqual(await existing([kept]), [kept]);
    await other.close();
    assert.deepEqual(await existing([kept]), []);
  } finally {
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  }
});
