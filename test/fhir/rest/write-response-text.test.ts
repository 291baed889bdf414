// The response to a create or update sends the JSON text the write stored instead of serialising the
// resource again (store/written-json.ts, rest/routes.ts sendWrite). Every variant of the response must
// stay byte for byte what the serialising path sends: compared with the same result whose resource is
// a copy (no text remembered), for plain JSON, _pretty, _format=xml, Accept XML, Prefer return=minimal
// and return=OperationOutcome, with and without validation warnings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { sendWrite } from '../../../src/fhir/rest/routes.ts';
import { rememberWrittenJson, writtenJsonOf } from '../../../src/fhir/store/written-json.ts';
import type { InteractionResult } from '../../../src/fhir/service/request-context.ts';
import { startParitySite, type ParitySite } from '../reference-parity/parity-site.ts';

const written = (): Resource => {
  const r = {
    resourceType: 'Patient',
    id: '8b0a6c7e-0000-4000-8000-000000000001',
    meta: { versionId: '1', lastUpdated: '2026-12-06T06:40:00.000Z', tag: [{ system: 'http://example.org/t', code: 'ALL' }] },
    identifier: [{ system: 'http://example.org/pid', value: 'a "quoted" ä 😀 \\ </x>' }],
    active: true,
  } as Resource;
  rememberWrittenJson(r, JSON.stringify(r));
  return r;
};

let app: FastifyInstance;
before(async () => {
  app = Fastify();
  // ?copy=1: the same result with a copy of the resource, which takes the serialising path.
  app.post('/Patient', async (req, reply) => {
    const resource = written();
    const copy = (req.query as { copy?: string }).copy === '1';
    const warn = (req.query as { warn?: string }).warn === '1';
    // ?marked=1: a remembered text told apart from the serialised one, to see which path answered.
    if ((req.query as { marked?: string }).marked === '1') rememberWrittenJson(resource, JSON.stringify(resource, null, 1));
    const r: InteractionResult = {
      status: 201,
      resource: copy ? structuredClone(resource) : resource,
      versionId: '1',
      lastModified: resource.meta!.lastUpdated,
      location: `https://localhost/fhir/Patient/${resource.id}/_history/1`,
      ...(warn ? { warnings: [{ severity: 'warning', code: 'processing', diagnostics: 'a warning' }] } : {}),
    };
    return sendWrite(req, reply, r);
  });
  await app.ready();
});
after(() => app?.close());

const VARIANTS: { name: string; query: string; headers: Record<string, string> }[] = [
  { name: 'plain JSON', query: '', headers: {} },
  { name: 'JSON asked for', query: '', headers: { accept: 'application/fhir+json' } },
  { name: '_pretty', query: '_pretty=true', headers: {} },
  { name: '_format=xml', query: '_format=xml', headers: {} },
  { name: 'Accept XML', query: '', headers: { accept: 'application/fhir+xml' } },
  { name: 'XML body, no Accept', query: '', headers: { 'content-type': 'application/fhir+xml' } },
  { name: 'return=minimal', query: '', headers: { prefer: 'return=minimal' } },
  { name: 'return=OperationOutcome', query: '', headers: { prefer: 'return=OperationOutcome' } },
  { name: 'return=representation', query: '', headers: { prefer: 'return=representation' } },
];

test('every response variant of a write is what the serialising path sends: status, headers and bytes', async () => {
  for (const v of VARIANTS) {
    for (const warn of ['0', '1']) {
      const ask = (copy: string) => app.inject({ method: 'POST', url: `/Patient?copy=${copy}&warn=${warn}${v.query ? `&${v.query}` : ''}`, headers: v.headers, payload: v.headers['content-type'] ? '<Patient xmlns="http://hl7.org/fhir"/>' : undefined });
      const [fromText, serialised] = [await ask('0'), await ask('1')];
      const what = `${v.name}, warnings ${warn}`;
      assert.equal(fromText.statusCode, serialised.statusCode, what);
      assert.equal(fromText.body, serialised.body, what);
      for (const h of ['content-type', 'content-length', 'etag', 'last-modified', 'location']) assert.equal(fromText.headers[h], serialised.headers[h], `${what}: ${h}`);
    }
  }
});

test('plain JSON is answered from the remembered text; the other variants are not', async () => {
  const marked = JSON.stringify(written(), null, 1);
  assert.equal((await app.inject({ method: 'POST', url: '/Patient?marked=1' })).body, marked);
  assert.equal((await app.inject({ method: 'POST', url: '/Patient?marked=1&warn=1' })).body, marked);
  assert.notEqual((await app.inject({ method: 'POST', url: '/Patient?marked=1&_pretty=true' })).body, marked);
  assert.notEqual((await app.inject({ method: 'POST', url: '/Patient?marked=1', headers: { prefer: 'return=OperationOutcome' } })).body, marked);
});

let p: ParitySite;
test('a create and an update over HTTP answer the text they stored, equal to what the resource serialises to', async () => {
  p = await startParitySite();
  try {
    const res = await p.local.post('/Patient', { resourceType: 'Patient', active: true, meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } });
    assert.equal(res.status, 201, res.body);
    const created = JSON.parse(res.body) as Resource;
    assert.equal(res.body, JSON.stringify(created));
    assert.equal(created.meta?.versionId, '1');
    const upd = await p.local.put(`/Patient/${created.id}`, { ...created, active: false });
    assert.equal(upd.status, 200, upd.body);
    assert.equal(upd.body, JSON.stringify(JSON.parse(upd.body)));
    assert.equal(JSON.parse(upd.body).meta.versionId, '2');
  } finally {
    await p.stop();
  }
});

test('a copy of a written resource has no remembered text', () => {
  const r = written();
  assert.equal(writtenJsonOf(r), JSON.stringify(r));
  assert.equal(writtenJsonOf({ ...r }), undefined);
});
