// The committed-change stream (store/change-stream.ts) as a server process follows it (events/
// event-listener.ts): every committed version once, in the order versions became visible, never a
// rolled-back one; a transaction holding an early number while later ones commit holds nobody back and
// is delivered after its own commit; other processes hear of a commit through a payload-less NOTIFY;
// a lost connection loses nothing; a long transaction elsewhere stalls nothing; an upgraded database
// delivers only what is written after the start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { EventListener, EVENT_CONNECTION_NAME, type EventListenerOptions } from '../../../src/fhir/events/event-listener.ts';
import { currentStreamPosition, readCommittedChanges, type CommittedChange, type StreamCursor, type StreamPosition } from '../../../src/fhir/store/change-stream.ts';
import type { Queryable } from '../../../src/db/pool.ts';

let db: TestDatabase;
let other: TestDatabase;
let store: ResourceStore;
/** Listeners of this test process's "server": told by the store when its writes commit. */
const wired = new Set<EventListener>();
const listeners: EventListener[] = [];

before(async () => {
  db = await createTestDatabase('dsf_change_stream');
  other = await createTestDatabase('dsf_change_stream_other');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  store = new ResourceStore(db.pool, 'https://localhost/fhir', { uniqueKeys: (r: any) => (r.identifier?.[0]?.value ? [`identifier:${r.identifier[0].value}`] : []) });
  store.onCommittedWrites(() => {
    for (const l of wired) l.committed();
  });
});
after(async () => {
  for (const l of listeners) await l.stop();
  await db?.drop();
  await other?.drop();
});

const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'http://stream.test', value }] }) as Resource;
const create = async (value: string) => (await store.transaction((c) => store.create(c, patient(value)))).id;

interface Follower {
  listener: EventListener;
  seen: CommittedChange[];
  gaps: number;
  ids(): string[];
}

/** A listener on the test database; `wire`: this process's store tells it of its commits. */
async function follow(wire = true, opts: EventListenerOptions = {}, url = db.url): Promise<Follower> {
  const f: Follower = { listener: undefined as unknown as EventListener, seen: [], gaps: 0, ids: () => f.seen.map((c) => c.id) };
  f.listener = new EventListener({ connectionString: url }, { onChange: async (c) => void f.seen.push(c), onGap: () => void f.gaps++ }, opts);
  listeners.push(f.listener);
  await f.listener.start();
  if (wire) wired.add(f.listener);
  return f;
}

async function unfollow(f: Follower): Promise<void> {
  wired.delete(f.listener);
  await f.listener.stop();
}

async function eventually(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The ids of the changes after `from`, read page by page until the step is done (at most 20 pages). */
async function readWholeStep(db: Queryable, from: StreamPosition, pageSize: number): Promise<string[]> {
  let cursor: StreamCursor = { since: from };
  const ids: string[] = [];
  for (let pages = 0; pages < 20; pages++) {
    const page = await readCommittedChanges(db, cursor, pageSize);
    ids.push(...page.changes.map((c) => c.id));
    cursor = page.next;
    if (!page.more) break;
  }
  return ids;
}

const seqOf = async (id: string) => Number((await db.pool.query('SELECT change_seq FROM resources WHERE id = $1', [id])).rows[0].change_seq);

test('a transaction holding an early number while later ones commit: they are not held back, it comes after its commit, once', async () => {
  const f = await follow();
  let opened!: () => void;
  let release!: () => void;
  const isOpen = new Promise<void>((r) => (opened = r));
  const gate = new Promise<void>((r) => (release = r));
  const early = store.transaction(async (c) => {
    const created = await store.create(c, patient('early'));
    await c.query('SELECT 1'); // sends BEGIN and the held-back write: the row and its number exist, uncommitted
    opened();
    await gate;
    return created.id;
  });
  await isOpen;
  const later = [await create('later-1'), await create('later-2')];
  await f.listener.settled();
  assert.deepEqual(f.ids(), later, 'the later commits arrive without waiting for the open transaction');

  release();
  const earlyId = await early;
  await f.listener.settled();
  assert.deepEqual(f.ids(), [...later, earlyId], 'after its commit, after the ones committed before it');
  assert.ok((await seqOf(earlyId)) < (await seqOf(later[0]!)), 'it did hold the earlier number');
  // A poll and another look find nothing more: once.
  await new Promise((r) => setTimeout(r, 1_100));
  await f.listener.settled();
  assert.deepEqual(f.ids(), [...later, earlyId]);
  await unfollow(f);
});

test('rolled-back writes are never delivered: a failed transaction, a refused single-statement create', async () => {
  const f = await follow();
  await assert.rejects(
    store.transaction(async (c) => {
      await store.create(c, patient('rolled-back'));
      await c.query('SELECT 1'); // the write is sent (it takes its number), then the transaction fails
      throw new Error('fails after writing');
    }),
    /fails after writing/,
  );
  const kept = await create('clash');
  await assert.rejects(create('clash'), /already exists/); // one statement, refused by the database
  const last = await create('after-the-failures');
  await f.listener.settled();
  assert.deepEqual(f.ids(), [kept, last]);
  const rows = (await db.pool.query("SELECT count(*)::int AS n FROM resources WHERE resource->'identifier'->0->>'value' IN ('rolled-back')")).rows[0].n;
  assert.equal(rows, 0);
  await unfollow(f);
});

test('versions of one resource and the writes of one transaction arrive in order', async () => {
  const f = await follow();
  const ids = await store.transaction(async (c) => {
    const out: string[] = [];
    for (let i = 0; i < 30; i++) out.push((await store.create(c, patient(`tx-${i}`))).id);
    return out;
  });
  const first = ids[0]!;
  for (let v = 2; v <= 4; v++) {
    await store.transaction(async (c) => {
      const cur = await store.readCurrent(c, 'Patient', first, true);
      await store.update(c, { ...(cur!.resource as any), active: v % 2 === 0 }, undefined, false, cur);
    });
  }
  await f.listener.settled();
  assert.deepEqual(f.ids(), [...ids, first, first, first]);
  assert.deepEqual(f.seen.filter((c) => c.id === first).map((c) => c.version), [1, 2, 3, 4]);
  await unfollow(f);
});

test('another process hears of a commit through the NOTIFY sent after it (not by its poll)', async () => {
  const writer = await follow(true);
  const elsewhere = await follow(false, { pollIntervalMs: 600_000 });
  const t0 = Date.now();
  const id = await create('cross-process');
  await eventually('the change in the other process', () => elsewhere.ids().includes(id));
  assert.ok(Date.now() - t0 < 10_000);
  // The NOTIFY carries nothing and is sent outside the writing transaction: no trigger is left.
  const triggers = (await db.pool.query("SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'resources'::regclass AND NOT tgisinternal")).rows[0].n;
  assert.equal(triggers, 0);
  await unfollow(writer);
  await unfollow(elsewhere);
});

test('a process alone on the database sends no NOTIFY; one that joins says hello and is notified from then on', async () => {
  const alone = await follow(true);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const heard: number[] = [];
  admin.on('notification', (n) => heard.push(n.processId));
  await admin.query('LISTEN dsf_events');
  try {
    const first = await create('alone');
    await alone.listener.settled();
    assert.deepEqual(alone.ids(), [first]);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(heard, [], 'no other follower of the stream: nothing sent');
    const joined = await follow(false, { pollIntervalMs: 600_000 });
    try {
      await eventually('the hello of the one that joined', () => heard.length === 1);
      // The hello reaches each listening connection on its own: wait until the writer's has (under load
      // it may come after the test's own), else this commit goes to the joined one's poll.
      await eventually('the writer heard the hello', () => (alone.listener as unknown as { othersListening: boolean }).othersListening);
      const second = await create('not alone');
      await eventually('the change in the process that joined', () => joined.ids().includes(second));
      // The same NOTIFY reaches the test's connection, perhaps a little after the joined process read the change.
      await eventually('notified after the commit', () => heard.length >= 2, 5_000);
    } finally {
      await unfollow(joined);
    }
  } finally {
    await admin.end();
    await unfollow(alone);
  }
});

test('a lost database connection: the reader reconnects and goes on from its position; nothing lost, nothing twice, no gap', async () => {
  const f = await follow();
  const before = await create('before-kill');
  await f.listener.settled();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [EVENT_CONNECTION_NAME]);
  await admin.end();
  assert.equal(killed.rowCount, 1);
  const during = [await create('during-1'), await create('during-2'), await create('during-3')];
  await eventually('the changes committed while reconnecting', () => during.every((id) => f.ids().includes(id)));
  await f.listener.settled();
  assert.deepEqual(f.ids(), [before, ...during]);
  assert.equal(f.gaps, 0);
  await unfollow(f);
});

test('the reads run as named statements with generic plans; a plan gone stale by a migration, and a new connection, are prepared anew', async () => {
  const logged: string[] = [];
  const f: Follower = { listener: undefined as unknown as EventListener, seen: [], gaps: 0, ids: () => f.seen.map((c) => c.id) };
  f.listener = new EventListener({ connectionString: db.url }, { onChange: async (c) => void f.seen.push(c), onGap: () => void f.gaps++, log: (m) => void logged.push(m) });
  listeners.push(f.listener);
  await f.listener.start();
  wired.add(f.listener);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const first = await create('named-1');
    await eventually('the first change', () => f.ids().includes(first));
    assert.ok((f.listener.preparedStatements() ?? 0) >= 1, 'the stream read is a named prepared statement');
    // A migration changes a column the read returns: the prepared statement's result type no longer holds.
    await admin.query('ALTER TABLE resources ALTER COLUMN type TYPE varchar(64)');
    const second = await create('named-2');
    await eventually('the change after the migration', () => f.ids().includes(second));
    assert.equal(f.seen.at(-1)!.type, 'Patient');
    // A new connection (the old one lost) prepares its statements anew.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [EVENT_CONNECTION_NAME]);
    const third = await create('named-3');
    await eventually('the change after reconnecting', () => f.ids().includes(third));
    await f.listener.settled();
    assert.deepEqual(f.ids(), [first, second, third]);
    assert.deepEqual(logged.filter((m) => m.includes('reading the change stream failed')), []);
  } finally {
    await admin.query('ALTER TABLE resources ALTER COLUMN type TYPE text');
    await admin.end();
    await unfollow(f);
  }
});

test('a long transaction in another database, and an idle one in this database, stall nothing', async () => {
  const f = await follow();
  const elsewhere = new pg.Client({ connectionString: other.url });
  const idleHere = new pg.Client({ connectionString: db.url });
  await elsewhere.connect();
  await idleHere.connect();
  try {
    await elsewhere.query('BEGIN');
    const old = (await elsewhere.query('SELECT pg_current_xact_id()::text AS x')).rows[0].x as string;
    await idleHere.query('BEGIN');
    await idleHere.query('SELECT pg_current_xact_id()');
    const id = await create('despite-long-transactions');
    // They do hold back the cluster's oldest transaction...
    const xmin = (await db.pool.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')).rows[0].x as string;
    assert.ok(BigInt(xmin) <= BigInt(old));
    // ...and the change comes anyway.
    await f.listener.settled();
    assert.deepEqual(f.ids(), [id]);
  } finally {
    await elsewhere.end();
    await idleHere.end();
  }
  await unfollow(f);
});

test('an older database: the migration numbers the versions written before, drops the trigger; only later writes are delivered', async () => {
  const old = await createTestDatabase('dsf_change_stream_upgrade');
  try {
    await migrate(old.pool, 'fhir', FHIR_MIGRATIONS);
    await migrate(old.pool, 'fhir-events', EVENT_MIGRATIONS.slice(0, 1));
    const oldStore = new ResourceStore(old.pool, 'https://localhost/fhir');
    const before: string[] = [];
    for (let i = 0; i < 3; i++) before.push((await oldStore.transaction((c) => oldStore.create(c, patient(`old-${i}`)))).id);
    assert.deepEqual(await migrate(old.pool, 'fhir-events', EVENT_MIGRATIONS), [2, 3]);
    const rows = (await old.pool.query('SELECT id, change_seq, change_xact FROM resources ORDER BY change_seq')).rows;
    assert.deepEqual(rows.map((r) => r.id), before, 'numbered in the order written');
    assert.ok(rows.every((r) => r.change_seq > 0 && r.change_xact === null));
    const f = await follow(false, {}, old.url);
    const after = (await oldStore.transaction((c) => oldStore.create(c, patient('new')))).id;
    await f.listener.settled();
    assert.deepEqual(f.ids(), [after]);
    assert.ok((await old.pool.query('SELECT change_seq FROM resources WHERE id = $1', [after])).rows[0].change_seq > rows[2].change_seq);
    await unfollow(f);
  } finally {
    await old.drop();
  }
});

/** Rows the resources table's scans produced or filtered out in an EXPLAIN ANALYZE plan. */
function rowsScanned(plan: Record<string, any>): number {
  const own = plan['Relation Name'] === 'resources' ? ((plan['Actual Rows'] ?? 0) + (plan['Rows Removed by Filter'] ?? 0) + (plan['Rows Removed by Index Recheck'] ?? 0)) * (plan['Actual Loops'] ?? 1) : 0;
  return own + ((plan.Plans as Record<string, any>[] | undefined) ?? []).reduce((n, p) => n + rowsScanned(p), 0);
}

test('a backlog of 3000 changes: each delivered once, in order; each page after the first reads at most two pages of rows', async () => {
  const f = await follow(false, { pollIntervalMs: 600_000 }); // reads only when asked: the backlog piles up
  const from = await currentStreamPosition(db.pool);
  const created: string[] = [];
  for (let t = 0; t < 6; t++) {
    created.push(
      ...(await store.transaction(async (c) => {
        const ids: string[] = [];
        for (let i = 0; i < 500; i++) ids.push((await store.create(c, patient(`backlog-${t}-${i}`))).id);
        return ids;
      })),
    );
  }
  await f.listener.settled();
  assert.equal(f.seen.length, 3000);
  assert.deepEqual(f.ids(), created, 'every change once, in the order written');
  assert.ok(f.seen.every((c, i) => i === 0 || c.seq > f.seen[i - 1]!.seq));
  await unfollow(f);

  // The same backlog page by page, each page query explained: what it read of the resources table.
  const scanned: number[] = [];
  const explaining: Queryable = {
    query: (async (text: string, params: unknown[]) => {
      const plan = (await db.pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params)).rows[0]['QUERY PLAN'][0].Plan;
      scanned.push(rowsScanned(plan));
      return db.pool.query(text, params);
    }) as Queryable['query'],
  };
  const paged = await readWholeStep(explaining, from, 500);
  assert.deepEqual(paged, created);
  assert.equal(scanned.length, 7, 'six full pages and the empty one that ends the step');
  assert.ok(scanned[0]! >= 3000, `the first page finds the step by transaction: ${scanned[0]}`);
  // Each following page looks at no more than twice a page of numbers, whichever plan it gets: the old
  // paging read the rest of the step again for every page (3000, 2500, 2000, ...).
  for (const [i, n] of scanned.slice(1).entries()) assert.ok(n <= 1000, `page ${i + 2} read ${n} rows (all pages: ${scanned.join(', ')})`);
});

test('a step whose rows are sparse among the numbers (a transaction open since long before): skipped in one look, nothing lost', async () => {
  let opened!: () => void;
  let release!: () => void;
  const isOpen = new Promise<void>((r) => (opened = r));
  const gate = new Promise<void>((r) => (release = r));
  const long = store.transaction(async (c) => {
    const ids: string[] = [];
    for (let i = 0; i < 51; i++) ids.push((await store.create(c, patient(`long-${i}`))).id);
    await c.query('SELECT 1'); // the writes are sent: their numbers are drawn, uncommitted
    opened();
    await gate;
    return ids;
  });
  await isOpen;
  for (let t = 0; t < 3; t++) {
    await store.transaction(async (c) => {
      for (let i = 0; i < 200; i++) await store.create(c, patient(`between-${t}-${i}`));
    });
  }
  const from = await currentStreamPosition(db.pool); // the long transaction is in progress here
  release();
  const longIds = await long;
  const after: string[] = [];
  for (let i = 0; i < 10; i++) after.push(await create(`after-long-${i}`));

  let queries = 0;
  const counting: Queryable = { query: ((text: string, params: unknown[]) => (queries++, db.pool.query(text, params))) as Queryable['query'] };
  const paged = await readWholeStep(counting, from, 50);
  assert.deepEqual(paged, [...longIds, ...after], 'the long transaction first (its numbers are earlier), then the later writes, each once');
  assert.ok(queries <= 5, `${queries} queries: the 600 numbers between were not walked page by page`);
});

test('followers are found whatever application_name the database URL sets: notified at once, and a lone one sends no NOTIFY', async () => {
  const named = (name: string) => {
    const u = new URL(db.url);
    u.searchParams.set('application_name', name);
    return u.toString();
  };
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const heard: number[] = [];
  admin.on('notification', (n) => heard.push(n.processId));
  await admin.query('LISTEN dsf_events');
  try {
    // Alone on the database under the operator's name: no other follower, so nothing is sent.
    const writer = await follow(true, { pollIntervalMs: 100 }, named('site-a-fhir'));
    const names = (await db.pool.query('SELECT application_name FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.application_name);
    assert.ok(names.includes('site-a-fhir') && !names.includes(EVENT_CONNECTION_NAME), names.join(', '));
    await new Promise((r) => setTimeout(r, 300)); // a few polls: its own hello is long past
    const helloCount = heard.length;
    const first = await create('named-alone');
    await writer.listener.settled();
    assert.deepEqual(writer.ids(), [first]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(heard.length, helloCount, 'no other follower: no NOTIFY');

    await unfollow(writer);

    // A writer under the default name, and another process under the operator's name: the writer's polls
    // after the hello must still count that one, so it is told of each commit at once (its own poll
    // would take ten minutes).
    const defaultWriter = await follow(true, { pollIntervalMs: 100 });
    const reader = await follow(false, { pollIntervalMs: 600_000 }, named('site-a-fhir-2'));
    await new Promise((r) => setTimeout(r, 500));
    const second = await create('named-not-alone');
    await eventually('the change in the other process', () => reader.ids().includes(second), 5_000);
    await unfollow(reader);
    await unfollow(defaultWriter);
  } finally {
    await admin.end();
  }
});
