// A search page and its total come from one statement (store/search-query.ts); the total must stay
// exact on every page, also past the last match, and includes come in one statement for all parameters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

test('total is exact on the first, the last and a page past the last match; links follow it', async () => {
  for (let i = 0; i < 5; i++) await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/total', value: 'x' }], active: true });
  const q = '/Patient?identifier=http://example.org/total|x&_count=2';
  const first = await site.client.get(q);
  assert.equal(first.json.total, 5);
  assert.equal(first.json.entry.length, 2);
  assert.ok(first.json.link.some((l: any) => l.relation === 'next'));
  const last = await site.client.get(`${q}&_page=3`);
  assert.equal(last.json.total, 5);
  assert.equal(last.json.entry.length, 1);
  assert.ok(!last.json.link.some((l: any) => l.relation === 'next'));
  const past = await site.client.get(`${q}&_page=7`);
  assert.equal(past.status, 200);
  assert.equal(past.json.total, 5);
  assert.equal(past.json.entry?.length ?? 0, 0);
  const none = await site.client.get('/Patient?identifier=http://example.org/total|nothing');
  assert.equal(none.json.total, 0);
  const count = await site.client.get('/Patient?identifier=http://example.org/total|x&_summary=count');
  assert.equal(count.json.total, 5);
});

test('_include and _revinclude of several parameters in one statement: each included resource once', async () => {
  const org = (await site.client.get('/Organization?identifier=http://dsf.dev/sid/organization-identifier|test-organization.test')).json.entry[0].resource;
  const endpoint = (await site.client.get(`/Endpoint?organization=Organization/${org.id}`)).json.entry[0].resource;
  assert.equal(org.endpoint[0].reference, `Endpoint/${endpoint.id}`);
  // The endpoint is the organisation's endpoint (include) and names it as managing organisation (revinclude).
  const r = await site.client.get(`/Organization?identifier=http://dsf.dev/sid/organization-identifier|test-organization.test&_include=Organization:endpoint&_revinclude=Endpoint:organization&_revinclude=Organization:partof`);
  assert.equal(r.status, 200, r.body);
  const of = (mode: string) => r.json.entry.filter((e: any) => e.search.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
  assert.deepEqual(of('match'), [`Organization/${org.id}`]);
  assert.deepEqual(of('include'), [`Endpoint/${endpoint.id}`]);
  assert.equal(r.json.total, 1);
});
