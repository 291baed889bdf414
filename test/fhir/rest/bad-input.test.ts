// Every kind of bad input gets an OperationOutcome with the right status, and nothing is stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite({ config: { maxBodyBytes: 64 * 1024 } });
});
after(() => site?.stop());

async function patientCount(): Promise<number> {
  return (await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Patient'")).rows[0].n;
}

async function expectOutcome(p: Promise<{ status: number; json: any; body: string }>, status: number, pattern?: RegExp) {
  const r = await p;
  assert.equal(r.status, status, r.body);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.body);
  if (pattern) assert.match(JSON.stringify(r.json.issue), pattern);
}

test('malformed JSON: 400', async () => {
  const before = await patientCount();
  await expectOutcome(site.client.post('/Patient', '{"resourceType": "Patient", '), 400);
  assert.equal(await patientCount(), before);
});

test('malformed XML: 400, and a DOCTYPE is refused', async () => {
  const before = await patientCount();
  await expectOutcome(site.client.post('/Patient', '<Patient xmlns="http://hl7.org/fhir"><active value="true"/>', { 'content-type': 'application/fhir+xml' }), 400);
  await expectOutcome(
    site.client.post('/Patient', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>', { 'content-type': 'application/fhir+xml' }),
    400,
  );
  assert.equal(await patientCount(), before);
});

test('wrong resource type in the body: 400', async () => {
  await expectOutcome(site.client.post('/Patient', { resourceType: 'Organization', name: 'x' }), 400, /does not match/);
  assert.equal((await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Organization' AND resource->>'name' = 'x'")).rows[0].n, 0);
});

test('unknown resource type: 404', async () => {
  await expectOutcome(site.client.post('/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 404, /not supported/);
  await expectOutcome(site.client.get('/Foo'), 404);
});

test('id mismatch between URL and body: 400; update without id: 400', async () => {
  const c = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  await expectOutcome(site.client.put(`/Patient/${c.id}`, { ...c, id: '11111111-2222-4333-8444-555555555555' }), 400, /does not match/);
  const { id: _id, ...noId } = c;
  await expectOutcome(site.client.put(`/Patient/${c.id}`, noId), 400);
  assert.equal((await site.client.get(`/Patient/${c.id}`)).json.meta.versionId, '1');
});

test('oversized body: 413', async () => {
  const before = await patientCount();
  const big = { resourceType: 'Patient', name: [{ text: 'x'.repeat(100 * 1024) }] };
  await expectOutcome(site.client.post('/Patient', big), 413);
  assert.equal(await patientCount(), before);
});

test('unsupported content type: 415; empty body: 400', async () => {
  await expectOutcome(site.client.post('/Patient', 'active=true', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
  await expectOutcome(site.client.request('POST', '/Patient', undefined, { 'content-type': 'application/fhir+json' }), 400);
});

test('not JSON object / no resourceType: 400', async () => {
  await expectOutcome(site.client.post('/Patient', '[1,2,3]'), 400);
  await expectOutcome(site.client.post('/Patient', '{"active": true}'), 400);
});

test('unknown element: 400 with its location, nothing stored', async () => {
  const before = await patientCount();
  await expectOutcome(site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL, activ: true }), 400, /activ/);
  assert.equal(await patientCount(), before);
});

test('unknown id: 404; malformed version: 404; PATCH: 405; GET on base: 405', async () => {
  await expectOutcome(site.client.get('/Patient/11111111-2222-4333-8444-555555555555'), 404);
  await expectOutcome(site.client.get('/Patient/not-a-uuid'), 404);
  const c = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  await expectOutcome(site.client.get(`/Patient/${c.id}/_history/x`), 404);
  await expectOutcome(site.client.get(`/Patient/${c.id}/_history/7`), 404);
  await expectOutcome(site.client.request('PATCH', `/Patient/${c.id}`, '[]', { 'content-type': 'application/json-patch+json' }), 405);
  await expectOutcome(site.client.get('/'), 405);
});

test('malformed If-Match: 400; invalid _count under strict handling: 400', async () => {
  const c = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  await expectOutcome(site.client.put(`/Patient/${c.id}`, c, { 'if-match': 'banana' }), 400);
  await expectOutcome(site.client.get('/Patient?_count=-1', { prefer: 'handling=strict' }), 400);
  await expectOutcome(site.client.get('/Patient/_history?_since=yesterday'), 400);
});

test('a failing transaction entry rolls back every entry', async () => {
  const before = await patientCount();
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:a1', resource: { resourceType: 'Patient', meta: TAG_ALL, active: true }, request: { method: 'POST', url: 'Patient' } },
      { fullUrl: 'urn:uuid:a2', resource: { resourceType: 'Patient', meta: TAG_ALL, active: true }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', meta: TAG_ALL, id: '11111111-2222-4333-8444-555555555555', active: true }, request: { method: 'PUT', url: 'Patient/11111111-2222-4333-8444-555555555555' } },
    ],
  };
  // 400 as the reference answers a failed transaction (the entry alone would be 405)
  await expectOutcome(site.client.post('/', bundle), 400, /entry\[2\].*update as create is not allowed/);
  assert.equal(await patientCount(), before);
});

test('a batch answers entry by entry', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: { resourceType: 'Patient', meta: TAG_ALL, active: true }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: 'Patient/11111111-2222-4333-8444-555555555555' } },
      { resource: { resourceType: 'Organization', name: 'batch' }, request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const r = await site.client.post('/', bundle);
  assert.equal(r.status, 200);
  assert.equal(r.json.type, 'batch-response');
  assert.deepEqual(r.json.entry.map((e: any) => e.response.status.slice(0, 3)), ['201', '404', '400']);
  assert.equal(r.json.entry[1].response.outcome.resourceType, 'OperationOutcome');
});

test('a Bundle of another type posted to the base: 400', async () => {
  await expectOutcome(site.client.post('/', { resourceType: 'Bundle', type: 'collection' }), 400, /batch or transaction/);
});
