// More cases of :identifier matching a literal reference to a resource of this server that has the
// identifier (see reference-identifier.test.ts): Task requester, the affiliation's organisations, a
// deleted target, on the store directly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';

const BASE = 'https://localhost/fhir';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await createTestDatabase('dsf_ref_identifier_targets');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  store = new ResourceStore(db.pool, BASE);
});
after(() => db?.drop());

const create = (r: object) => store.transaction((c) => store.create(c, r as Resource));
const search = async (type: string, query: string) =>
  (await executeSearch(db.pool, parseSearchRequest(type, [...new URLSearchParams(query)], { strict: true, defaultCount: 20 }), BASE)).matches.map((m) => m.id).sort();

test('Task?requester:identifier= finds Tasks whose requester is a literal reference to an Organization with that identifier, and those with the identifier in the reference', async () => {
  const org = await create({ resourceType: 'Organization', identifier: [{ system: ORG_ID, value: 'org-a.test' }], active: true });
  const other = await create({ resourceType: 'Organization', identifier: [{ system: ORG_ID, value: 'org-b.test' }], active: true });
  const literal = await create({ resourceType: 'Task', status: 'requested', intent: 'order', requester: { reference: `Organization/${org.id}` } });
  const absolute = await create({ resourceType: 'Task', status: 'requested', intent: 'order', requester: { reference: `${BASE}/Organization/${org.id}` } });
  const logical = await create({ resourceType: 'Task', status: 'requested', intent: 'order', requester: { type: 'Organization', identifier: { system: ORG_ID, value: 'org-a.test' } } });
  const toOther = await create({ resourceType: 'Task', status: 'requested', intent: 'order', requester: { reference: `Organization/${other.id}` } });
  assert.deepEqual(await search('Task', `requester:identifier=${ORG_ID}|org-a.test`), [literal.id, absolute.id, logical.id].sort());
  assert.deepEqual(await search('Task', 'requester:identifier=org-a.test'), [literal.id, absolute.id, logical.id].sort());
  assert.deepEqual(await search('Task', `requester:identifier=${ORG_ID}|org-b.test`), [toOther.id]);
  assert.deepEqual(await search('Task', `requester:identifier=${ORG_ID}|org-c.test`), []);
  // A deleted target no longer matches (its index rows are gone).
  await store.transaction((c) => store.delete(c, 'Organization', other.id));
  assert.deepEqual(await search('Task', `requester:identifier=${ORG_ID}|org-b.test`), []);
});

test('OrganizationAffiliation?primary-organization:identifier= matches a literal reference to the organisation', async () => {
  const parent = await create({ resourceType: 'Organization', identifier: [{ system: ORG_ID, value: 'parent.test' }], active: true });
  const member = await create({ resourceType: 'Organization', identifier: [{ system: ORG_ID, value: 'member.test' }], active: true });
  const aff = await create({ resourceType: 'OrganizationAffiliation', active: true, organization: { reference: `Organization/${parent.id}` }, participatingOrganization: { reference: `Organization/${member.id}` } });
  assert.deepEqual(await search('OrganizationAffiliation', `primary-organization:identifier=${ORG_ID}|parent.test`), [aff.id]);
  assert.deepEqual(await search('OrganizationAffiliation', `participating-organization:identifier=${ORG_ID}|member.test`), [aff.id]);
  assert.deepEqual(await search('OrganizationAffiliation', `primary-organization:identifier=${ORG_ID}|member.test`), []);
});
