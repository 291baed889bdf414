import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { activityDefinition, coding } from '../auth/process-fixtures.ts';

let site: TestSite;
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
let orgA: any, orgB: any, epA: any;

const PARENT = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';
const BPMN = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';

/** A plugin-style Task profile deriving from DSF's task profile. */
const taskProfile = (version: string) => ({
  resourceType: 'StructureDefinition',
  meta: TAG_ALL,
  url: 'http://dsf.dev/fhir/StructureDefinition/task-test',
  version,
  name: 'TaskTest',
  date: '2024-01-01',
  status: 'active',
  kind: 'resource',
  abstract: false,
  type: 'Task',
  baseDefinition: 'http://dsf.dev/fhir/StructureDefinition/task',
  derivation: 'constraint',
  differential: { element: [{ id: 'Task.instantiatesCanonical', path: 'Task.instantiatesCanonical', fixedCanonical: 'http://dsf.dev/bpe/Process/test|1.0' }] },
});

before(async () => {
  site = await startTestSite();
  const c = site.client;
  orgA = await c.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: [PARENT] }, identifier: [{ system: ORG_ID, value: 'search-a.test' }], name: 'Universitätsklinikum Alpha', active: true });
  orgB = await c.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: [PARENT] }, identifier: [{ system: ORG_ID, value: 'search-b.test' }], name: 'Beta Research', alias: ['Beta Alias'], active: false });
  epA = await c.create({ resourceType: 'Endpoint', meta: TAG_ALL, status: 'active', address: 'https://a.test/fhir', identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'ep-a' }], managingOrganization: { reference: `Organization/${orgA.id}` }, connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' }, payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }], payloadMimeType: ['application/fhir+json', 'application/fhir+xml'] });
  const upd = await c.put(`/Organization/${orgA.id}`, { ...orgA, endpoint: [{ reference: `Endpoint/${epA.id}` }] });
  assert.equal(upd.status, 200, upd.body);
  for (const v of ['1.0', '1.1']) await c.create(taskProfile(v));
  // Task.instantiatesCanonical must name a stored ActivityDefinition (reference check).
  await c.create(activityDefinition('test', [coding.remoteAll()], [coding.localAll()]));
  // Tasks from other organisations in several states: stored by the server's own (identity-less)
  // path, since no caller may create completed Tasks or Tasks requested by someone else.
  const storeTask = (task: any) => site.server.store.transaction((tx) => site.server.service.create({ strict: true }, tx, 'Task', task));
  for (let i = 0; i < 25; i++) {
    await storeTask({
      resourceType: 'Task',
      meta: { profile: [`http://dsf.dev/fhir/StructureDefinition/task-test|1.${i % 2}`] },
      instantiatesCanonical: 'http://dsf.dev/bpe/Process/test|1.0',
      status: i % 2 ? 'requested' : 'completed',
      intent: 'order',
      authoredOn: `2024-01-${String(i + 1).padStart(2, '0')}T10:00:00Z`,
      requester: { type: 'Organization', identifier: { system: ORG_ID, value: i % 3 ? 'search-a.test' : 'search-b.test' } },
      restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_ID, value: 'test-organization.test' } }] },
      input: [
        { type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: 'test' },
        { type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: `bk-${i}` },
      ],
    });
  }
});
after(() => site?.stop());

const ids = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id);

test('token search with system|code, code only, and :not', async () => {
  const a = await site.client.get(`/Organization?identifier=${ORG_ID}|search-a.test`);
  assert.deepEqual(ids(a.json), [orgA.id]);
  const codeOnly = await site.client.get('/Organization?identifier=search-b.test');
  assert.deepEqual(ids(codeOnly.json), [orgB.id]);
  const active = await site.client.get('/Organization?active=true');
  assert.ok(ids(active.json).includes(orgA.id) && !ids(active.json).includes(orgB.id));
  const notActive = await site.client.get('/Organization?active:not=true');
  assert.ok(ids(notActive.json).includes(orgB.id) && !ids(notActive.json).includes(orgA.id));
});

test('string search: starts-with ignoring case and accents, :exact, :contains, alias', async () => {
  assert.deepEqual(ids((await site.client.get('/Organization?name=universitatsk')).json), [orgA.id]);
  assert.deepEqual(ids((await site.client.get('/Organization?name:exact=Beta Research')).json), [orgB.id]);
  assert.deepEqual(ids((await site.client.get('/Organization?name:exact=beta research')).json), []);
  assert.deepEqual(ids((await site.client.get('/Organization?name:contains=research')).json), [orgB.id]);
  assert.deepEqual(ids((await site.client.get('/Organization?name=beta alias')).json), [orgB.id]);
});

test('comma is OR, repeated parameter is AND', async () => {
  const or = await site.client.get('/Organization?identifier=search-a.test,search-b.test');
  assert.equal(or.json.total, 2);
  const and = await site.client.get('/Organization?identifier=search-a.test&identifier=search-b.test');
  assert.equal(and.json.total, 0);
});

test('reference search by id, Type/id and :identifier', async () => {
  assert.deepEqual(ids((await site.client.get(`/Endpoint?organization=${orgA.id}`)).json), [epA.id]);
  assert.deepEqual(ids((await site.client.get(`/Endpoint?organization=Organization/${orgA.id}`)).json), [epA.id]);
  const byIdentifier = await site.client.get(`/Task?requester:identifier=${ORG_ID}|search-b.test&_count=100`);
  assert.equal(byIdentifier.json.total, 9);
});

test('date search with prefixes and _lastUpdated', async () => {
  assert.equal((await site.client.get('/Task?authored-on=2024-01-05')).json.total, 1);
  assert.equal((await site.client.get('/Task?authored-on=ge2024-01-20')).json.total, 6);
  assert.equal((await site.client.get('/Task?authored-on=lt2024-01-03')).json.total, 2);
  assert.equal((await site.client.get('/Task?authored-on=gt2024-01-10&authored-on=le2024-01-12')).json.total, 2);
  assert.equal((await site.client.get('/Task?_lastUpdated=gt2020-01-01')).json.total, 25);
  assert.equal((await site.client.get(`/Task?_lastUpdated=gt${new Date(Date.now() + 60_000).toISOString()}`)).json.total, 0);
});

test('_profile with and without :below', async () => {
  assert.equal((await site.client.get('/Task?_profile=http://dsf.dev/fhir/StructureDefinition/task-test|1.1')).json.total, 12);
  assert.equal((await site.client.get('/Task?_profile:below=http://dsf.dev/fhir/StructureDefinition/task-test')).json.total, 25);
});

test('_id, _count, paging links and total', async () => {
  assert.deepEqual(ids((await site.client.get(`/Organization?_id=${orgA.id}`)).json), [orgA.id]);
  const p1 = await site.client.get('/Task?_count=10&_sort=authored-on');
  assert.equal(p1.json.total, 25);
  assert.equal(p1.json.entry.length, 10);
  const rel = (b: any) => Object.fromEntries(b.link.map((l: any) => [l.relation, l.url]));
  assert.ok(rel(p1.json).next);
  assert.ok(!rel(p1.json).previous);
  assert.match(rel(p1.json).last, /_page=3/);
  const p3 = await site.client.get(rel(p1.json).last);
  assert.equal(p3.json.entry.length, 5);
  assert.ok(rel(p3.json).previous && !rel(p3.json).next);
  const all = [...ids(p1.json), ...ids((await site.client.get(rel(p1.json).next)).json), ...ids(p3.json)];
  assert.equal(new Set(all).size, 25);
  assert.equal(p1.json.entry[0].resource.authoredOn, '2024-01-01T10:00:00Z');
  const desc = await site.client.get('/Task?_count=1&_sort=-authored-on');
  assert.equal(desc.json.entry[0].resource.authoredOn, '2024-01-25T10:00:00Z');
});

test('_summary=count returns only the total', async () => {
  const r = await site.client.get('/Task?status=requested&_summary=count');
  assert.equal(r.json.total, 12);
  assert.equal(r.json.entry, undefined);
});

test('_include and _revinclude', async () => {
  const inc = await site.client.get(`/Endpoint?_id=${epA.id}&_include=Endpoint:organization`);
  const modes = inc.json.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}`);
  assert.deepEqual(modes.sort(), ['include:Organization', 'match:Endpoint']);
  const rev = await site.client.get(`/Organization?_id=${orgA.id}&_revinclude=Endpoint:organization`);
  assert.ok(rev.json.entry.some((e: any) => e.search.mode === 'include' && e.resource.id === epA.id));
  const orgInc = await site.client.get(`/Organization?_id=${orgA.id}&_include=Organization:endpoint`);
  assert.ok(orgInc.json.entry.some((e: any) => e.search.mode === 'include' && e.resource.id === epA.id));
});

test('unknown parameter: lenient ignores it with a warning, strict gives 400', async () => {
  const lenient = await site.client.get('/Organization?foo=bar');
  assert.equal(lenient.status, 200);
  const oo = lenient.json.entry.find((e: any) => e.search?.mode === 'outcome');
  assert.match(oo.resource.issue[0].diagnostics, /foo/);
  const strict = await site.client.get('/Organization?foo=bar', { prefer: 'handling=strict' });
  assert.equal(strict.status, 400);
  assert.equal(strict.json.resourceType, 'OperationOutcome');
  const badDate = await site.client.get('/Task?authored-on=yesterday', { prefer: 'handling=strict' });
  assert.equal(badDate.status, 400);
});

test('common searches use an index (EXPLAIN)', async () => {
  const plan = await site.db.pool.query(
    `EXPLAIN SELECT r.resource FROM resources r WHERE r.type = 'Organization' AND r.current AND NOT r.deleted
     AND EXISTS (SELECT 1 FROM search_index s WHERE s.resource_id = r.id AND s.type = 'Organization' AND s.param = 'identifier' AND s.code = 'x' AND s.system = 'y')`,
  );
  const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(text, /Index (Only )?Scan using search_index_\w+ on search_index/);
  assert.doesNotMatch(text, /Seq Scan/);
});
