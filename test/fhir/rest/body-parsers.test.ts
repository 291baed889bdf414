// The FHIR media types have body parsers of their own (fastify remembers those per Content-Type; the
// catch-all it looks up anew per request), and every body is still read the same way: FHIR JSON and
// XML with or without parameters, other types through the catch-all to the route's own answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { JSON_MIME_TYPES, XML_MIME_TYPES } from '../../../src/fhir/model/formats.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

test('every FHIR media type has a parser of its own, besides the catch-all', () => {
  for (const type of [...JSON_MIME_TYPES, ...XML_MIME_TYPES]) assert.ok(site.server.app.hasContentTypeParser(type), type);
});

test('a create is read from each JSON media type, with and without a charset', async () => {
  for (const type of JSON_MIME_TYPES) {
    for (const contentType of [type, `${type};charset=UTF-8`, `${type}; charset=utf-8`]) {
      const r = await site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL, active: true }, { 'content-type': contentType });
      assert.equal(r.status, 201, `${contentType}: ${r.body}`);
    }
  }
});

test('a create is read from XML; other types reach the route through the catch-all (415)', async () => {
  const xml = '<Patient xmlns="http://hl7.org/fhir"><meta><tag><system value="http://dsf.dev/fhir/CodeSystem/read-access-tag"/><code value="ALL"/></tag></meta><active value="true"/></Patient>';
  for (const type of XML_MIME_TYPES) {
    const r = await site.client.post('/Patient', xml, { 'content-type': `${type};charset=UTF-8` });
    assert.equal(r.status, 201, `${type}: ${r.body}`);
  }
  for (const contentType of ['text/plain', 'application/fhir+json-patch', 'application/x-www-form-urlencoded']) {
    const r = await site.client.post('/Patient', 'x', { 'content-type': contentType });
    assert.equal(r.status, 415, `${contentType}: ${r.body}`);
    assert.equal(r.json?.resourceType, 'OperationOutcome');
  }
});
