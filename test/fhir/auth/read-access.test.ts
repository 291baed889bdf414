// Read access by tags (ALL, LOCAL, ORGANIZATION, ROLE) and Binary security contexts, enforced in
// read, vread, search (matches, totals, _include, _revinclude), history and batch entries; tag
// validity and "only local identities write tagged resources".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import type { DsfRole, Identity, RoleGrant } from '../../../src/fhir/types/identity.ts';
import { readAccessFilter } from '../../../src/fhir/auth/read-access.ts';
import { siteOf } from '../../../src/fhir/types/site.ts';
import { readAccessTagProblem, storeExistenceChecks } from '../../../src/fhir/types/read-access-tags.ts';
import { canRead } from '../../../src/fhir/store/resource-lookups.ts';
import { accessConditions } from '../../../src/fhir/store/access-sql.ts';
import { parseSearchRequest } from '../../../src/fhir/search/search-request.ts';
import { buildWhere } from '../../../src/fhir/store/search-sql.ts';
import { SqlParams } from '../../../src/db/sql-params.ts';
import {
  as,
  createRemoteOrganizations,
  includeIds,
  matchIds,
  ORG_ID,
  organizationByIdentifier,
  organizationIdentity,
  organizationTag,
  PARENT_PROFILE,
  practitionerIdentity,
  RAT,
  readOnlyRoles,
  roleTag,
  tagAll,
  tagLocal,
  assertRefused,
} from './auth-support.ts';

let site: TestSite;
let local: Identity, remoteA: Identity, remoteB: Identity, practitioner: Identity;
let affiliationId: string;
const ids: Record<string, string> = {};
const PID = 'http://example.org/pid';

const patient = (name: string, meta: object) => ({ resourceType: 'Patient', meta, identifier: [{ system: PID, value: name }], active: true });

before(async () => {
  site = await startTestSite();
  await createRemoteOrganizations(site, ['remote-a.test', 'remote-b.test']);
  const localOrg = await organizationByIdentifier(site, site.server.config.organizationIdentifier);
  const a = await organizationByIdentifier(site, 'remote-a.test');
  const b = await organizationByIdentifier(site, 'remote-b.test');
  local = organizationIdentity(localOrg, true);
  remoteA = organizationIdentity(a, false);
  remoteB = organizationIdentity(b, false);
  practitioner = practitionerIdentity(localOrg.organization, local.organizationIdentifier, 'user@test.org', [], readOnlyRoles());

  const L = as(site, local);
  const parent = await L.create({ resourceType: 'Organization', meta: { ...tagAll(), profile: [PARENT_PROFILE] }, identifier: [{ system: ORG_ID, value: 'consortium.test' }], active: true, name: 'Consortium' });
  assert.equal(parent.status, 201, parent.message);
  const aff = await L.create({
    resourceType: 'OrganizationAffiliation',
    meta: tagAll(),
    active: true,
    organization: { reference: `Organization/${parent.resource.id}` },
    participatingOrganization: { reference: `Organization/${a.organization.id}` },
    endpoint: [{ reference: `Endpoint/${a.endpoint!.id}` }],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  });
  assert.equal(aff.status, 201, aff.message);
  affiliationId = aff.resource.id;

  const metas: Record<string, object> = {
    all: tagAll(),
    local: tagLocal(),
    orgA: { tag: [...tagLocal().tag, organizationTag('remote-a.test')] },
    orgB: { tag: [...tagLocal().tag, organizationTag('remote-b.test')] },
    role: { tag: [...tagLocal().tag, roleTag('consortium.test', 'DIC')] },
  };
  for (const [name, meta] of Object.entries(metas)) {
    const r = await L.create(patient(name, meta));
    assert.equal(r.status, 201, `${name}: ${r.message}`);
    ids[name] = r.resource.id;
  }
});
after(() => site?.stop());

const visible = (names: string[]) => names.map((n) => ids[n]!).sort();

async function assertSees(identity: Identity, names: string[]): Promise<void> {
  const who = as(site, identity);
  const s = await who.search('Patient', `identifier=${PID}|`);
  assert.equal(s.status, 200);
  assert.deepEqual(matchIds(s.resource), visible(names), `${identity.displayName}: search matches`);
  assert.equal(s.resource.total, names.length, `${identity.displayName}: search total`);
  const count = await who.search('Patient', `identifier=${PID}|&_summary=count`);
  assert.equal(count.resource.total, names.length, `${identity.displayName}: _summary=count`);
  for (const [name, id] of Object.entries(ids)) {
    const r = await who.read('Patient', id);
    const v = await who.vread('Patient', id, '1');
    if (names.includes(name)) {
      assert.equal(r.status, 200, `${identity.displayName}: read ${name}`);
      assert.equal(v.status, 200, `${identity.displayName}: vread ${name}`);
    } else {
      assertRefused(r, /^Not allowed to read Patient\//, `${identity.displayName}: read ${name}`);
      assertRefused(v, /^Not allowed to read Patient\//, `${identity.displayName}: vread ${name}`);
    }
  }
  const h = await who.history('Patient');
  assert.equal(h.status, 200);
  const known = new Set(Object.values(ids));
  const historyIds = [...new Set((h.resource.entry ?? []).map((e: any) => e.resource?.id ?? e.request?.url?.split('/')[1]))].filter((id) => known.has(id as string)).sort();
  assert.deepEqual(historyIds, visible(names), `${identity.displayName}: history entries`);
  assert.equal(h.resource.total, h.resource.entry.length, `${identity.displayName}: history total`);
}

test('tags decide who reads: local and practitioner all, remote ALL + own ORGANIZATION + ROLE via affiliation', async () => {
  await assertSees(local, ['all', 'local', 'orgA', 'orgB', 'role']);
  await assertSees(practitioner, ['all', 'local', 'orgA', 'orgB', 'role']);
  await assertSees(remoteA, ['all', 'orgA', 'role']);
  await assertSees(remoteB, ['all', 'orgB']);
});

test('a search filtered for a remote identity still uses the search index (EXPLAIN)', async () => {
  const req = parseSearchRequest('Patient', [['identifier', `${PID}|all`]], { strict: true, defaultCount: 20 });
  const p = new SqlParams();
  const where = buildWhere(req, site.baseUrl, p, accessConditions(readAccessFilter(remoteA, siteOf(site.server.config)), p));
  const plan = await site.db.pool.query(`EXPLAIN SELECT r.resource FROM resources r WHERE ${where} ORDER BY r.last_updated, r.id LIMIT 20`, p.values);
  const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(text, /Index (Only )?Scan using search_index_\w+ on search_index/);
  assert.doesNotMatch(text, /Seq Scan on resources r\b/);
});

test('canRead answers for one version as the filter does (used for websocket events)', async () => {
  const remote = readAccessFilter(remoteB, siteOf(site.server.config));
  assert.equal(await canRead(site.server.pool, remote, ids.all!, 1), true);
  assert.equal(await canRead(site.server.pool, remote, ids.local!, 1), false);
  assert.equal(await canRead(site.server.pool, remote, ids.orgB!, 1), true);
  assert.equal(await canRead(site.server.pool, readAccessFilter(remoteA, siteOf(site.server.config)), ids.orgB!, 1), false);
});

test('_include and _revinclude leave out what the caller may not read', async () => {
  const L = as(site, local);
  const hiddenOrg = await L.create({ resourceType: 'Organization', meta: { ...tagLocal(), profile: [PARENT_PROFILE] }, identifier: [{ system: ORG_ID, value: 'hidden.test' }], active: true });
  assert.equal(hiddenOrg.status, 201, hiddenOrg.message);
  const endpoint = (tag: object, id: string, org: string) => ({
    resourceType: 'Endpoint',
    meta: tag,
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: id }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: `Organization/${org}` },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: `https://${id}/fhir`,
  });
  const visibleEp = await L.create(endpoint(tagAll(), 'visible-ep.test', hiddenOrg.resource.id));
  const hiddenEp = await L.create(endpoint(tagLocal(), 'hidden-ep.test', hiddenOrg.resource.id));
  assert.equal(visibleEp.status, 201, visibleEp.message);
  assert.equal(hiddenEp.status, 201, hiddenEp.message);

  const inc = await as(site, remoteB).search('Endpoint', `identifier=visible-ep.test&_include=Endpoint:organization`);
  assert.deepEqual(matchIds(inc.resource), [visibleEp.resource.id]);
  assert.deepEqual(includeIds(inc.resource), [], 'the LOCAL Organization is not included for a remote caller');
  const incLocal = await L.search('Endpoint', `identifier=visible-ep.test&_include=Endpoint:organization`);
  assert.deepEqual(includeIds(incLocal.resource), [hiddenOrg.resource.id]);

  const a = await organizationByIdentifier(site, 'remote-a.test');
  const rev = await as(site, remoteB).search('Organization', `_id=${a.organization.id}&_revinclude=Endpoint:organization`);
  assert.deepEqual(includeIds(rev.resource), [a.endpoint!.id]);
  const revHidden = await as(site, remoteB).search('Endpoint', `organization=Organization/${hiddenOrg.resource.id}`);
  assert.deepEqual(matchIds(revHidden.resource), [visibleEp.resource.id]);
  assert.equal(revHidden.resource.total, 1);
});

test('batch entries are filtered like single requests', async () => {
  const r = await as(site, remoteB).bundle({
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { request: { method: 'GET', url: `Patient/${ids.local}` } },
      { request: { method: 'GET', url: `Patient/${ids.all}` } },
      { request: { method: 'GET', url: `Patient?identifier=${PID}|` } },
    ],
  });
  assert.equal(r.status, 200);
  const [hidden, shown, search] = r.resource.entry;
  assert.equal(hidden.response.status, '403 Forbidden');
  assert.match(hidden.response.outcome.issue[0].diagnostics, /Not allowed to read Patient\//);
  assert.match(shown.response.status, /^200/);
  assert.equal(search.resource.total, 2);
});

test('Binary reads through its securityContext', async () => {
  const L = as(site, local);
  const data = Buffer.from('secret').toString('base64');
  const bin = await L.create({ resourceType: 'Binary', contentType: 'text/plain', data, securityContext: { reference: `Patient/${ids.orgA}` } });
  assert.equal(bin.status, 201, bin.message);
  assert.equal((await as(site, remoteA).read('Binary', bin.resource.id)).status, 200);
  assertRefused(await as(site, remoteB).read('Binary', bin.resource.id), /^Not allowed to read Binary\//, 'remote B');
  assert.deepEqual(matchIds((await as(site, remoteB).search('Binary', '')).resource), []);
  assert.deepEqual(matchIds((await as(site, remoteA).search('Binary', '')).resource), [bin.resource.id]);

  const both = await L.create({ resourceType: 'Binary', meta: tagAll(), contentType: 'text/plain', data, securityContext: { reference: `Patient/${ids.orgA}` } });
  // The Binary profile's constraint answers first (422); the authorization rule would say 403.
  assert.ok([403, 422].includes(both.status), both.message);
  assert.match(both.message!, /not both/);
  const neither = await L.create({ resourceType: 'Binary', contentType: 'text/plain', data });
  assert.ok([403, 422].includes(neither.status), neither.message);
  const taskContext = await L.create({ resourceType: 'Binary', contentType: 'text/plain', data, securityContext: { reference: 'Task/6f1e4c8a-1d2b-4c3d-8e9f-0a1b2c3d4e5f' } });
  assertRefused(taskContext, /^Binary create: a Task cannot be a Binary's security context/, 'Task as security context');
  const notAnId = await L.create({ resourceType: 'Binary', contentType: 'text/plain', data, securityContext: { reference: 'Patient/not-a-uuid' } });
  assertRefused(notAnId, /^Binary create: Binary.securityContext Patient\/not-a-uuid does not exist/, 'not an id');
  assert.equal((await L.search('Binary', '_summary=count')).resource.total, 1, 'nothing else stored');
});

test('tag validity: refused writes are 403 and store nothing', async () => {
  const L = as(site, local);
  const before = (await L.search('Patient', `identifier=${PID}|&_summary=count`)).resource.total;
  const cases: [string, object, RegExp][] = [
    ['no tag', { profile: ['http://dsf.dev/fhir/StructureDefinition/patient'] }, /no read-access tag/],
    ['ALL and LOCAL', { tag: [{ system: RAT, code: 'ALL' }, { system: RAT, code: 'LOCAL' }] }, /exactly one ALL/],
    ['two LOCAL', { tag: [{ system: RAT, code: 'LOCAL' }, { system: RAT, code: 'LOCAL' }] }, /exactly one ALL/],
    ['ORGANIZATION without LOCAL', { tag: [organizationTag('remote-a.test')] }, /exactly one ALL/],
    ['unknown organization', { tag: [...tagLocal().tag, organizationTag('nowhere.test')] }, /organization 'nowhere.test', which does not exist/],
    ['unknown role', { tag: [...tagLocal().tag, roleTag('consortium.test', 'NOPE')] }, /role .*\|NOPE, which no CodeSystem defines/],
    ['unknown parent', { tag: [...tagLocal().tag, roleTag('nowhere.test', 'DIC')] }, /parent organization 'nowhere.test', which does not exist/],
  ];
  for (const [name, meta, reason] of cases) {
    const r = await L.create(patient(`bad-${name}`, meta));
    // The DSF profiles already require a read-access tag (422); the tag rules themselves answer 403.
    assert.ok(r.status === 403 || r.status === 422, `${name}: ${r.status} ${r.message}`);
    if (name.startsWith('unknown')) assert.equal(r.status, 403, `${name}: ${r.message}`);
    if (r.status === 403) assertRefused(r, new RegExp(`^Patient create: invalid read-access tags: .*${reason.source}`), name);
  }
  assert.equal((await L.search('Patient', `identifier=${PID}|&_summary=count`)).resource.total, before);
});

test('the tag rules themselves (behind the profiles): counts, combinations, extensions, existence', async () => {
  const checks = storeExistenceChecks(site.server.pool);
  const problem = (tag: object[]) => readAccessTagProblem({ resourceType: 'Patient', meta: { tag } } as any, checks);
  const local = { system: RAT, code: 'LOCAL' };
  const all = { system: RAT, code: 'ALL' };
  assert.equal(await problem([all]), undefined);
  assert.equal(await problem([local]), undefined);
  assert.equal(await problem([local, organizationTag('remote-a.test'), roleTag('consortium.test', 'DIC')]), undefined);
  assert.match(String(await problem([])), /no read-access tag/);
  assert.match(String(await problem([all, local])), /exactly one ALL/);
  assert.match(String(await problem([all, all])), /exactly one ALL/);
  assert.match(String(await problem([local, local])), /exactly one ALL/);
  assert.match(String(await problem([organizationTag('remote-a.test')])), /exactly one ALL/);
  assert.match(String(await problem([all, organizationTag('remote-a.test')])), /exactly one ALL/);
  assert.match(String(await problem([local, { system: RAT, code: 'ORGANIZATION' }])), /extension-read-access-organization/);
  assert.match(String(await problem([local, organizationTag('nowhere.test')])), /does not exist/);
  assert.match(String(await problem([local, roleTag('consortium.test', 'NOPE')])), /no CodeSystem defines/);
  assert.match(String(await problem([local, roleTag('nowhere.test', 'DIC')])), /does not exist/);
  assert.match(String(await problem([local, { system: RAT, code: 'ROLE', extension: [] }])), /parent-organization-role/);
});

test('only local identities write tagged resources; roles are checked per interaction', async () => {
  const remote = as(site, remoteA);
  const created = await remote.create(patient('remote-write', tagAll()));
  assert.equal(created.status, 403);
  assert.match(created.message!, /lacks the role CREATE for Patient/);
  const current = (await as(site, local).read('Patient', ids.all!)).resource;
  assertRefused(await remote.update({ ...current, active: false }), /lacks the role UPDATE for Patient/, 'remote update');
  assertRefused(await remote.delete('Patient', ids.all!), /lacks the role DELETE for Patient/, 'remote delete');
  assertRefused(await as(site, practitioner).create(patient('practitioner-write', tagAll())), /lacks the role CREATE for Patient/, 'practitioner create');
  assertRefused(await as(site, practitioner).delete('Patient', ids.all!), /lacks the role DELETE for Patient/, 'practitioner delete');
  assert.equal((await as(site, local).read('Patient', ids.all!)).resource.meta.versionId, '1', 'nothing changed');

  // a remote identity that somehow holds CREATE on Patient is still not local
  const remoteWithCreate: Identity = { ...remoteA, roles: new Map([...remoteA.roles, ['CREATE', 'all']]) };
  const r = await as(site, remoteWithCreate).create(patient('remote-write-2', tagAll()));
  assertRefused(r, /^Patient create: only local identities may write Patient resources/, 'remote with CREATE');

  const noSearch: Identity = { ...remoteA, roles: new Map([['READ', 'all']]) };
  assertRefused(await as(site, noSearch).search('Patient', ''), /lacks the role SEARCH for Patient/, 'search');
  assertRefused(await as(site, noSearch).history('Patient'), /lacks the role HISTORY for Patient/, 'history');
  const readOnlyTasks: Identity = { ...remoteA, roles: new Map<DsfRole, RoleGrant>([['READ', new Set(['Task'])], ['SEARCH', 'all']]) };
  assertRefused(await as(site, readOnlyTasks).read('Patient', ids.all!), /lacks the role READ for Patient/, 'read');
  assert.equal((await as(site, readOnlyTasks).search('Patient', `identifier=${PID}|`)).resource.total, 0);
});

test('$permanent-delete needs PERMANENT_DELETE and a local identity', async () => {
  const L = as(site, local);
  const p = await L.create(patient('to-delete', tagAll()));
  assert.equal((await L.delete('Patient', p.resource.id)).status, 200);
  const admin: Identity = { ...practitioner, roles: new Map([['DELETE', 'all']]) };
  assertRefused(await as(site, admin).permanentDelete('Patient', p.resource.id), /lacks the role PERMANENT_DELETE for Patient/, 'without the role');
  assertRefused(await as(site, remoteA).permanentDelete('Patient', p.resource.id), /lacks the role PERMANENT_DELETE for Patient/, 'remote');
  const remoteWithRole: Identity = { ...remoteA, roles: new Map([['PERMANENT_DELETE', 'all']]) };
  assertRefused(await as(site, remoteWithRole).permanentDelete('Patient', p.resource.id), /^Permanent delete: only local identities/, 'remote with the role');
  assert.equal((await L.permanentDelete('Patient', p.resource.id)).status, 200);
});

test('history hides versions the caller may not read, also after a tag change', async () => {
  const L = as(site, local);
  const p = await L.create(patient('history', tagAll()));
  const v1 = p.resource;
  const v2 = await L.update({ ...v1, meta: tagLocal() });
  assert.equal(v2.status, 200, v2.message);
  const remote = await as(site, remoteB).history('Patient', v1.id);
  assert.equal(remote.status, 200, 'as the reference: the versions the caller may read, not 403');
  assert.deepEqual(remote.resource.entry.map((e: any) => e.resource.meta.versionId), ['1']);
  assert.equal(remote.resource.total, 1);
  const typeHistory = await as(site, remoteB).history('Patient', undefined, '_count=100');
  const versions = typeHistory.resource.entry.filter((e: any) => e.resource?.id === v1.id).map((e: any) => e.resource.meta.versionId);
  assert.deepEqual(versions, ['1'], 'version 1 (ALL) is shown, version 2 (LOCAL) is not');
  assert.equal(typeHistory.resource.total, typeHistory.resource.entry.length);
  const systemHistory = await as(site, remoteB).history(undefined, undefined, '_count=1000');
  assert.ok(!systemHistory.resource.entry.some((e: any) => e.resource?.id === v1.id && e.resource.meta.versionId === '2'));
  assert.equal((await as(site, remoteB).vread('Patient', v1.id, '1')).status, 200);
  assertRefused(await as(site, remoteB).vread('Patient', v1.id, '2'), /^Not allowed to read Patient\//, 'version 2');
});

test('membership changes take effect at once: affiliation deleted, organisation deactivated', async () => {
  const L = as(site, local);
  assert.equal((await as(site, remoteA).read('Patient', ids.role!)).status, 200);
  assert.equal((await L.delete('OrganizationAffiliation', affiliationId)).status, 200);
  assertRefused(await as(site, remoteA).read('Patient', ids.role!), /^Not allowed to read Patient\//, 'after the affiliation is gone');
  await assertSees(remoteA, ['all', 'orgA']);

  const b = (await L.read('Organization', remoteB.organization.id!)).resource;
  const deactivated = await L.update({ ...b, active: false });
  assert.equal(deactivated.status, 200, deactivated.message);
  // the identity object is stale (still says active); the database decides
  assertRefused(await as(site, remoteB).read('Patient', ids.orgB!), /^Not allowed to read Patient\//, 'deactivated organisation');
  assert.equal((await as(site, remoteB).read('Patient', ids.all!)).status, 200);
});
