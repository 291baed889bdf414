// Keep-alive sockets whose peer went silent (no FIN, no RST): a real TLS server on loopback answers
// normally, then goes silent on the connections it has open — either it stops reading them (the
// request never reaches it, like a black-holed connection) or it reads requests and never answers.
// Retryable requests must not wait for the read timeout, and a POST must never be sent twice.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tlsServerCertificatesForTests } from '../../support/tls-server-certificates.ts';
import { HttpTransport } from '../../../src/bpe/client/http-transport.ts';

interface Received {
  method: string;
  path: string;
  fresh: boolean;
}

interface SilentServer {
  baseUrl: string;
  ca: string;
  received: Received[];
  closedConnections: number;
  /** From now on the connections open now are not read any more (requests on them never arrive). */
  stopReadingOpenConnections(): void;
  /** From now on requests on the connections open now are read but never answered. */
  stopAnsweringOpenConnections(): void;
  close(): Promise<void>;
}

const certs = tlsServerCertificatesForTests('dsf-stale-sockets-');

async function startSilentServer(): Promise<SilentServer> {
  const open = new Set<TLSSocket>();
  const unanswered = new WeakSet<object>();
  const seen = new WeakSet<object>();
  const state = { received: [] as Received[], closedConnections: 0 };
  const server = https.createServer({ cert: certs.cert, key: certs.key, keepAliveTimeout: 30_000 }, (req, res) => {
    const fresh = !seen.has(req.socket);
    seen.add(req.socket);
    state.received.push({ method: req.method ?? '', path: req.url ?? '', fresh });
    req.resume();
    if (unanswered.has(req.socket)) return;
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url}`);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      state.closedConnections++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `https://localhost:${(server.address() as AddressInfo).port}`,
    ca: certs.ca,
    get received() {
      return state.received;
    },
    get closedConnections() {
      return state.closedConnections;
    },
    stopReadingOpenConnections: () => open.forEach((s) => s.pause()),
    stopAnsweringOpenConnections: () => open.forEach((s) => unanswered.add(s)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a GET on a pooled socket the server stopped reading is retried on a fresh connection within seconds', async () => {
  const server = await startSilentServer();
  const transport = new HttpTransport({ tls: { ca: server.ca } });
  try {
    assert.equal((await transport.request(`${server.baseUrl}/first`)).status, 200);
    server.stopReadingOpenConnections();
    const started = Date.now();
    const res = await transport.request(`${server.baseUrl}/second`, { timeoutMs: 60_000 });
    const took = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /second');
    // The default first-byte limit on reused sockets is 5 s, far below the 60 s read timeout.
    assert.ok(took >= 4_500 && took < 10_000, `took ${took} ms`);
    assert.deepEqual(server.received, [
      { method: 'GET', path: '/first', fresh: true },
      { method: 'GET', path: '/second', fresh: true },
    ]);
  } finally {
    transport.close();
    await server.close();
  }
});

test('a GET the server received on a pooled socket but never answers is sent once more on a fresh connection', async () => {
  const server = await startSilentServer();
  const transport = new HttpTransport({ tls: { ca: server.ca }, staleSockets: { reusedFirstByteMs: 1_000 } });
  try {
    await transport.request(`${server.baseUrl}/first`);
    server.stopAnsweringOpenConnections();
    const started = Date.now();
    const res = await transport.request(`${server.baseUrl}/again`, { method: 'GET', timeoutMs: 60_000 });
    assert.equal(res.body, 'GET /again');
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(
      server.received.map((r) => `${r.path} ${r.fresh ? 'fresh' : 'reused'}`),
      ['/first fresh', '/again reused', '/again fresh'],
    );
  } finally {
    transport.close();
    await server.close();
  }
});

test('a POST never goes out on a pooled socket idle for more than a second: it takes a fresh connection', async () => {
  const server = await startSilentServer();
  const transport = new HttpTransport({ tls: { ca: server.ca } });
  try {
    await transport.request(`${server.baseUrl}/first`);
    server.stopReadingOpenConnections();
    await sleep(1_300);
    const started = Date.now();
    const res = await transport.request(`${server.baseUrl}/Task`, { method: 'POST', body: '{}', timeoutMs: 60_000 });
    assert.equal(res.body, 'POST /Task');
    assert.ok(Date.now() - started < 3_000);
    assert.deepEqual(server.received.filter((r) => r.method === 'POST'), [{ method: 'POST', path: '/Task', fresh: true }]);
  } finally {
    transport.close();
    await server.close();
  }
});

test('a POST the server received but never answers is not sent twice', async () => {
  const server = await startSilentServer();
  const transport = new HttpTransport({ tls: { ca: server.ca }, staleSockets: { reusedFirstByteMs: 500 } });
  try {
    await transport.request(`${server.baseUrl}/first`);
    server.stopAnsweringOpenConnections();
    // At once: the pooled socket was idle only briefly, so the POST reuses it.
    await assert.rejects(transport.request(`${server.baseUrl}/Task`, { method: 'POST', body: '{}', timeoutMs: 2_000 }), (e: Error & { code?: string }) => e.code === 'ETIMEDOUT');
    await sleep(300);
    assert.deepEqual(server.received.filter((r) => r.method === 'POST'), [{ method: 'POST', path: '/Task', fresh: false }]);
  } finally {
    transport.close();
    await server.close();
  }
});

test('idle pooled sockets are closed by the client before the server keep-alive ends', async () => {
  const server = await startSilentServer();
  const transport = new HttpTransport({ tls: { ca: server.ca }, staleSockets: { idleSocketMs: 300 } });
  try {
    await transport.request(`${server.baseUrl}/first`);
    assert.equal(server.closedConnections, 0);
    const deadline = Date.now() + 3_000;
    while (server.closedConnections === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(server.closedConnections, 1);
  } finally {
    transport.close();
    await server.close();
  }
});
