// The shared HTTPS client sends a request body with a Content-Length, as the BPE's transport and the
// reference's client do: not chunked, so a server can refuse an oversized body before reading it and
// receives the request in one piece.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateCertificates } from '../../src/cli/certs.ts';
import { HttpsClient } from '../../src/common/https-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsf-https-body-'));
let server: https.Server;
let baseUrl = '';
let ca = '';

before(async () => {
  const set = await generateCertificates({ dir, organizations: ['server'] });
  const s = set.organizations['server']!.server;
  ca = readFileSync(set.ca.certPath, 'utf8');
  // Answers with the framing headers it received and the body's length in bytes.
  server = https.createServer({ cert: readFileSync(s.certPath, 'utf8'), key: readFileSync(s.keyPath, 'utf8') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(JSON.stringify({ contentLength: req.headers['content-length'] ?? null, transferEncoding: req.headers['transfer-encoding'] ?? null, bytes: Buffer.concat(chunks).length })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://localhost:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test('a string or Buffer body goes with its Content-Length in bytes, not chunked; a GET has neither', async () => {
  const client = new HttpsClient({ ca });
  try {
    const text = '{"resourceType":"Patient","name":[{"family":"Müller"}]}';
    for (const body of [text, Buffer.from(text, 'utf8')]) {
      const r = JSON.parse((await client.request(`${baseUrl}/x`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body })).body);
      assert.deepEqual(r, { contentLength: String(Buffer.byteLength(text)), transferEncoding: null, bytes: Buffer.byteLength(text) });
    }
    const get = JSON.parse((await client.request(`${baseUrl}/x`)).body);
    assert.deepEqual(get, { contentLength: null, transferEncoding: null, bytes: 0 });
  } finally {
    client.close();
  }
});
