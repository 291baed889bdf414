import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite({ config: { statusHost: '127.0.0.1', statusPort: 0 } });
});
after(() => site?.stop());

const get = async (path: string) => {
  const r = await fetch(`${site.server.status!.url}${path}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
};

test('GET /status on the status port: 200 with the server facts, plain HTTP, no certificate', async () => {
  const r = await get('/status');
  assert.equal(r.status, 200);
  const body = JSON.parse(r.text);
  assert.equal(body.status, 'ok');
  assert.equal(body.server, 'fhir');
  assert.equal(body.baseUrl, site.baseUrl);
  // With the context path too, as the reference serves it.
  assert.equal((await get('/fhir/status')).status, 200);
  assert.equal((await get('/other')).status, 404);
  const post = await fetch(`${site.server.status!.url}/status`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('GET /metrics after traffic: requests by method, route pattern and status with durations, the pool, websocket clients', async () => {
  const created = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  await site.client.get(`/Patient/${created.id}`);
  await site.client.get(`/Patient/${created.id}`);
  await site.client.get('/Patient/00000000-0000-4000-8000-000000000000');
  await site.client.get('/Patient?active=true');
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain/);
  const line = (re: RegExp) => r.text.split('\n').find((l) => re.test(l));
  const count = (method: string, route: string, status: number) =>
    Number(line(new RegExp(`^dsf_fhir_http_request_duration_seconds_count\\{method="${method}",route="${route.replace(/[/:]/g, (c) => `\\${c}`)}",status="${status}"\\} `))?.split(' ')[1]);
  assert.equal(count('POST', '/fhir/:type', 201), 1);
  assert.equal(count('GET', '/fhir/:type/:id', 200), 2);
  assert.equal(count('GET', '/fhir/:type/:id', 404), 1);
  assert.ok(line(/^dsf_fhir_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/fhir\/:type"/), 'a histogram of the search route');
  assert.ok(!r.text.includes('active=true'), 'no URL or search value in the metrics');
  assert.ok(Number(line(/^dsf_fhir_db_pool_connections_total /)?.split(' ')[1]) >= 1);
  assert.ok(line(/^dsf_fhir_db_pool_connections_idle /));
  assert.equal(line(/^dsf_fhir_db_pool_requests_waiting /), 'dsf_fhir_db_pool_requests_waiting 0');
  assert.equal(line(/^dsf_fhir_websocket_clients /), 'dsf_fhir_websocket_clients 0');
  assert.ok(line(/^dsf_fhir_process_cpu_user_seconds_total /), 'process metrics');
  // Creates written together: counted (none here, one create at a time).
  assert.equal(line(/^dsf_fhir_write_groups_total /), 'dsf_fhir_write_groups_total 0');
  assert.equal(line(/^dsf_fhir_write_group_members_total /), 'dsf_fhir_write_group_members_total 0');
  assert.equal(line(/^dsf_fhir_write_group_fallbacks_total /), 'dsf_fhir_write_group_fallbacks_total 0');
});
