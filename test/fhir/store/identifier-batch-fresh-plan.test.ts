// The identifier batch's generic plan on tables without statistics (a new database until autovacuum
// analyzes it): each match's resource must still be looked up by its id, not found by scanning every
// resource of the type with the id as a join filter (search-query.ts, the batch form).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { StatementCoalescer } from '../../../src/db/coalesced-statements.ts';
import { readAccessTags, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';
import { genericPlan, recordingRunner } from '../../support/generic-plan.ts';

const BASE = 'https://localhost/fhir';
const SYSTEM = 'http://example.org/fresh-plan';
const ALL = { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] };
const access: AccessFilter = () => readAccessTags({ local: true, organizationIdentifier: 'a.org' });
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('dsf_identifier_batch_fresh');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  // No statistics during the test: autovacuum must not analyze the tables meanwhile.
  for (const table of ['resources', 'search_index']) await db.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  const store = new ResourceStore(db.pool, BASE);
  await store.transaction(async (c) => {
    for (let i = 0; i < 100; i++) await store.create(c, { resourceType: 'Organization', meta: ALL, identifier: [{ system: SYSTEM, value: `org-${i}` }], active: true } as Resource);
    for (let i = 0; i < 200; i++) await store.create(c, { resourceType: 'Patient', meta: ALL, identifier: [{ system: SYSTEM, value: `p-${i}` }] } as Resource);
  });
});
after(() => db?.drop());

const nodes = (plan: Record<string, any>): Record<string, any>[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

test('without statistics the batch reads each match by its id, not every resource of the type per vector', async () => {
  const { runner, statements } = recordingRunner(db.pool);
  const view = new StatementCoalescer().view(runner, access);
  const request = (code: string) => parseSearchRequest('Organization', [['identifier', `${SYSTEM}|${code}`]], { strict: true, defaultCount: 20 });
  const codes = ['org-1', 'org-50', 'none', 'org-99'];
  const results = await Promise.all(codes.map((code) => executeSearch(view, request(code), BASE, access, { maxPageBytes: 1 << 24, asText: true })));
  assert.deepEqual(
    results.map((r) => [r.total, r.matches.map((m) => JSON.parse(m.text).identifier[0].value)]),
    [[1, ['org-1']], [1, ['org-50']], [0, []], [1, ['org-99']]],
  );
  assert.equal(statements.length, 1, 'one batch statement');
  assert.ok(!(await db.pool.query(`SELECT 1 FROM pg_stats WHERE tablename = 'resources'`)).rowCount, 'no statistics');
  const plan = nodes(await genericPlan(db.pool, statements[0]!, { analyze: true }));
  const shape = JSON.stringify(plan.map((n) => [n['Node Type'], n['Index Name'], n['Actual Rows'], n['Actual Loops']]));
  const resources = plan.filter((n) => n['Relation Name'] === 'resources' && n['Actual Loops'] > 0);
  assert.ok(resources.length >= 2, shape);
  // Every executed scan of resources looks up ids: at most one row a loop, none by the type's index.
  for (const scan of resources) {
    assert.equal(scan['Index Name'], 'resources_current_id', shape);
    assert.ok(scan['Actual Rows'] <= 1, shape);
  }
  assert.ok(!plan.some((n) => n['Rows Removed by Join Filter'] > 0), shape);
});
