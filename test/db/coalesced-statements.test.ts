// StatementCoalescer (src/db/coalesced-statements.ts) on a real database: statements of one turn with
// the same text and group share one statement, and each caller gets exactly the rows its own statement
// returns (same rows, same order, same columns), whatever differs between them (text, integers,
// booleans, arrays); what cannot be batched runs on its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import pg from 'pg';
import { batchStatement, StatementCoalescer, type StatementRunner } from '../../src/db/coalesced-statements.ts';
import { preparedStatementCount, usePreparedStatementsOn } from '../../src/db/prepared-statements.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE TABLE items (id uuid PRIMARY KEY, name text NOT NULL, n int NOT NULL, flag boolean NOT NULL, at timestamptz NOT NULL)');
  await db.pool.query(`INSERT INTO items SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'name-' || (i % 7), i, i % 2 = 0, timestamptz '2026-01-01' + i * interval '1 day' FROM generate_series(1, 60) i`);
});
after(() => db?.drop());

const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** Statements sent to PostgreSQL through a runner. */
function counting(runner: StatementRunner): StatementRunner & { texts: string[] } {
  const texts: string[] = [];
  return { texts, query: (text, values) => (texts.push(text), runner.query(text, values)) };
}

/** Runs every (text, values) at once through the coalescer and alone; the rows must be equal, in order. */
async function sameAsAlone(statements: [string, unknown[]][], group: object = {}): Promise<{ sent: string[]; coalescer: StatementCoalescer }> {
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const together = await Promise.all(statements.map(([text, values]) => coalescer.query(runner, group, text, values)));
  for (const [k, [text, values]] of statements.entries()) assert.deepEqual(together[k]!.rows, (await db.pool.query(text, values)).rows, `${text} ${JSON.stringify(values)}`);
  return { sent: runner.texts, coalescer };
}

const PAGE = 'SELECT i.id, i.name, i.n, count(*) OVER () AS total FROM items i WHERE i.name = $1 AND i.n > $2 ORDER BY i.n DESC LIMIT $3 OFFSET $4';

test('statements of one turn with the same text share one statement; each gets its own rows in its own order', async () => {
  const statements: [string, unknown[]][] = [
    [PAGE, ['name-1', 0, 3, 0]],
    [PAGE, ['name-2', 0, 3, 0]],
    [PAGE, ['name-1', 10, 3, 1]], // other integers too
    [PAGE, ['none', 0, 3, 0]], // no rows
    [PAGE, ['name-2', 0, 3, 0]], // the same as the second
  ];
  const { sent, coalescer } = await sameAsAlone(statements);
  assert.equal(sent.length, 1, 'one statement');
  assert.match(sent[0]!, /unnest\(\(SELECT \$1::text\[\]\), \(SELECT \$2::int8\[\]\), \(SELECT \$4::int8\[\]\)\)/);
  assert.deepEqual(coalescer.stats, { coalesced: 5, batchStatements: 1, failedBatches: 0 });
});

test('arrays, booleans and explicitly cast parameters differ between statements of a batch', async () => {
  const text = 'SELECT i.id, i.flag FROM items i WHERE i.id = ANY($1::uuid[]) AND i.flag = $2 AND i.at >= $3::timestamptz ORDER BY i.id';
  const { sent } = await sameAsAlone([
    [text, [[id(1), id(2), id(4)], true, '2026-01-01T00:00:00Z']],
    [text, [[id(3), id(5)], false, '2026-01-04T00:00:00Z']],
    [text, [[], true, '2026-01-01T00:00:00Z']],
    [text, [[id(6)], false, '2027-01-01T00:00:00Z']],
  ]);
  assert.equal(sent.length, 1);
  // Strings in arrays with quotes, backslashes, commas, braces and NULL survive the array literal.
  const names = 'SELECT i.name, $1::text[] AS asked FROM items i WHERE i.name = ANY($1::text[]) ORDER BY i.n LIMIT 3';
  const both = await sameAsAlone([
    [names, [['name-1', 'we"ird\\x', 'a,b', '{}', null]]],
    [names, [['name-2', ' spaced ', 'NULL']]],
  ]);
  assert.equal(both.sent.length, 1);
});

test('the same statement more than once in a turn and nothing else: each runs its own (no result objects shared between callers)', async () => {
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const group = {};
  const [a, b] = await Promise.all([1, 2].map(() => coalescer.query(runner, group, PAGE, ['name-1', 0, 3, 0])));
  assert.deepEqual(a!.rows, b!.rows);
  assert.notEqual(a!.rows[0], b!.rows[0]);
  assert.deepEqual(runner.texts, [PAGE, PAGE]);
});

test('a statement alone in its turn, other texts and other groups run on their own', async () => {
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const one = {};
  const other = {};
  await Promise.all([coalescer.query(runner, one, PAGE, ['name-1', 0, 3, 0]), coalescer.query(runner, other, PAGE, ['name-2', 0, 3, 0]), coalescer.query(runner, one, `${PAGE} `, ['name-3', 0, 3, 0])]);
  assert.deepEqual(runner.texts, [PAGE, PAGE, `${PAGE} `]);
  assert.equal(coalescer.stats.batchStatements, 0);
});

/** The next pass of the event loop (after its poll for I/O). */
const nextPass = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a batch with company takes in the statements of the next two passes of the event loop (requests that came in meanwhile)', async () => {
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const group = {};
  const values: unknown[][] = [['name-1', 0, 3, 0], ['name-2', 0, 3, 0], ['name-3', 0, 3, 0], ['name-4', 0, 3, 0], ['name-5', 0, 3, 0]];
  const asked = [coalescer.query(runner, group, PAGE, values[0]!), coalescer.query(runner, group, PAGE, values[1]!)];
  await nextPass();
  asked.push(coalescer.query(runner, group, PAGE, values[2]!));
  await nextPass();
  asked.push(coalescer.query(runner, group, PAGE, values[3]!));
  const together = await Promise.all(asked);
  // Sent by now: the next statement starts a batch of its own (alone, so its own statement).
  await coalescer.query(runner, group, PAGE, values[4]!);
  for (const [k, v] of values.slice(0, 4).entries()) assert.deepEqual(together[k]!.rows, (await db.pool.query(PAGE, v)).rows);
  assert.equal(runner.texts.length, 2, 'one batch statement for four, the fifth on its own');
  assert.deepEqual(coalescer.stats, { coalesced: 4, batchStatements: 1, failedBatches: 0 });
});

test('a statement alone in its turn is sent at the end of it, not held for company', async () => {
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const group = {};
  const first = coalescer.query(runner, group, PAGE, ['name-1', 0, 3, 0]);
  await nextPass();
  assert.deepEqual(runner.texts, [PAGE], 'sent after its own turn');
  const second = coalescer.query(runner, group, PAGE, ['name-2', 0, 3, 0]);
  await Promise.all([first, second]);
  assert.deepEqual(runner.texts, [PAGE, PAGE]);
  assert.equal(coalescer.stats.batchStatements, 0);
});

test('values of types the batch cannot carry (objects, decimals): each statement on its own, no failure', async () => {
  const text = 'SELECT i.n FROM items i WHERE i.n < $1::numeric ORDER BY i.n LIMIT 2';
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const group = {};
  const rows = await Promise.all([coalescer.query(runner, group, text, [2.5]), coalescer.query(runner, group, text, [3])].map((r) => r.then((x) => x.rows)));
  assert.deepEqual(rows, [[{ n: 1 }, { n: 2 }], [{ n: 1 }, { n: 2 }]]);
  assert.deepEqual(runner.texts, [text, text]);
  assert.deepEqual(coalescer.stats, { coalesced: 0, batchStatements: 0, failedBatches: 0 });
});

test('a text PostgreSQL refuses as a batch (a parameter typed by its context) fails once, every statement then runs on its own, and it is not batched again', async () => {
  // $1 compared with a timestamptz column without a cast: as text in the batch there is no such operator.
  const text = 'SELECT i.n FROM items i WHERE i.at < $1 ORDER BY i.n LIMIT 2';
  const coalescer = new StatementCoalescer();
  const runner = counting(db.pool);
  const group = {};
  const ask = () => Promise.all(['2026-01-02T12:00:00Z', '2026-01-03T12:00:00Z'].map((v) => coalescer.query(runner, group, text, [v]).then((r) => r.rows)));
  assert.deepEqual(await ask(), [[{ n: 1 }], [{ n: 1 }, { n: 2 }]]);
  assert.equal(coalescer.stats.failedBatches, 1);
  assert.equal(runner.texts.length, 3, 'the refused batch, then each on its own');
  runner.texts.length = 0;
  assert.deepEqual(await ask(), [[{ n: 1 }], [{ n: 1 }, { n: 2 }]]);
  assert.deepEqual(runner.texts, [text, text], 'not batched again');
});

test('batchStatement: equal values stay scalar at their place, differing ones become unnest columns; nothing differing is no batch', () => {
  const b = batchStatement('SELECT $1, $2, $12', [
    ['a', 1, 'x', 4, 5, 6, 7, 8, 9, 10, 11, 12],
    ['b', 1, 'x', 4, 5, 6, 7, 8, 9, 10, 11, 13],
  ])!;
  assert.match(b.text, /unnest\(\(SELECT \$1::text\[\]\), \(SELECT \$12::int8\[\]\)\) WITH ORDINALITY AS q\(v1, v12, batch_k\)/);
  assert.match(b.text, /SELECT q\.v1, \$2, q\.v12/);
  assert.deepEqual(b.values.slice(0, 3), [['a', 'b'], 1, 'x']);
  assert.deepEqual(b.values[11], [12, 13]);
  assert.equal(batchStatement('SELECT $1', [['a'], ['a']]), undefined);
});

test('small batches get a generic plan after the first executions (else every batch would be planned anew, 0.5-1 ms of PostgreSQL CPU)', async () => {
  await db.pool.query('ANALYZE items');
  // A page (a text and integers differ) and an include-like statement (an array differs; constants the
  // planner estimates better than the generic plan does).
  const INCLUDE = 'SELECT i.id, i.name FROM items i WHERE i.name = $2 AND i.flag = $3 AND i.id = ANY($1::uuid[]) AND i.id <> ALL($1::uuid[]) IS NOT TRUE ORDER BY i.id';
  const shapes: [string, (i: number) => unknown[][]][] = [
    [PAGE, (i) => ['name-1', `name-${2 + (i % 5)}`].map((name) => [name, i, 2, 0])],
    [INCLUDE, (i) => [[id(1 + i), id(8 + i)], [id(15 + i)]].map((ids) => [ids, 'name-1', true])],
  ];
  for (const [text, vectors] of shapes) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      usePreparedStatementsOn(client);
      const coalescer = new StatementCoalescer();
      const group = {};
      for (let i = 0; i < 12; i++) {
        const together = await Promise.all(vectors(i).map((values) => coalescer.query(client, group, text, values).then((r) => r.rows)));
        for (const [k, values] of vectors(i).entries()) assert.deepEqual(together[k], (await db.pool.query(text, values)).rows);
      }
      assert.equal(coalescer.stats.batchStatements, 12);
      const plans = (await client.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%batch_k%'")).rows;
      assert.equal(plans.length, 1);
      assert.ok(plans[0].generic_plans >= 6, `${text}: ${JSON.stringify(plans[0])}`);
    } finally {
      await client.end();
    }
  }
});

test('batch statements stay within the connection\'s bound of prepared statements, however many shapes come', async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    usePreparedStatementsOn(client, { maxPerConnection: 5 });
    const coalescer = new StatementCoalescer();
    const group = {};
    for (let shape = 0; shape < 20; shape++) {
      // Each shape its own text, with two ways of differing (one column, two columns): 40 batch texts.
      const text = `SELECT i.n, $3::int AS shape FROM items i WHERE i.name = $1 AND i.n > $2 ORDER BY i.n LIMIT 2 -- ${shape}`;
      for (const vectors of [[['name-1', 0, shape], ['name-2', 0, shape]], [['name-1', 0, shape], ['name-2', 1, shape]]]) {
        const together = await Promise.all(vectors.map((values) => coalescer.query(client, group, text, values).then((r) => r.rows)));
        for (const [k, values] of vectors.entries()) assert.deepEqual(together[k], (await db.pool.query(text, values)).rows);
        assert.ok(preparedStatementCount(client)! <= 5, `prepared: ${preparedStatementCount(client)}`);
      }
    }
    assert.equal(coalescer.stats.batchStatements, 40);
    assert.equal(coalescer.stats.failedBatches, 0);
    assert.ok(Number((await client.query('SELECT count(*) AS n FROM pg_prepared_statements')).rows[0].n) <= 5);
  } finally {
    await client.end();
  }
});
