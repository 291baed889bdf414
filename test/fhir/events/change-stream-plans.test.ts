// What a read of the change stream costs does not grow with the table: on a session set up as the
// event listener sets up its own (STREAM_READ_SETTINGS, named statements), the first page of a step
// finds the step's rows by their transaction and reads no others, whether the read's plan was made
// while the table was small or the table has no statistics yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { currentStreamPosition, readCommittedChanges, STREAM_READ_SETTINGS, type StreamCursor } from '../../../src/fhir/store/change-stream.ts';
import { usePreparedStatementsOn } from '../../../src/db/prepared-statements.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_change_stream_plans');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
});
after(() => db?.drop());

/** Versions written by another connection, each call in a transaction of its own; their ids. */
async function write(n: number): Promise<string[]> {
  const r = await db.pool.query(
    `INSERT INTO resources (id, version, type, last_updated, current, resource, size)
     SELECT gen_random_uuid(), 1, 'Patient', now(), true, jsonb_build_object('resourceType', 'Patient', 'note', repeat('x', 300)), 340
     FROM generate_series(1, $1) RETURNING id`,
    [n],
  );
  return r.rows.map((row) => row.id);
}

test('the first page of a step reads only the step’s rows, after the table grew from small and without statistics', async () => {
  const reader = new pg.Client({ connectionString: db.url });
  await reader.connect();
  try {
    await reader.query(STREAM_READ_SETTINGS);
    usePreparedStatementsOn(reader);
    // A few reads while the table is small: the statements are prepared (and planned) now.
    await write(20);
    let cursor: StreamCursor = { since: await currentStreamPosition(reader) };
    for (let i = 0; i < 6; i++) {
      const ids = await write(1);
      const page = await readCommittedChanges(reader, cursor, 500);
      assert.deepEqual(page.changes.map((c) => c.id), ids);
      cursor = page.next;
    }
    // The table grows (no ANALYZE: no statistics), and then one more version is written.
    for (let i = 0; i < 4; i++) await write(5000);
    cursor = { since: await currentStreamPosition(reader) };
    const ids = await write(1);

    // Read in a transaction of its own, so that what it scanned can be asked for afterwards.
    await reader.query('BEGIN');
    const page = await readCommittedChanges(reader, cursor, 500);
    // Buffers the read took of the table and of each of its indexes (a row read is a buffer taken).
    const taken = (
      await reader.query(
        `SELECT c.relname AS rel, pg_stat_get_xact_blocks_fetched(c.oid)::int AS n FROM pg_class c
         WHERE c.relname = 'resources' OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'resources'::regclass)`,
      )
    ).rows;
    await reader.query('COMMIT');
    assert.deepEqual(page.changes.map((c) => c.id), ids);
    const buffers = Object.fromEntries(taken.map((r) => [r.rel, r.n]));
    const total = taken.reduce((n, r) => n + r.n, 0);
    // A few: the index pages down to the newest entries, and the new row's page. Walking the change_seq
    // index through the 20,000 rows, or scanning the table, takes hundreds or thousands.
    assert.ok(total <= 60, `${total} buffers taken: ${JSON.stringify(buffers)}`);
  } finally {
    await reader.end();
  }
});
