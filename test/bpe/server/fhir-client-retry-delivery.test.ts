// withRetry must not send a POST twice when the server may have received it: a real TLS server on
// loopback reads the request and then drops the connection. A request that provably never reached the
// server (connection refused, TLS handshake failure) is still retried; GET keeps retrying as before.
// Both transports the FhirClient runs on are checked (the BPE's HttpTransport, the CLI's HttpsClient).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { Task } from '@medplum/fhirtypes';
import { tlsServerCertificatesForTests } from '../../support/tls-server-certificates.ts';
import { HttpTransport, type FhirHttp } from '../../../src/bpe/client/http-transport.ts';
import { HttpFhirClient } from '../../../src/bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { FhirConnectionError, type DelayStrategy } from '../../../src/plugin-api/index.ts';

const certs = tlsServerCertificatesForTests('dsf-retry-delivery-');

const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };

interface Seen {
  method: string;
  path: string;
}

/** A TLS server that reads each request completely and then destroys the connection without answering. */
async function startDroppingServer(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '' });
      req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, seen, close: () => closeServer(server) };
}

/** A TLS server that stores each POSTed Task once and answers 201. */
function answeringServer(seen: Seen[]): https.Server {
  return https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '' });
      res.writeHead(201, { 'content-type': 'application/fhir+json', location: `https://localhost/fhir/Task/t${seen.length}/_history/1` });
      res.end(JSON.stringify({ ...task, id: `t${seen.length}`, meta: { versionId: '1' } }));
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as https.Server).closeAllConnections?.();
  });
}

const transports: Array<[string, () => FhirHttp]> = [
  ['HttpTransport', () => new HttpTransport({ tls: { ca: certs.ca } })],
  ['HttpsClient', () => new HttpsClient({ ca: certs.ca })],
];

for (const [name, makeHttp] of transports) {
  describe(`withRetry over ${name}`, () => {
    function client(http: FhirHttp, port: number): HttpFhirClient {
      return new HttpFhirClient({ http, baseUrl: `https://localhost:${port}/fhir`, connectTimeoutMs: 2_000, readTimeoutMs: 10_000 });
    }

    test('a POST the server read before the connection died is sent once and fails with the connection error', async () => {
      const server = await startDroppingServer();
      const http = makeHttp();
      try {
        const error = await client(http, server.port).withRetry(3, 5).create(task).then(
          () => assert.fail('expected a connection error'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof FhirConnectionError, `got ${String(error)}`);
        assert.equal(error.requestSent, true);
        assert.deepEqual(server.seen, [{ method: 'POST', path: '/fhir/Task' }], 'the server saw the POST exactly once');
        // The same for a transaction and an operation.
        await assert.rejects(client(http, server.port).withRetry(3, 5).postBundle({ resourceType: 'Bundle', type: 'transaction' }), FhirConnectionError);
        await assert.rejects(client(http, server.port).withRetry(3, 5).operation('process', undefined, { type: 'Task' }), FhirConnectionError);
        assert.deepEqual(server.seen.map((s) => s.path), ['/fhir/Task', '/fhir', '/fhir/Task/$process']);
      } finally {
        http.close();
        await server.close();
      }
    });

    test('a POST on a reused keep-alive connection that dies after the server read it is not sent again', async () => {
      const seen: Seen[] = [];
      const fresh: boolean[] = [];
      const known = new WeakSet<object>();
      const server = https.createServer({ cert: certs.cert, key: certs.key, keepAliveTimeout: 30_000 }, (req, res) => {
        fresh.push(!known.has(req.socket));
        known.add(req.socket);
        req.resume();
        req.on('end', () => {
          seen.push({ method: req.method ?? '', path: req.url ?? '' });
          if (req.method === 'POST') return req.socket.destroy();
          res.writeHead(200, { 'content-type': 'application/fhir+json' });
          res.end(JSON.stringify({ ...task, id: 'x' }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const http = makeHttp();
      try {
        const fhir = client(http, (server.address() as net.AddressInfo).port).withRetry(3, 5);
        await fhir.read('Task', 'x');
        const error = await fhir.create(task).then(
          () => assert.fail('expected a connection error'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof FhirConnectionError);
        assert.equal(error.requestSent, true);
        assert.deepEqual(seen.map((s) => s.method), ['GET', 'POST'], 'the POST once');
        assert.deepEqual(fresh, [true, false], 'the POST went out on the connection of the GET');
      } finally {
        http.close();
        await closeServer(server);
      }
    });

    test('a GET on the same server is still retried', async () => {
      const server = await startDroppingServer();
      const http = makeHttp();
      try {
        await assert.rejects(client(http, server.port).withRetry(3, 5).read('Task', 'x'), FhirConnectionError);
        assert.equal(server.seen.length, 4, 'first attempt and three retries');
      } finally {
        http.close();
        await server.close();
      }
    });

    test('a POST whose connection was refused is retried and then stored once', async () => {
      const port = await freePort();
      const seen: Seen[] = [];
      const server = answeringServer(seen);
      let refusedRetries = 0;
      // nextDelayMs is asked after the second failed attempt: only then does the server start listening.
      const delay: DelayStrategy = {
        firstDelayMs: 50,
        nextDelayMs: () => {
          if (++refusedRetries === 1) server.listen(port, '127.0.0.1');
          return 200;
        },
      };
      const http = makeHttp();
      try {
        const created = await client(http, port).withRetry(3, delay).create(task);
        assert.equal(created.id, 't1');
        assert.equal(refusedRetries, 1, 'two refused attempts before the server listened');
        assert.deepEqual(seen, [{ method: 'POST', path: '/fhir/Task' }]);
      } finally {
        http.close();
        await closeServer(server);
      }
    });

    test('a POST whose TLS handshake failed is retried', async () => {
      let connections = 0;
      const server = net.createServer((socket) => {
        connections++;
        socket.destroy(); // accepted, then closed before the handshake completed
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const http = makeHttp();
      try {
        const error = await client(http, (server.address() as net.AddressInfo).port).withRetry(3, 5).create(task).then(
          () => assert.fail('expected a connection error'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof FhirConnectionError);
        assert.equal(error.requestSent, false);
        assert.equal(connections, 4, 'first attempt and three retries');
      } finally {
        http.close();
        await closeServer(server);
      }
    });
  });
}
