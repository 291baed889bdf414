// Reads answered from the stored text (no parse, no stringify) give exactly what the parsed path gives:
// the same bytes and headers; XML, _summary, _elements and _pretty still applied; 404, 410, 304 and
// read access as before. `?_summary=false` takes the parsed path and answers the whole resource, so it
// is the comparison.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { LOCAL_ORG, ORG_ID, startParitySite, tagAll, tagLocal, type ParitySite } from '../reference-parity/parity-site.ts';

let p: ParitySite;
before(async () => {
  p = await startParitySite();
});
after(() => p?.stop());

const patient = (tags: object[], extra: object = {}) => ({
  resourceType: 'Patient',
  meta: { tag: tags },
  identifier: [{ system: 'http://example.org/pid', value: 'a "quoted", spaced: value \\ ä 😀' }],
  active: true,
  ...extra,
});

const HEADERS = ['content-type', 'etag', 'last-modified', 'content-length'];

/** The read as stored and the parsed read: same status, body and headers. */
async function assertSameAsParsed(path: string, client = p.local): Promise<string> {
  const stored = await client.get(path);
  const parsed = await client.get(`${path}?_summary=false`);
  assert.equal(stored.status, 200, stored.body);
  assert.equal(stored.body, parsed.body);
  for (const h of HEADERS) assert.equal(stored.headers[h], parsed.headers[h], h);
  return stored.body;
}

test('a read and a vread come from the stored text, byte for byte what the parsed path sends', async () => {
  const created = await p.local.create(patient([tagAll()]));
  const text = await readJsonOf('Patient', created.id);
  assert.ok(text !== undefined, 'answered from the stored text');
  const body = await assertSameAsParsed(`/Patient/${created.id}`);
  assert.equal(body, text);
  assert.deepEqual(JSON.parse(body).identifier, created.identifier);
  assert.equal(await assertSameAsParsed(`/Patient/${created.id}/_history/1`), body);
});

test('stored decimals and references with an identifier take the parsed path and come out as before', async () => {
  // Stored without validation: a decimal as written ("1.50") and a logical reference next to its literal part.
  const stored = await p.storeDirectly({
    ...patient([tagAll()]),
    extension: [{ url: 'http://example.org/decimal', valueDecimal: 1.5 }],
  } as Patient);
  await p.site.server.pool.query(`UPDATE resources SET resource = jsonb_set(resource, '{extension,0,valueDecimal}', '1.50'::jsonb) WHERE id = $1`, [stored.id]);
  assert.equal(await readJsonOf('Patient', stored.id), undefined);
  assert.equal(JSON.parse(await assertSameAsParsed(`/Patient/${stored.id}`)).extension[0].valueDecimal, 1.5);

  const withIdentifier = await p.storeDirectly({
    ...patient([tagAll()]),
    managingOrganization: { reference: `Organization/${p.ids.localOrganization}`, identifier: { system: ORG_ID, value: LOCAL_ORG } },
  } as Patient);
  assert.equal(await readJsonOf('Patient', withIdentifier.id), undefined);
  const body = JSON.parse(await assertSameAsParsed(`/Patient/${withIdentifier.id}`));
  assert.deepEqual(body.managingOrganization, { identifier: { system: ORG_ID, value: LOCAL_ORG } }, 'the literal part is cleaned on output');
});

test('XML, _summary, _elements and _pretty are still applied', async () => {
  const created = await p.local.create(patient([tagAll()]));
  const xml = await p.local.get(`/Patient/${created.id}`, { accept: 'application/fhir+xml' });
  assert.equal(xml.status, 200);
  assert.match(String(xml.headers['content-type']), /^application\/fhir\+xml/);
  assert.match(xml.body, /^<Patient xmlns="http:\/\/hl7.org\/fhir">/);
  const asJson = await p.local.get(`/Patient/${created.id}?_format=json`, { accept: 'application/fhir+xml' });
  assert.equal(asJson.body, (await p.local.get(`/Patient/${created.id}`)).body);
  const elements = await p.local.get(`/Patient/${created.id}?_elements=active`);
  assert.equal(elements.json.active, true);
  assert.equal(elements.json.identifier, undefined);
  const summary = await p.local.get(`/Patient/${created.id}?_summary=text`);
  assert.equal(summary.json.identifier, undefined);
  const pretty = await p.local.get(`/Patient/${created.id}?_pretty=true`);
  assert.equal(pretty.body, JSON.stringify(JSON.parse(pretty.body), null, 2));
});

test('unknown 404, deleted 410, current copy 304, as before', async () => {
  const created = await p.local.create(patient([tagAll()]));
  const notModified = await p.local.get(`/Patient/${created.id}`, { 'if-none-match': 'W/"1"' });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body, '');
  assert.equal((await p.local.get('/Patient/00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await p.local.get(`/Patient/${created.id}/_history/2`)).status, 404);
  assert.equal((await p.local.delete(`/Patient/${created.id}`)).status, 200);
  const gone = await p.local.get(`/Patient/${created.id}`);
  assert.equal(gone.status, 410);
  assert.equal(gone.json.resourceType, 'OperationOutcome');
  assert.equal((await p.local.get(`/Patient/${created.id}/_history/2`)).status, 410);
});

test('read access of a remote organisation is unchanged: ALL readable as stored, LOCAL refused', async () => {
  const all = await p.local.create(patient([tagAll()]));
  const local = await p.local.create(patient([tagLocal()]));
  const body = await assertSameAsParsed(`/Patient/${all.id}`, p.external);
  assert.equal(body, (await p.local.get(`/Patient/${all.id}`)).body);
  for (const path of [`/Patient/${local.id}`, `/Patient/${local.id}?_summary=false`, `/Patient/${local.id}/_history/1`]) {
    const refused = await p.external.get(path);
    assert.equal(refused.status, 403, path);
    assert.equal(refused.json.resourceType, 'OperationOutcome');
  }
});

/** What the service answers as stored text (undefined: it took the parsed path), without an identity. */
async function readJsonOf(type: string, id: string): Promise<string | undefined> {
  return (await p.site.server.service.readJson({ strict: false }, p.site.server.pool, type, id)).json;
}
