// XML and JSON through the REST API: what a client sends in one format comes back unchanged in either.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';
import { defaultProfileOf } from '../../../src/fhir/types/registry.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const dir = fileURLToPath(new URL('../../fixtures/fhir-xml/', import.meta.url));
const patientXml = readFileSync(dir + 'patient-rest.xml', 'utf8');

const XML_TYPES = ['application/fhir+xml', 'application/xml+fhir', 'application/xml', 'text/xml'];
const JSON_TYPES = ['application/fhir+json', 'application/json+fhir', 'application/json'];

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

/** The resource without what the server assigns: id, meta.versionId, meta.lastUpdated. */
function withoutServerFields(resource: any): any {
  const { id: _id, meta, ...rest } = structuredClone(resource);
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest;
}

async function createXml(xml: string, contentType = 'application/fhir+xml'): Promise<any> {
  const r = await site.client.post(`/${/<([A-Za-z]+)[\s>]/.exec(xml.replace(/<\?[^>]*\?>|<!--[\s\S]*?-->/g, ''))![1]}`, xml, { 'content-type': contentType, accept: 'application/fhir+json' });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

test('a Patient sent as XML reads back as the same content in JSON and in XML', async () => {
  const created = await createXml(patientXml);
  // Independent of our XML parser: the features the fixture exercises, as FHIR JSON spells them.
  assert.equal(created.active, true);
  assert.deepEqual(created._active, { id: 'active-id' });
  assert.deepEqual(created.name[0].given, ['Max', null, 'Peter']);
  assert.deepEqual(created.name[0]._given, [null, { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier', valueCode: 'CL' }] }, { id: 'g3' }]);
  assert.equal(created.name[0]._family.extension[0].valueString, 'von');
  assert.equal(created._birthDate.id, 'bd');
  assert.equal(created.extension[0].valueQuantity.value, 72.125);
  assert.equal(created.extension[1].valueDecimal, 1234567890.123);
  assert.deepEqual(created.contained.map((c: any) => `${c.resourceType}/${c.id}`), ['Organization/org1', 'Practitioner/pr1']);
  assert.equal(created.text.div, '<div xmlns="http://www.w3.org/1999/xhtml"><p class="name">Max &amp; Erika <b>Mustermann</b>, born &lt;1970&gt;</p><br/><table><tr><td colspan="2">a " b</td></tr></table><img src="data:image/png;base64,AAAA" alt="x"/></div>');

  const expected = withoutServerFields(parseFhirXml(patientXml));
  assert.deepEqual(withoutServerFields(created), expected);

  const asJson = await site.client.get(`/Patient/${created.id}`);
  assert.match(String(asJson.headers['content-type']), /^application\/fhir\+json/);
  assert.deepEqual(withoutServerFields(asJson.json), expected);

  const asXml = await site.client.get(`/Patient/${created.id}`, { accept: 'application/fhir+xml' });
  assert.match(String(asXml.headers['content-type']), /^application\/fhir\+xml/);
  assert.deepEqual(withoutServerFields(parseFhirXml(asXml.body)), expected);
  // The XML the server writes is the canonical form of what was sent.
  assert.equal(toFhirXml(withoutServerFields(parseFhirXml(asXml.body))), toFhirXml(expected));

  // And XML read back, sent again as an update, changes nothing but the version.
  const again = await site.client.put(`/Patient/${created.id}`, asXml.body, { 'content-type': 'application/fhir+xml' });
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(withoutServerFields(again.json), expected);
});

test('other fixtures (Endpoint, MeasureReport, StructureDefinition) survive XML in, JSON and XML out', async () => {
  const managingOrganization = await site.client.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] }, identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: 'xml-roundtrip.test' }], active: true });
  for (const file of ['endpoint.json', 'measure-report.json', 'structure-definition.json']) {
    const json = JSON.parse(readFileSync(dir + file, 'utf8'));
    delete json.id;
    // The Endpoint's managing Organization must exist (reference check).
    if (json.managingOrganization) json.managingOrganization.reference = `Organization/${managingOrganization.id}`;
    json.meta = { ...TAG_ALL, profile: [defaultProfileOf(json.resourceType)] };
    const created = await createXml(toFhirXml(json));
    assert.deepEqual(withoutServerFields(created), json, file);
    const asXml = await site.client.get(`/${json.resourceType}/${created.id}?_format=xml`);
    assert.deepEqual(withoutServerFields(parseFhirXml(asXml.body)), json, file);
  }
});

test('every accepted Content-Type alias is read as its format', async () => {
  const expected = withoutServerFields(parseFhirXml(patientXml));
  for (const type of XML_TYPES) {
    const created = await createXml(patientXml, `${type}; charset=UTF-8`);
    assert.deepEqual(withoutServerFields(created), expected, type);
  }
  for (const type of JSON_TYPES) {
    const r = await site.client.post('/Patient', JSON.stringify(expected), { 'content-type': type });
    assert.equal(r.status, 201, `${type}: ${r.body}`);
    assert.deepEqual(withoutServerFields(r.json), expected, type);
  }
  const unsupported = await site.client.post('/Patient', patientXml, { 'content-type': 'text/plain' });
  assert.equal(unsupported.status, 415);
});

test('_format (xml, json, each MIME type) and Accept aliases choose the response format', async () => {
  const created = await createXml(patientXml);
  const expected = withoutServerFields(parseFhirXml(patientXml));
  const cases: [string, 'xml' | 'json'][] = [
    ['xml', 'xml'],
    ['json', 'json'],
    ...XML_TYPES.map((t): [string, 'xml'] => [t, 'xml']),
    ...JSON_TYPES.map((t): [string, 'json'] => [t, 'json']),
  ];
  for (const [format, kind] of cases) {
    // The Accept header says the opposite: _format wins.
    const r = await site.client.get(`/Patient/${created.id}?_format=${encodeURIComponent(format)}`, { accept: kind === 'xml' ? 'application/fhir+json' : 'application/fhir+xml' });
    assert.equal(r.status, 200, format);
    assert.match(String(r.headers['content-type']), kind === 'xml' ? /^application\/fhir\+xml/ : /^application\/fhir\+json/, format);
    assert.deepEqual(withoutServerFields(kind === 'xml' ? parseFhirXml(r.body) : JSON.parse(r.body)), expected, format);
  }
  for (const type of [...XML_TYPES, ...JSON_TYPES]) {
    const r = await site.client.get(`/Patient/${created.id}`, { accept: type });
    const xml = XML_TYPES.includes(type);
    assert.match(String(r.headers['content-type']), xml ? /^application\/fhir\+xml/ : /^application\/fhir\+json/, type);
    assert.deepEqual(withoutServerFields(xml ? parseFhirXml(r.body) : JSON.parse(r.body)), expected, type);
  }
});

test('search results and OperationOutcomes come back in XML too', async () => {
  await createXml(patientXml);
  const bundle = await site.client.get('/Patient?identifier=http://example.org/mrn|12345&_format=xml');
  assert.equal(bundle.status, 200);
  const parsed = parseFhirXml(bundle.body) as any;
  assert.equal(parsed.resourceType, 'Bundle');
  assert.ok(parsed.total >= 1);
  assert.deepEqual(withoutServerFields(parsed.entry[0].resource), withoutServerFields(parseFhirXml(patientXml)));

  const bad = await site.client.post('/Patient', '<Patient xmlns="http://hl7.org/fhir"><nonsense value="1"/></Patient>', { 'content-type': 'application/fhir+xml', accept: 'application/fhir+xml' });
  assert.equal(bad.status, 400);
  assert.equal((parseFhirXml(bad.body) as any).resourceType, 'OperationOutcome');
});
