// The shared HTTPS client sends a request body with a Content-Length, as the BPE's transport and the
// reference's client do: not chunked, so a server can refuse an oversized body before reading it and
// receives the request in one piece.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpsClient } from '../../src/common/https-client.ts';
import { tlsServerCertificatesForTests } from '../support/tls-server-certificates.ts';

const certs = tlsServerCertificatesForTests('dsf-https-body-');

test('a string or Buffer body goes with its Content-Length in bytes, not chunked; a GET has neither', async () => {
  // Answers with the framing headers it received and the body's length in bytes.
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(JSON.stringify({ contentLength: req.headers['content-length'] ?? null, transferEncoding: req.headers['transfer-encoding'] ?? null, bytes: Buffer.concat(chunks).length })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as AddressInfo).port}/x`;
  const client = new HttpsClient({ ca: certs.ca });
  try {
    const text = '{"resourceType":"Patient","name":[{"family":"Müller"}]}';
    for (const body of [text, Buffer.from(text, 'utf8')]) {
      const r = JSON.parse((await client.request(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body })).body);
      assert.deepEqual(r, { contentLength: String(Buffer.byteLength(text)), transferEncoding: null, bytes: Buffer.byteLength(text) });
    }
    const get = JSON.parse((await client.request(url)).body);
    assert.deepEqual(get, { contentLength: null, transferEncoding: null, bytes: 0 });
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
