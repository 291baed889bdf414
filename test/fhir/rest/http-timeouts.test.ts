// Slow or silent clients cannot hold connections: header, request, keep-alive and TLS handshake
// timeouts, tested with raw sockets and small configured values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
let ca: string;
before(async () => {
  site = await startTestSite({ config: { limits: { headersTimeoutMs: 300, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300 } } });
  ca = readFileSync(site.certs.ca.certPath, 'utf8');
});
after(() => site?.stop());

const port = () => site.server.port;

/** A TLS connection without a client certificate. */
function connectTls(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: port(), servername: 'localhost', ca }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
    socket.on('error', () => {});
    socket.once('close', () => resolve(data));
  });
}

test('a connection that sends half a header is closed with 408 and an OperationOutcome', { timeout: 20_000 }, async () => {
  const socket = await connectTls();
  const answer = untilClosed(socket);
  socket.write('GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\nX-Partial: ');
  const text = await answer;
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.match(text, /"resourceType":"OperationOutcome"/);
});

test('many half-header connections are all closed, and the server keeps answering meanwhile', { timeout: 30_000 }, async () => {
  const sockets = await Promise.all(Array.from({ length: 40 }, () => connectTls()));
  const closed = sockets.map((s) => {
    const done = untilClosed(s);
    s.write('GET /fhir/Patient HTTP/1.1\r\nHost: localhost\r\n');
    return done;
  });
  const normal = await site.client.get('/metadata');
  assert.equal(normal.status, 200);
  await Promise.all(closed);
  assert.ok(sockets.every((s) => s.destroyed));
});

test('a TLS connection that never sends anything is closed', { timeout: 20_000 }, async () => {
  const socket = await connectTls();
  await untilClosed(socket);
  assert.ok(socket.destroyed);
});

test('a TCP connection that never starts the TLS handshake is closed', { timeout: 20_000 }, async () => {
  const socket = net.connect({ host: '127.0.0.1', port: port() });
  await untilClosed(socket);
  assert.ok(socket.destroyed);
});

test('a body sent too slowly is cut off with 408', { timeout: 20_000 }, async () => {
  const socket = await connectTls();
  const answer = untilClosed(socket);
  socket.write('POST /fhir/Patient HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{"resourceType"');
  const text = await answer;
  // The server may have answered 401 first (no client certificate) or cut the request with 408; it must not wait.
  assert.match(text, /^HTTP\/1\.1 (408|401) /);
});

test('an idle keep-alive connection is closed after a request', { timeout: 20_000 }, async () => {
  const socket = await connectTls();
  const answer = untilClosed(socket);
  socket.write('GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\n\r\n');
  const text = await answer;
  // Answered (401: no client certificate), then closed by the server while the client kept it open.
  assert.match(text, /^HTTP\/1\.1 401 /);
  assert.doesNotMatch(text, /[Cc]onnection: close/);
});
