// pgArrayLiteral: the same text as the pg driver's own array serialiser, and PostgreSQL reads back
// the values it was given (strings with quotes, backslashes, braces, commas, blanks; nulls; numbers; booleans).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { pgArrayLiteral } from '../../src/db/pg-array-literal.ts';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };

const STRINGS = ['', 'a', 'NULL', 'null', ' ', 'a b', 'a,b', '{a}', '"', '\\', '\\"', 'x"y\\z', "it's", 'ü€😀', '\n\t', 'http://dsf.dev/fhir/StructureDefinition/patient|1.0'];
const CASES: (string | number | boolean | null)[][] = [
  [],
  [null],
  STRINGS,
  [...STRINGS, null, ...STRINGS],
  [1, 0, -3, 2.5, 123456789],
  [true, false, true],
  ['2026-12-06T23:47:28.123Z', null, '9999-12-31T23:59:59.999Z'],
];

test('the literal is the pg driver’s, character for character', () => {
  for (const values of CASES) assert.equal(pgArrayLiteral(values), prepareValue(values), JSON.stringify(values));
});

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_pg_array_literal');
});
after(() => db?.drop());

test('PostgreSQL reads back the same values', async () => {
  const texts = [...STRINGS, null];
  const back = (await db.pool.query('SELECT $1::text[] AS a', [pgArrayLiteral(texts)])).rows[0].a;
  assert.deepEqual(back, texts);
  const numbers = (await db.pool.query('SELECT $1::int[] AS a', [pgArrayLiteral([1, 0, -3, null])])).rows[0].a;
  assert.deepEqual(numbers, [1, 0, -3, null]);
  const flags = (await db.pool.query('SELECT $1::boolean[] AS a', [pgArrayLiteral([true, false, null])])).rows[0].a;
  assert.deepEqual(flags, [true, false, null]);
});
