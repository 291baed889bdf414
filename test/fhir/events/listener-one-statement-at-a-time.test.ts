// The change-stream listener has three users of its one connection: the stream read, the NOTIFY after
// a commit of this process, and the poll's check for other listeners. They must take turns: pg 8 queues
// a call made while the connection is busy and warns ("Calling client.query() when the client is already
// executing a query is deprecated"); pg 9 drops that queue. Here the read is held up by a lock on the
// resources table while commits and poll ticks ask for the connection: no warning, and once the lock
// goes, everything committed is delivered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { EventListener, EVENT_CONNECTION_NAME } from '../../../src/fhir/events/event-listener.ts';
import type { CommittedChange } from '../../../src/fhir/store/change-stream.ts';

let db: TestDatabase;
const warnings: Error[] = [];
const onWarning = (w: Error) => void warnings.push(w);

before(async () => {
  process.on('warning', onWarning);
  db = await createTestDatabase('dsf_listener_turns');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
});
after(async () => {
  process.off('warning', onWarning);
  await db?.drop();
});

test('reads, NOTIFYs and polls take turns on the listener connection while a read waits on a lock', { timeout: 60_000 }, async () => {
  const store = new ResourceStore(db.pool, 'https://localhost/fhir', {});
  const seen: CommittedChange[] = [];
  const listener = new EventListener({ connectionString: db.url }, { onChange: async (c) => void seen.push(c) }, { pollIntervalMs: 10 });
  // A second listener on the database: the first then NOTIFYs after each commit, a third user of its connection.
  const other = new EventListener({ connectionString: db.url }, { onChange: async () => {} }, { pollIntervalMs: 10 });
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  try {
    await listener.start();
    await other.start();
    store.onCommittedWrites(() => listener.committed());
    await listener.settled();

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
    listener.wake();
    // Until both listeners' reads wait on the lock (bounded: 10 s).
    for (let i = 0; ; i++) {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`, [EVENT_CONNECTION_NAME]);
      if (r.rows[0].n >= 1) break;
      assert.ok(i < 500, 'the listener read never waited on the lock');
      await sleep(20);
    }
    // Meanwhile: commits of this process (each wants a NOTIFY) and poll ticks (each wants the who-listens check).
    for (let i = 0; i < 5; i++) {
      listener.committed();
      await sleep(20);
    }
    await locker.query('COMMIT');

    const created = await store.transaction((c) => store.create(c, { resourceType: 'Patient' } as Resource));
    await listener.settled();
    assert.ok(seen.some((c) => c.id === created.id), 'the commit after the lock was delivered');
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  } finally {
    await locker.end().catch(() => {});
    await listener.stop();
    await other.stop();
  }
});
