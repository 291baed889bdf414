import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const patient = (id: string): any => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/pid', value: id }], active: true });

test('create returns 201 with Location, ETag and Last-Modified; read returns the resource', async () => {
  const r = await site.client.post('/Patient', patient('p1'));
  assert.equal(r.status, 201);
  assert.match(String(r.headers.location), new RegExp(`^${site.baseUrl}/Patient/[0-9a-f-]{36}/_history/1$`));
  assert.equal(r.headers.etag, 'W/"1"');
  assert.ok(r.headers['last-modified']);
  assert.equal(r.json.meta.versionId, '1');
  const read = await site.client.get(`/Patient/${r.json.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.json.identifier, patient('p1').identifier);
  assert.equal(read.headers.etag, 'W/"1"');
});

test('update with If-Match: current version succeeds, a stale one gives 412 and stores nothing', async () => {
  const created = await site.client.create(patient('p2'));
  const ok = await site.client.put(`/Patient/${created.id}`, { ...created, active: false }, { 'if-match': 'W/"1"' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.meta.versionId, '2');
  const stale = await site.client.put(`/Patient/${created.id}`, { ...created, active: true }, { 'if-match': 'W/"1"' });
  assert.equal(stale.status, 412);
  assert.equal(stale.json.resourceType, 'OperationOutcome');
  const read = await site.client.get(`/Patient/${created.id}`);
  assert.equal(read.json.active, false);
  assert.equal(read.json.meta.versionId, '2');
});

test('update as create is refused with 405', async () => {
  const id = '0b7c6f4e-8f0e-4a55-9d52-3c1c2d1f0a11';
  const r = await site.client.put(`/Patient/${id}`, { ...patient('p3'), id });
  assert.equal(r.status, 405);
  assert.equal((await site.client.get(`/Patient/${id}`)).status, 404);
});

test('vread, delete then 410, history with POST/PUT/DELETE entries', async () => {
  const c = await site.client.create(patient('p4'));
  await site.client.put(`/Patient/${c.id}`, { ...c, active: false });
  const v1 = await site.client.get(`/Patient/${c.id}/_history/1`);
  assert.equal(v1.status, 200);
  assert.equal(v1.json.active, true);
  const del = await site.client.delete(`/Patient/${c.id}`);
  assert.equal(del.status, 200);
  assert.equal((await site.client.get(`/Patient/${c.id}`)).status, 410);
  const h = await site.client.get(`/Patient/${c.id}/_history`);
  assert.equal(h.status, 200);
  assert.equal(h.json.type, 'history');
  assert.equal(h.json.total, 3);
  assert.deepEqual(
    h.json.entry.map((e: any) => e.request.method),
    ['DELETE', 'PUT', 'POST'],
  );
});

test('$permanent-delete needs a deleted resource and then removes every version', async () => {
  const c = await site.client.create(patient('p5'));
  const early = await site.client.post(`/Patient/${c.id}/$permanent-delete`, undefined);
  assert.equal(early.status, 400, 'as the reference: the resource is not marked deleted');
  assert.match(early.json.issue[0].diagnostics, /not marked deleted/);
  await site.client.delete(`/Patient/${c.id}`);
  const r = await site.client.post(`/Patient/${c.id}/$permanent-delete`, undefined);
  assert.equal(r.status, 200);
  assert.equal((await site.client.get(`/Patient/${c.id}`)).status, 404);
  assert.equal((await site.client.get(`/Patient/${c.id}/_history/1`)).status, 404);
});

test('conditional create: 0 matches creates, 1 match returns 200 with Location, 2 matches 412', async () => {
  const h = { 'if-none-exist': 'identifier=http://example.org/pid|cc1' };
  const first = await site.client.post('/Patient', patient('cc1'), h);
  assert.equal(first.status, 201);
  const second = await site.client.post('/Patient', patient('cc1'), h);
  assert.equal(second.status, 200);
  assert.equal(second.headers.location, first.headers.location);
  await site.client.create({ ...patient('cc2') });
  await site.client.create({ ...patient('cc2') });
  const third = await site.client.post('/Patient', patient('cc2'), { 'if-none-exist': 'identifier=http://example.org/pid|cc2' });
  assert.equal(third.status, 412);
});

test('concurrent conditional creates store exactly one resource', async () => {
  const h = { 'if-none-exist': 'identifier=http://example.org/pid|race' };
  const results = await Promise.all(Array.from({ length: 8 }, () => site.client.post('/Patient', patient('race'), h)));
  assert.equal(results.filter((r) => r.status === 201).length, 1);
  assert.equal(results.filter((r) => r.status === 200).length, 7);
  const s = await site.client.get('/Patient?identifier=http://example.org/pid|race');
  assert.equal(s.json.total, 1);
});

test('conditional update: 0 matches creates, 1 updates, >1 is 412; an id with no match is 405', async () => {
  const q = '/Patient?identifier=http://example.org/pid|cu1';
  const created = await site.client.put(q, patient('cu1'));
  assert.equal(created.status, 201);
  const updated = await site.client.put(q, { ...patient('cu1'), active: false });
  assert.equal(updated.status, 200);
  assert.equal(updated.json.id, created.json.id);
  assert.equal(updated.json.meta.versionId, '2');
  const withId = await site.client.put('/Patient?identifier=http://example.org/pid|cu-none', { ...patient('cu-none'), id: '6f7b2a5e-1111-4a55-9d52-3c1c2d1f0a11' });
  assert.equal(withId.status, 405);
  await site.client.create(patient('cu2'));
  await site.client.create(patient('cu2'));
  assert.equal((await site.client.put('/Patient?identifier=http://example.org/pid|cu2', patient('cu2'))).status, 412);
});

test('conditional delete: 0 matches 204, 1 deletes, >1 412', async () => {
  assert.equal((await site.client.delete('/Patient?identifier=http://example.org/pid|cd-none')).status, 204);
  const c = await site.client.create(patient('cd1'));
  assert.equal((await site.client.delete('/Patient?identifier=http://example.org/pid|cd1')).status, 200);
  assert.equal((await site.client.get(`/Patient/${c.id}`)).status, 410);
  await site.client.create(patient('cd2'));
  await site.client.create(patient('cd2'));
  assert.equal((await site.client.delete('/Patient?identifier=http://example.org/pid|cd2')).status, 412);
});

test('If-None-Match and If-Modified-Since give 304', async () => {
  const c = await site.client.create(patient('nm'));
  assert.equal((await site.client.get(`/Patient/${c.id}`, { 'if-none-match': 'W/"1"' })).status, 304);
  assert.equal((await site.client.get(`/Patient/${c.id}`, { 'if-none-match': 'W/"0"' })).status, 200);
  const future = new Date(Date.now() + 60_000).toUTCString();
  assert.equal((await site.client.get(`/Patient/${c.id}`, { 'if-modified-since': future })).status, 304);
  const past = new Date(Date.now() - 3_600_000).toUTCString();
  assert.equal((await site.client.get(`/Patient/${c.id}`, { 'if-modified-since': past })).status, 200);
});

test('Prefer: return=minimal gives no body, return=OperationOutcome an OperationOutcome', async () => {
  const min = await site.client.post('/Patient', patient('pm1'), { prefer: 'return=minimal' });
  assert.equal(min.status, 201);
  assert.equal(min.body, '');
  assert.ok(min.headers.location);
  const oo = await site.client.post('/Patient', patient('pm2'), { prefer: 'return=OperationOutcome' });
  assert.equal(oo.status, 201);
  assert.equal(oo.json.resourceType, 'OperationOutcome');
});

test('metadata is a CapabilityStatement listing the 26 types with their search parameters', async () => {
  const r = await site.client.get('/metadata');
  assert.equal(r.status, 200);
  assert.equal(r.json.resourceType, 'CapabilityStatement');
  assert.equal(r.json.fhirVersion, '4.0.1');
  const types = r.json.rest[0].resource.map((x: any) => x.type);
  assert.equal(types.length, 26);
  const task = r.json.rest[0].resource.find((x: any) => x.type === 'Task');
  assert.ok(task.searchParam.some((p: any) => p.name === 'requester' && p.type === 'reference'));
  assert.equal(task.updateCreate, false);
});
