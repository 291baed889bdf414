import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFromAccept, formatFromContentType, formatFromFormatParam, mimeTypeOf } from '../../../src/fhir/model/formats.ts';

test('Content-Type: the seven FHIR MIME types of the reference, with or without parameters', () => {
  for (const ct of ['application/fhir+xml', 'application/xml+fhir', 'application/xml', 'text/xml', 'Application/FHIR+XML; charset=UTF-8']) {
    assert.equal(formatFromContentType(ct), 'xml', ct);
  }
  for (const ct of ['application/fhir+json', 'application/json+fhir', 'application/json', 'application/fhir+json;charset=utf-8;fhirVersion=4.0']) {
    assert.equal(formatFromContentType(ct), 'json', ct);
  }
  for (const ct of [undefined, '', 'text/plain', 'text/html', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
    assert.equal(formatFromContentType(ct), undefined, String(ct));
  }
});

test('_format: short names and MIME types, including a form-decoded +', () => {
  assert.equal(formatFromFormatParam('xml'), 'xml');
  assert.equal(formatFromFormatParam('json'), 'json');
  assert.equal(formatFromFormatParam('html'), 'html');
  assert.equal(formatFromFormatParam('text/html'), 'html');
  assert.equal(formatFromFormatParam('application/fhir+xml'), 'xml');
  assert.equal(formatFromFormatParam('application/fhir xml'), 'xml');
  assert.equal(formatFromFormatParam('application/json'), 'json');
  assert.equal(formatFromFormatParam('text/xml'), 'xml');
  assert.equal(formatFromFormatParam('inline'), undefined);
  assert.equal(formatFromFormatParam('yaml'), undefined);
  assert.equal(formatFromFormatParam(undefined), undefined);
});

test('Accept: _format wins, then the highest q among supported types, wildcards leave the choice to the caller', () => {
  assert.equal(formatFromAccept('application/fhir+json', 'xml'), 'xml');
  assert.equal(formatFromAccept('application/fhir+xml', undefined), 'xml');
  assert.equal(formatFromAccept('application/fhir+json;q=0.5, application/fhir+xml;q=0.9', undefined), 'xml');
  assert.equal(formatFromAccept('application/xml, application/json', undefined), 'xml', 'first wins on ties');
  assert.equal(formatFromAccept('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined), 'html', 'browsers get HTML');
  assert.equal(formatFromAccept('*/*', undefined), undefined);
  assert.equal(formatFromAccept('application/octet-stream', undefined), undefined);
  assert.equal(formatFromAccept(undefined, undefined), undefined);
  assert.equal(formatFromAccept('application/fhir+xml;q=0', undefined), undefined, 'q=0 means not acceptable');
  assert.equal(formatFromAccept('application/fhir+json', 'unknown'), 'json', 'an unrecognised _format falls back to Accept');
});

test('response MIME types', () => {
  assert.equal(mimeTypeOf('json'), 'application/fhir+json');
  assert.equal(mimeTypeOf('xml'), 'application/fhir+xml');
  assert.equal(mimeTypeOf('html'), 'text/html');
});
