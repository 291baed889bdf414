// POST [type]/_search with form-encoded parameters: the same answers, and the same read rules, as GET.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
const TAG_LOCAL = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SYSTEM = 'http://example.org/sid/post-search';

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  for (const [value, meta] of [['a', TAG_ALL], ['b', TAG_ALL], ['c', TAG_LOCAL]] as const) {
    await site.client.create({ resourceType: 'Patient', meta, identifier: [{ system: SYSTEM, value }], active: value !== 'b' });
  }
});
after(() => site?.stop());

const ids = (bundle: any) => (bundle.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();

test('form-encoded parameters give the same Bundle as GET', async () => {
  const get = await site.client.get(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}|a,${SYSTEM}|c`)}&_sort=_id`);
  const post = await site.client.post('/Patient/_search', new URLSearchParams({ identifier: `${SYSTEM}|a,${SYSTEM}|c`, _sort: '_id' }).toString(), FORM);
  assert.equal(post.status, 200, post.body);
  assert.equal(post.json.type, 'searchset');
  assert.equal(post.json.total, 2);
  assert.deepEqual(ids(post.json), ids(get.json));
  // Paging links are GET links that repeat the parameters.
  assert.match(post.json.link.find((l: any) => l.relation === 'self').url, /\/Patient\?identifier=.*&_sort=_id&_count=20&_page=1$/);
});

test('parameters in the URL and in the body are combined (AND)', async () => {
  const r = await site.client.post(`/Patient/_search?active=true`, `identifier=${encodeURIComponent(`${SYSTEM}|`)}`, FORM);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.total, 2);
  const empty = await site.client.post('/Patient/_search', '', {});
  assert.equal(empty.status, 200, empty.body);
  assert.ok(empty.json.total >= 3);
});

test('a remote organisation sees by POST exactly what it sees by GET', async () => {
  const remote = site.clientFor('External_Test_Organization');
  const query = `identifier=${encodeURIComponent(`${SYSTEM}|`)}`;
  const get = await remote.get(`/Patient?${query}`);
  const post = await remote.post('/Patient/_search', query, FORM);
  assert.equal(post.status, 200, post.body);
  assert.equal(post.json.total, 2, 'the LOCAL-tagged Patient is not readable remotely');
  assert.deepEqual(ids(post.json), ids(get.json));
  // The same checks as GET apply: an unsupported type is refused.
  const unknown = await remote.post('/Observation/_search', query, FORM);
  assert.equal(unknown.status, 404, unknown.body);
});

test('strict handling, unsupported content types and bad values: 4xx OperationOutcomes', async () => {
  const strict = await site.client.post('/Patient/_search', 'unknown-param=1', { ...FORM, prefer: 'handling=strict' });
  assert.equal(strict.status, 400, strict.body);
  assert.match(strict.json.issue[0].diagnostics, /unknown-param/);
  const lenient = await site.client.post('/Patient/_search', 'unknown-param=1', FORM);
  assert.equal(lenient.status, 200, lenient.body);
  const json = await site.client.post('/Patient/_search', '{"identifier":"x"}', { 'content-type': 'application/fhir+json' });
  assert.equal(json.status, 415, json.body);
  assert.equal(json.json.resourceType, 'OperationOutcome');
  const nul = await site.client.post('/Patient/_search', 'identifier=a%00', FORM);
  assert.equal(nul.status, 400, nul.body);
});
