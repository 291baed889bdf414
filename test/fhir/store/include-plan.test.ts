// The _include statement (search-query.ts) finds the page's index rows by the matches' ids: under a
// generic plan it used to scan every index row of the source type's parameter (all Organizations'
// endpoints) and drop the other resources' rows, so its work grew with the number of such resources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { genericPlan, recordingRunner } from '../../support/generic-plan.ts';
import type { AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { readAccessFilter } from '../../../src/fhir/auth/read-access.ts';
import type { Identity } from '../../../src/fhir/types/identity.ts';
import { READ_ACCESS_TAG } from '../../../src/fhir/model/dsf-urls.ts';

const BASE = 'https://localhost/fhir';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const ORGS = 60;
let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await createTestDatabase('dsf_include_plan');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  store = new ResourceStore(db.pool, BASE);
  const create = (r: object) => store.transaction((c) => store.create(c, r as Resource));
  for (let i = 0; i < ORGS; i++) {
    const meta = { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] };
    const ep = await create({ resourceType: 'Endpoint', meta, status: 'active', connectionType: { code: 'hl7-fhir-rest' }, payloadType: [{ text: 'x' }], address: `https://ep-${i}.test/fhir` });
    await create({ resourceType: 'Organization', meta, identifier: [{ system: ORG_ID, value: `org-${i}` }], active: true, endpoint: [{ reference: `Endpoint/${ep.id}` }] });
  }
  // Index rows of other resources, as a server holds them (no resource rows needed): other
  // Organizations' endpoints, and many types and parameters with few rows each (which makes PostgreSQL
  // estimate any one parameter's rows as few, so a scan by parameter looked cheap).
  await db.pool.query(`INSERT INTO search_index (resource_id, type, param, ref_id)
    SELECT gen_random_uuid(), 'Organization', 'endpoint', gen_random_uuid() FROM generate_series(1, 1000)`);
  await db.pool.query(`INSERT INTO search_index (resource_id, type, param, code)
    SELECT r.id, 'T' || (r.n % 20), 'p' || ((r.n * 5 + k) % 50), 'c' || r.n
    FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 4000) AS n) r, generate_series(1, 5) AS k`);
  await db.pool.query('VACUUM ANALYZE search_index');
  await db.pool.query('ANALYZE resources');
});
after(() => db?.drop());

/** Entries of search_index and its indexes a plan (EXPLAIN ANALYZE, JSON) went through, over all loops. */
function indexRowsRead(plan: Record<string, any>): number {
  const scans = String(plan['Index Name'] ?? '').startsWith('search_index') || (plan['Node Type'] === 'Seq Scan' && plan['Relation Name'] === 'search_index');
  const own = scans ? (plan['Actual Rows'] + (plan['Rows Removed by Filter'] ?? 0)) * plan['Actual Loops'] : 0;
  return own + (plan.Plans ?? []).reduce((n: number, p: Record<string, any>) => n + indexRowsRead(p), 0);
}

async function includeIndexRowsRead(access?: AccessFilter): Promise<number> {
  const { runner, statements } = recordingRunner(db.pool);
  const req = parseSearchRequest('Organization', [...new URLSearchParams(`identifier=${ORG_ID}|org-7&_include=Organization:endpoint`)], { strict: true, defaultCount: 20 });
  const result = await executeSearch(runner, req, BASE, access, { maxPageBytes: 1 << 24 });
  assert.equal(result.matches.length, 1);
  assert.deepEqual(result.included.map((r) => (r as { address?: string }).address), ['https://ep-7.test/fhir']);
  assert.equal(statements.length, 2, 'the page, then the includes');
  return indexRowsRead(await genericPlan(db.pool, statements[1]!, { analyze: true }));
}

// The match's own index rows (identifier, active, endpoint): a few, not one per Organization's endpoint
// (1,064 before).
test('an _include reads the index rows of the page only, under a generic plan too', async () => {
  const read = await includeIndexRowsRead();
  assert.ok(read > 0 && read < 10, `search_index rows read: ${read}`);
});

test("so does a remote organisation's, with its read-access conditions", async () => {
  const org = (await db.pool.query(`SELECT resource FROM resources WHERE type = 'Organization' AND current LIMIT 1`)).rows[0].resource;
  const identity = { kind: 'organization', local: false, organization: org, organizationIdentifier: org.identifier[0].value, roles: new Map([['READ', 'all']]), displayName: 'remote' } as Identity;
  const read = await includeIndexRowsRead(readAccessFilter(identity, { localOrganizationIdentifier: 'local.test', baseUrl: BASE }));
  assert.ok(read > 0 && read < 40, `search_index rows read: ${read}`);
});
