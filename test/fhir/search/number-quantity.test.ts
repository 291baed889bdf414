// number and quantity search (R4 3.1.1.4.2/3.1.1.4.6): prefixes, the precision a searched value implies,
// approximate matches, units. DSF serves no parameter of these types, so the parameters here are made
// for the test (a Group's quantity, its characteristics' valueQuantity); their index rows are the type
// modules' own, written to the real search index, searched by the store's SQL and matched in memory,
// and both must give the R4 answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Group, Resource } from '@medplum/fhirtypes';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import type { SearchParamDef } from '../../../src/fhir/search/parameters.ts';
import type { SearchRequest } from '../../../src/fhir/search/search-request.ts';
import type { IndexRow } from '../../../src/fhir/search/index-row.ts';
import { paramTypeModule } from '../../../src/fhir/search/param-types/index.ts';
import { decimalRange } from '../../../src/fhir/search/decimal-range.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const BASE = 'https://numbers.test/fhir';
const UCUM = 'http://unitsofmeasure.org';

const def = (code: string, type: 'number' | 'quantity', evaluate: (r: Group) => unknown[]): SearchParamDef => ({
  code,
  resourceType: 'Group',
  type,
  expression: code,
  targets: [],
  canonical: false,
  evaluate: (r) => evaluate(r as Group),
});
const COUNT = def('test-count', 'number', (g) => (g.quantity === undefined ? [] : [g.quantity]));
const AMOUNT = def('test-amount', 'quantity', (g) => (g.characteristic ?? []).map((c) => c.valueQuantity).filter(Boolean));

let db: TestDatabase;
let store: ResourceStore;
const stored: { resource: Group; rows: IndexRow[] }[] = [];

async function put(group: Group): Promise<void> {
  const s = await store.transaction((c) => store.create(c, group));
  const resource = s.resource as Group;
  const rows: IndexRow[] = [];
  for (const d of [COUNT, AMOUNT]) for (const v of d.evaluate(resource)) paramTypeModule(d.type).indexRows(d, v, BASE, rows);
  // The rows the type modules make, into the real index (the store writes rows of served parameters only).
  for (const r of rows) {
    await db.pool.query('INSERT INTO search_index (resource_id, type, param, system, code, norm, num) VALUES ($1, $2, $3, $4, $5, $6, $7::numeric)', [
      resource.id,
      'Group',
      r.param,
      r.system,
      r.code,
      r.norm,
      r.num,
    ]);
  }
  stored.push({ resource, rows });
}

const group = (name: string, extra: Partial<Group>): Group => ({ resourceType: 'Group', type: 'person', actual: true, name, ...extra });

before(async () => {
  db = await createTestDatabase('dsf_numbers');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  store = new ResourceStore(db.pool, BASE);
  for (const n of [100, 99.4, 99.5, 100.4999, 100.5, 101, 0, -5.4, 1000, 42]) await put(group(`n=${n}`, { quantity: n }));
  await put(group('none', {}));
  const q = (value: number, system: string | undefined, code: string | undefined, unit: string) => ({ code: { text: 'amount' }, exclude: false, valueQuantity: { value, system, code, unit } });
  await put(group('5.4 mg', { characteristic: [q(5.4, UCUM, 'mg', 'mg')] }));
  await put(group('5.4 g', { characteristic: [q(5.4, UCUM, 'g', 'gram')] }));
  await put(group('5.4 mg unit only', { characteristic: [q(5.4, undefined, undefined, 'mg')] }));
  await put(group('6 mg', { characteristic: [q(6, UCUM, 'mg', 'milligram')] }));
});
after(() => db?.drop());

const request = (d: SearchParamDef, value: string): SearchRequest => ({
  resourceType: 'Group',
  filters: [{ code: d.code, def: d, values: [value] }],
  sort: [],
  count: 1000,
  page: 1,
  include: [],
  revinclude: [],
  warnings: [],
  canonicalParams: [],
});

/** Names of the Groups matching, by SQL and in memory; they must agree. */
async function search(d: SearchParamDef, value: string): Promise<string[]> {
  const module = paramTypeModule(d.type);
  const bySql = (await executeSearch(db.pool, request(d, value), BASE)).matches.map((r: Resource) => (r as Group).name!).sort();
  const inMemory = stored.filter((s) => s.rows.some((row) => row.param === d.code && module.matches({ def: d }, value, row, BASE))).map((s) => s.resource.name!).sort();
  assert.deepEqual(inMemory, bySql, `${d.code}=${value}: memory and SQL agree`);
  return bySql;
}

const names = (...n: number[]) => n.map((x) => `n=${x}`).sort();

test('number: the precision of the searched value implies its range; gt/lt/ge/le compare with the exact value', async () => {
  assert.deepEqual(await search(COUNT, '100'), names(99.5, 100, 100.4999), '[99.5, 100.5)');
  assert.deepEqual(await search(COUNT, '100.00'), names(100), '[99.995, 100.005)');
  assert.deepEqual(await search(COUNT, 'eq100'), names(99.5, 100, 100.4999));
  assert.deepEqual(await search(COUNT, 'gt100'), names(100.4999, 100.5, 101, 1000));
  assert.deepEqual(await search(COUNT, 'ge100'), names(100, 100.4999, 100.5, 101, 1000));
  assert.deepEqual(await search(COUNT, 'lt100'), names(99.4, 99.5, 0, -5.4, 42));
  assert.deepEqual(await search(COUNT, 'le100'), names(99.4, 99.5, 100, 0, -5.4, 42));
  assert.deepEqual(await search(COUNT, 'ne100'), names(99.4, 100.5, 101, 0, -5.4, 1000, 42));
  assert.deepEqual(await search(COUNT, 'sa100'), names(100.5, 101, 1000), 'above [99.5, 100.5)');
  assert.deepEqual(await search(COUNT, 'eb100'), names(99.4, 0, -5.4, 42), 'below [99.5, 100.5)');
  assert.deepEqual(await search(COUNT, 'ap100'), names(99.4, 99.5, 100, 100.4999, 100.5, 101), 'within 10 %');
  assert.deepEqual(await search(COUNT, '1e2'), names(99.4, 99.5, 100, 100.4999, 100.5, 101), '1e2 has one significant digit: [50, 150)');
  assert.deepEqual(await search(COUNT, '-5.4'), names(-5.4));
  assert.deepEqual(await search(COUNT, '0'), names(0));
  assert.deepEqual(await search(COUNT, 'gt1e3'), []);
});

test('quantity: the number as for number search, with system and code, or code or unit without a system', async () => {
  assert.deepEqual(await search(AMOUNT, '5.4'), ['5.4 g', '5.4 mg', '5.4 mg unit only']);
  assert.deepEqual(await search(AMOUNT, `5.4|${UCUM}|mg`), ['5.4 mg']);
  assert.deepEqual(await search(AMOUNT, '5.4||mg'), ['5.4 mg', '5.4 mg unit only'], 'code or unit');
  assert.deepEqual(await search(AMOUNT, '5.4||gram'), ['5.4 g'], 'by unit');
  assert.deepEqual(await search(AMOUNT, `gt5|${UCUM}|mg`), ['5.4 mg', '6 mg']);
  assert.deepEqual(await search(AMOUNT, `ap6|${UCUM}|mg`), ['5.4 mg', '6 mg'], 'within 10 % of 6');
  assert.deepEqual(await search(AMOUNT, `5.4|${UCUM}|`), ['5.4 g', '5.4 mg'], 'any code of the system');
  assert.deepEqual(await search(AMOUNT, 'lt5'), []);
});

test('malformed values are named as such (400 under strict handling), ranges are exact decimals', () => {
  const number = paramTypeModule('number');
  const quantity = paramTypeModule('quantity');
  assert.equal(number.valueProblem!('100'), undefined);
  assert.equal(number.valueProblem!('ge-5.4e2'), undefined);
  assert.match(number.valueProblem!('abc')!, /not a number/);
  assert.match(number.valueProblem!('gt')!, /not a number/);
  assert.equal(quantity.valueProblem!(`5.4|${UCUM}|mg`), undefined);
  assert.match(quantity.valueProblem!('5.4|mg')!, /not a quantity/);
  assert.deepEqual(decimalRange('100.00'), { value: '100', lo: '99.995', hi: '100.005', apLo: '90', apHi: '110' });
  assert.equal(number.sortColumn, 's.num', 'sortable by value');
});
