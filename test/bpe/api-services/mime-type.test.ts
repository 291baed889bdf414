// MIME type checks with the outcomes Tika 3.3 (the reference's detector, with its NDJSON
// detector) gives for the same bytes and declared types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { MimeTypeMismatchError } from '../../../src/plugin-api/services/mime-type.ts';
import { createMimeTypeService } from '../../../src/bpe/api-services/mime-type/mime-type-service.ts';

const warnings: string[] = [];
const service = createMimeTypeService({ warn: (m) => warnings.push(m) });
const COMPRESSION = join(import.meta.dirname, '../../fixtures/java-interop/compression');

const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n');
const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const jpeg = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb', 'hex');
const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
const zip = (() => {
  const data = deflateRawSync(Buffer.from('a,b\n1,2\n'));
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(8, 8);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt16LE(5, 26);
  return Buffer.concat([header, Buffer.from('a.csv'), data]);
})();
const csv = Buffer.from('id;name;value\n1;alpha;3.5\n2;beta;4\n');
const json = Buffer.from('{"resourceType":"Patient","id":"1"}');
const fhirXml = Buffer.from('<Patient xmlns="http://hl7.org/fhir"><id value="1"/></Patient>');
const fhirXmlWithProlog = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>');
const ndjson = Buffer.from('{"resourceType":"Patient","id":"1"}\n{"resourceType":"Patient","id":"2"}\n');
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256));

// [data, declared, detected]
const CASES: [string, Buffer, string, string][] = [
  ['PDF', pdf, 'application/pdf', 'application/pdf'],
  ['PNG', png, 'image/png', 'image/png'],
  ['JPEG', jpeg, 'image/jpeg', 'image/jpeg'],
  ['GIF', gif, 'image/gif', 'image/gif'],
  ['ZIP', zip, 'application/zip', 'application/zip'],
  ['gzip from Java', readFileSync(join(COMPRESSION, 'hello.gz')), 'application/gzip', 'application/gzip'],
  ['bzip2 from Java', readFileSync(join(COMPRESSION, 'hello.bz2')), 'application/x-bzip2', 'application/x-bzip2'],
  ['xz from Java', readFileSync(join(COMPRESSION, 'hello.xz')), 'application/x-xz', 'application/x-xz'],
  ['CSV (text + hint)', csv, 'text/csv', 'text/csv'],
  ['CSV with charset', csv, 'text/csv; charset=utf-8', 'text/csv'],
  ['JSON (text + hint)', json, 'application/json', 'application/json'],
  ['FHIR XML without prolog', fhirXml, 'application/fhir+xml', 'application/fhir+xml'],
  ['FHIR XML with prolog', fhirXmlWithProlog, 'application/fhir+xml', 'application/fhir+xml'],
  ['FHIR JSON (+json counts as JSON here)', json, 'application/fhir+json', 'application/fhir+json'],
  ['NDJSON', ndjson, 'application/x-ndjson', 'application/x-ndjson'],
  ['PDF declared as PNG', pdf, 'image/png', 'application/pdf'],
  ['PNG declared as JPEG', png, 'image/jpeg', 'image/png'],
  // Tika: data without magic that is not text is octet-stream, and any declared type specialises that.
  ['unknown binary declared as CSV (Tika accepts)', binary, 'text/csv', 'text/csv'],
  ['unknown binary declared as octet-stream', binary, 'application/octet-stream', 'application/octet-stream'],
  ['text declared as PDF', csv, 'application/pdf', 'text/plain'],
  ['gzip declared by an alias', readFileSync(join(COMPRESSION, 'hello.gz')), 'application/x-gzip', 'application/gzip'],
  ['XML declared as JSON', fhirXmlWithProlog, 'application/json', 'application/xml'],
  ['empty data takes the declared type (Tika)', Buffer.alloc(0), 'application/pdf', 'application/pdf'],
];

for (const [name, data, declared, detected] of CASES) {
  test(`${name}: ${declared} -> ${detected}`, async () => {
    const result = service.validateWithResult(data, declared);
    assert.equal(result.detected(), detected);
    assert.equal(result.declared(), declared.split(';')[0]);
    assert.equal(result.mimeTypesMatch(), result.declared() === detected);
    assert.equal(service.validateWithBoolean(data, declared), result.declared() === detected);
    const fromStream = await service.validateWithResult(Readable.from([data.subarray(0, 3), data.subarray(3)]), declared);
    assert.equal(fromStream.detected(), detected);
  });
}

test('validateWithException: throws on a different base type, only warns on a different subtype', async () => {
  warnings.length = 0;
  assert.throws(
    () => service.validateWithException(pdf, 'text/plain'),
    (e: Error) => e instanceof MimeTypeMismatchError && e.message === "Declared base MIME type of 'text/plain' does not match detected base MIME type of 'application/pdf'",
  );
  service.validateWithException(png, 'image/jpeg');
  assert.deepEqual(warnings.slice(-1), ['Declared full MIME type image/jpeg does not match detected full MIME type image/png']);
  service.validateWithException(pdf, 'application/pdf');
  await assert.rejects(service.validateWithException(Readable.from([pdf]), 'text/csv'), MimeTypeMismatchError);
  assert.throws(() => service.validateWithResult(pdf, 'pdf'), /not of the form type\/subtype/);
});

test('a stream is read only as far as detection needs (64 KiB)', async () => {
  let chunks = 0;
  const big = Readable.from((function* () {
    for (; chunks < 1000; chunks++) yield Buffer.alloc(16 * 1024, 0x41);
  })());
  const result = await service.validateWithResult(big, 'text/plain');
  assert.equal(result.detected(), 'text/plain');
  assert.ok(chunks < 10, `read ${chunks} chunks`);
});
