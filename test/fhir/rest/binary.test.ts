// Binary: raw upload and download (streamed large objects), the FHIR form, ranges and conditional
// headers, versions, deletes, bundles and limits, over real HTTPS against a real database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const MAX_BINARY = 1024 * 1024;
const MAX_BODY = 64 * 1024; // also the inline (base64) limit

let site: TestSite;
let orgRef: string;
before(async () => {
  site = await startTestSite({ config: { maxBinaryBytes: MAX_BINARY, maxBodyBytes: MAX_BODY } });
  const orgs = await site.client.get('/Organization');
  orgRef = `Organization/${orgs.json.entry[0].resource.id}`;
});
after(() => site?.stop());

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  json: any;
}

async function raw(method: string, path: string, opts: { body?: Buffer | Readable; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const r = await site.client.http.stream(`${site.baseUrl}${path}`, { method, headers: opts.headers ?? {}, body: opts.body });
  const parts: Buffer[] = [];
  for await (const c of r.body) parts.push(c as Buffer);
  const bytes = Buffer.concat(parts);
  let json: any;
  if (bytes.length && String(r.headers['content-type'] ?? '').includes('fhir+json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: r.status, headers: r.headers, bytes, json };
}

/** All 256 byte values, twice, plus invalid UTF-8 sequences. */
const SAMPLE = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]);

function upload(body: Buffer | Readable, headers: Record<string, string> = {}, method = 'POST', path = '/Binary'): Promise<RawResponse> {
  return raw(method, path, { body, headers: { 'content-type': 'application/pdf', 'x-security-context': orgRef, accept: 'application/fhir+json', ...headers } });
}

async function counts(): Promise<{ lo: number; content: number; binaries: number }> {
  const q = (sql: string) => site.server.pool.query(sql).then((r) => Number(r.rows[0].n));
  return {
    lo: await q('SELECT count(*) AS n FROM pg_largeobject_metadata'),
    content: await q('SELECT count(*) AS n FROM binary_content'),
    binaries: await q(`SELECT count(*) AS n FROM resources WHERE type = 'Binary'`),
  };
}

test('raw upload and raw download round-trip arbitrary bytes with their content type', async () => {
  const up = await upload(SAMPLE);
  assert.equal(up.status, 201);
  assert.equal(up.json.resourceType, 'Binary');
  assert.equal(up.json.contentType, 'application/pdf');
  assert.equal(up.json.securityContext.reference, orgRef);
  assert.equal(Buffer.from(up.json.data, 'base64').compare(SAMPLE), 0);
  const down = await raw('GET', `/Binary/${up.json.id}`);
  assert.equal(down.status, 200);
  assert.equal(down.headers['content-type'], 'application/pdf');
  assert.equal(down.headers['content-length'], String(SAMPLE.length));
  assert.equal(down.headers['accept-ranges'], 'bytes');
  assert.equal(down.headers.etag, 'W/"1"');
  assert.ok(down.headers['last-modified']);
  assert.equal(down.bytes.compare(SAMPLE), 0);
});

test('an empty raw upload stores empty content', async () => {
  const up = await upload(Buffer.alloc(0), { 'content-type': 'text/plain; charset=utf-8' });
  assert.equal(up.status, 201);
  const down = await raw('GET', `/Binary/${up.json.id}`, { headers: { accept: '*/*' } });
  assert.equal(down.status, 200);
  assert.equal(down.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(down.bytes.length, 0);
});

test('FHIR-form create (JSON and XML) is readable raw; the row holds no data', async () => {
  const json = await site.client.post('/Binary', { resourceType: 'Binary', meta: TAG_ALL, contentType: 'image/png', data: SAMPLE.toString('base64') });
  assert.equal(json.status, 201);
  assert.equal(json.json.data, SAMPLE.toString('base64'));
  const down = await raw('GET', `/Binary/${json.json.id}`, { headers: { accept: 'image/png' } });
  assert.equal(down.headers['content-type'], 'image/png');
  assert.equal(down.bytes.compare(SAMPLE), 0);
  const row = await site.server.pool.query('SELECT resource FROM resources WHERE id = $1', [json.json.id]);
  assert.equal(row.rows[0].resource.data, undefined);

  const xml = `<Binary xmlns="http://hl7.org/fhir"><meta><tag><system value="http://dsf.dev/fhir/CodeSystem/read-access-tag"/><code value="ALL"/></tag></meta><contentType value="text/csv"/><data value="${Buffer.from('a;b\n1;2\n').toString('base64')}"/></Binary>`;
  const x = await site.client.post('/Binary', xml, { 'content-type': 'application/fhir+xml' });
  assert.equal(x.status, 201, x.body);
  const xd = await raw('GET', `/Binary/${x.json.id}`);
  assert.equal(xd.bytes.toString(), 'a;b\n1;2\n');
  assert.equal(xd.headers['content-type'], 'text/csv');
});

test('raw create, FHIR read (JSON by Accept, XML by _format) returns base64 data', async () => {
  const up = await upload(SAMPLE, { accept: '*/*', prefer: 'return=minimal' });
  assert.equal(up.status, 201);
  assert.equal(up.bytes.length, 0);
  const id = String(up.headers.location).split('/Binary/')[1]!.split('/')[0]!;
  const r = await site.client.get(`/Binary/${id}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/fhir+json;charset=UTF-8');
  assert.equal(Buffer.from(r.json.data, 'base64').compare(SAMPLE), 0);
  const x = await raw('GET', `/Binary/${id}?_format=xml`);
  assert.match(String(x.headers['content-type']), /fhir\+xml/);
  assert.ok(x.bytes.toString().includes(`<data value="${SAMPLE.toString('base64')}"/>`));
});

test('HEAD gives the headers of a download and no body', async () => {
  const up = await upload(SAMPLE);
  const h = await raw('HEAD', `/Binary/${up.json.id}`);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], String(SAMPLE.length));
  assert.equal(h.headers['content-type'], 'application/pdf');
  assert.equal(h.headers.etag, 'W/"1"');
  assert.equal(h.bytes.length, 0);
  const missing = await raw('HEAD', '/Binary/6b1c2e1d-0000-4000-8000-000000000000');
  assert.equal(missing.status, 404);
});

test('Range: a-b, a-, -n give 206 with Content-Range; out of range gives 416; several ranges give the whole', async () => {
  const id = (await upload(SAMPLE)).json.id;
  const size = SAMPLE.length;
  const cases: [string, number, number][] = [
    ['bytes=10-19', 10, 19],
    ['bytes=500-', 500, size - 1],
    ['bytes=-7', size - 7, size - 1],
    ['bytes=0-99999', 0, size - 1],
  ];
  for (const [range, start, end] of cases) {
    const r = await raw('GET', `/Binary/${id}`, { headers: { range } });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${size}`, range);
    assert.equal(r.headers['content-length'], String(end - start + 1), range);
    assert.equal(r.bytes.compare(SAMPLE.subarray(start, end + 1)), 0, range);
  }
  const bad = await raw('GET', `/Binary/${id}`, { headers: { range: `bytes=${size}-` } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${size}`);
  assert.equal(bad.json.resourceType, 'OperationOutcome');
  const many = await raw('GET', `/Binary/${id}`, { headers: { range: 'bytes=0-1,5-6' } });
  assert.equal(many.status, 200);
  assert.equal(many.bytes.compare(SAMPLE), 0);
});

test('If-Range: a matching ETag or date keeps the range, a stale one gives the whole content', async () => {
  const up = await upload(SAMPLE);
  const id = up.json.id;
  const lastModified = String((await raw('HEAD', `/Binary/${id}`)).headers['last-modified']);
  const match = await raw('GET', `/Binary/${id}`, { headers: { range: 'bytes=0-3', 'if-range': 'W/"1"' } });
  assert.equal(match.status, 206);
  const byDate = await raw('GET', `/Binary/${id}`, { headers: { range: 'bytes=0-3', 'if-range': lastModified } });
  assert.equal(byDate.status, 206);
  const stale = await raw('GET', `/Binary/${id}`, { headers: { range: 'bytes=0-3', 'if-range': '"7"' } });
  assert.equal(stale.status, 200);
  assert.equal(stale.bytes.compare(SAMPLE), 0);
  const staleDate = await raw('GET', `/Binary/${id}`, { headers: { range: 'bytes=0-3', 'if-range': 'Mon, 01 Jan 2001 00:00:00 GMT' } });
  assert.equal(staleDate.status, 200);
});

test('conditional reads: If-Unmodified-Since in the past 412, If-Match stale 412, If-None-Match / If-Modified-Since 304', async () => {
  const id = (await upload(SAMPLE)).json.id;
  const head = await raw('HEAD', `/Binary/${id}`);
  const past = await raw('GET', `/Binary/${id}`, { headers: { 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' } });
  assert.equal(past.status, 412);
  const current = await raw('GET', `/Binary/${id}`, { headers: { 'if-unmodified-since': String(head.headers['last-modified']) } });
  assert.equal(current.status, 200);
  assert.equal((await raw('GET', `/Binary/${id}`, { headers: { 'if-match': 'W/"2"' } })).status, 412);
  const inm = await raw('GET', `/Binary/${id}`, { headers: { 'if-none-match': 'W/"1"' } });
  assert.equal(inm.status, 304);
  assert.equal(inm.bytes.length, 0);
  assert.equal((await raw('GET', `/Binary/${id}`, { headers: { 'if-modified-since': String(head.headers['last-modified']) } })).status, 304);
});

test('raw upload without or with a malformed X-Security-Context gives 400 and stores nothing', async () => {
  const before = await counts();
  const missing = await raw('POST', '/Binary', { body: SAMPLE, headers: { 'content-type': 'application/pdf' } });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.resourceType, 'OperationOutcome');
  assert.match(missing.json.issue[0].diagnostics, /X-Security-Context/);
  for (const bad of ['not a reference', 'Unknown/123', 'https://other.example.org/fhir/Organization/1']) {
    const r = await upload(SAMPLE, { 'x-security-context': bad });
    assert.equal(r.status, 400, bad);
  }
  const full = await upload(SAMPLE, { 'x-security-context': `${site.baseUrl}/${orgRef}` });
  assert.equal(full.status, 201);
  const after = await counts();
  assert.deepEqual(after, { lo: before.lo + 1, content: before.content + 1, binaries: before.binaries + 1 });
});

test('content over the limit gives 413 and stores nothing (streamed and declared length)', async () => {
  const before = await counts();
  const big = Buffer.alloc(MAX_BINARY + 1, 7);
  // chunked: the limit is noticed while streaming into the database
  const streamed = await upload(Readable.from([big.subarray(0, 300_000), big.subarray(300_000)], { objectMode: false }));
  assert.equal(streamed.status, 413);
  assert.equal(streamed.json.issue[0].code, 'too-costly');
  const declared = await upload(big, { 'content-length': String(big.length) });
  assert.equal(declared.status, 413);
  const exact = await upload(big.subarray(0, MAX_BINARY));
  assert.equal(exact.status, 201);
  const after = await counts();
  assert.deepEqual(after, { lo: before.lo + 1, content: before.content + 1, binaries: before.binaries + 1 });
});

test('each version keeps its content: raw update, FHIR update, vread of older versions', async () => {
  const v1 = await upload(Buffer.from('first'));
  const id = v1.json.id;
  const v2 = await upload(Buffer.from('second'), { 'content-type': 'text/plain' }, 'PUT', `/Binary/${id}`);
  assert.equal(v2.status, 200);
  assert.equal(v2.json.meta.versionId, '2');
  const v3 = await site.client.put(`/Binary/${id}`, { resourceType: 'Binary', id, contentType: 'text/plain', securityContext: { reference: orgRef }, data: Buffer.from('third').toString('base64') });
  assert.equal(v3.status, 200);
  assert.equal(v3.json.meta.versionId, '3');
  // the same bytes again still make a version of their own
  const v4 = await upload(Buffer.from('third'), { 'content-type': 'text/plain', 'if-match': 'W/"3"' }, 'PUT', `/Binary/${id}`);
  assert.equal(v4.json.meta.versionId, '4');
  assert.equal((await upload(Buffer.from('x'), { 'if-match': 'W/"3"' }, 'PUT', `/Binary/${id}`)).status, 412);
  assert.equal((await raw('GET', `/Binary/${id}/_history/1`)).bytes.toString(), 'first');
  const second = await raw('GET', `/Binary/${id}/_history/2`);
  assert.equal(second.bytes.toString(), 'second');
  assert.equal(second.headers.etag, 'W/"2"');
  assert.equal((await raw('GET', `/Binary/${id}/_history/3`)).bytes.toString(), 'third');
  assert.equal((await raw('GET', `/Binary/${id}`)).bytes.toString(), 'third');
  assert.equal((await site.client.get(`/Binary/${id}/_history/1`)).json.data, Buffer.from('first').toString('base64'));
});

test('delete gives 410 and keeps older content; $permanent-delete unlinks every large object', async () => {
  const before = await counts();
  const id = (await upload(Buffer.from('one'))).json.id;
  await upload(Buffer.from('two'), {}, 'PUT', `/Binary/${id}`);
  assert.equal((await counts()).lo, before.lo + 2);
  assert.equal((await site.client.delete(`/Binary/${id}`)).status, 200);
  assert.equal((await raw('GET', `/Binary/${id}`)).status, 410);
  assert.equal((await raw('GET', `/Binary/${id}/_history/2`)).bytes.toString(), 'two');
  assert.equal((await counts()).lo, before.lo + 2);
  const perm = await site.client.post(`/Binary/${id}/$permanent-delete`, undefined);
  assert.equal(perm.status, 200);
  assert.deepEqual(await counts(), before);
  assert.equal((await raw('GET', `/Binary/${id}/_history/1`)).status, 404);
});

test('bundles: search and history inline data up to the limit; larger content is only served raw', async () => {
  const small = await upload(Buffer.from('small content'), { 'content-type': 'application/x-small' });
  const large = Buffer.alloc(MAX_BODY + 1, 0xab);
  const big = await upload(large, { 'content-type': 'application/x-large' });
  assert.equal(big.status, 201);
  assert.equal(big.json.data, undefined);
  const search = await site.client.get('/Binary?contentType=application/x-small,application/x-large');
  assert.equal(search.json.total, 2);
  const byId = new Map(search.json.entry.map((e: any) => [e.resource.id, e.resource]));
  assert.equal((byId.get(small.json.id) as any).data, Buffer.from('small content').toString('base64'));
  assert.equal((byId.get(big.json.id) as any).data, undefined);
  const history = await site.client.get(`/Binary/${small.json.id}/_history`);
  assert.equal(history.json.entry[0].resource.data, Buffer.from('small content').toString('base64'));
  const fhirRead = await site.client.get(`/Binary/${big.json.id}`);
  assert.equal(fhirRead.status, 413);
  assert.equal(fhirRead.json.issue[0].code, 'too-costly');
  const rawRead = await raw('GET', `/Binary/${big.json.id}`);
  assert.equal(rawRead.bytes.compare(large), 0);
});

test('a transaction with a Binary entry stores its content; batch GET returns it with data', async () => {
  const data = Buffer.from([1, 2, 3, 250, 251, 252]).toString('base64');
  const tx = await site.client.post('/', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:0d1c6a57-1b1e-4b35-9c58-0f7f1f0b3a01', resource: { resourceType: 'Binary', meta: TAG_ALL, contentType: 'application/octet-stream', data }, request: { method: 'POST', url: 'Binary' } },
    ],
  });
  assert.equal(tx.status, 200, tx.body);
  const location = tx.json.entry[0].response.location as string;
  const id = location.split('/Binary/')[1]!.split('/')[0]!;
  assert.equal((await raw('GET', `/Binary/${id}`)).bytes.toString('base64'), data);
  const batch = await site.client.post('/', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Binary/${id}` } }] });
  assert.equal(batch.json.entry[0].resource.data, data);
});

test('FHIR-form data that is not base64 gives 400', async () => {
  const r = await site.client.post('/Binary', { resourceType: 'Binary', meta: TAG_ALL, contentType: 'text/plain', data: 'not base64!' });
  assert.equal(r.status, 400);
});
