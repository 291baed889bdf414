// The shared HTTPS client closes its idle keep-alive sockets itself, long before a server's
// keep-alive timeout: a request is then never written to a socket the server is closing at that
// very moment (ECONNRESET "socket hang up" on a POST, seen once in CI while filling a repository).
// The clients here close idle sockets after IDLE_MS instead of the default 4 s, to keep the test short.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateCertificates } from '../../src/cli/certs.ts';
import { HttpsClient } from '../../src/common/https-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsf-https-idle-'));
let server: https.Server;
let baseUrl = '';
let ca = '';
const connections = { opened: 0, closed: 0 };
/** The clients' idle limit for pooled sockets here. */
const IDLE_MS = 300;

before(async () => {
  const set = await generateCertificates({ dir, organizations: ['server'] });
  const s = set.organizations['server']!.server;
  ca = readFileSync(set.ca.certPath, 'utf8');
  // A keep-alive longer than the client's idle limit: only the client can close the idle socket.
  server = https.createServer({ cert: readFileSync(s.certPath, 'utf8'), key: readFileSync(s.keyPath, 'utf8'), keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    // /slow answers after three idle limits of the client.
    req.on('end', () => (req.url === '/slow' ? setTimeout(() => res.end('late'), 3 * IDLE_MS) : res.end('ok')));
  });
  server.on('secureConnection', (socket) => {
    connections.opened++;
    socket.on('close', () => connections.closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://localhost:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test('idle pooled sockets are closed by the client after its idle limit; busy ones are reused; the next request opens a new one', async () => {
  const client = new HttpsClient({ ca }, { idleSocketMs: IDLE_MS });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await client.request(`${baseUrl}/x`, { method: 'POST', body: 'b' })).status, 200);
    assert.equal(connections.opened, 1, 'back-to-back requests reuse the socket');
    const deadline = Date.now() + 10 * IDLE_MS;
    while (connections.closed < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections.closed, 1, 'the idle socket was closed by the client');
    assert.equal((await client.request(`${baseUrl}/x`, { method: 'POST', body: 'b' })).status, 200);
    assert.equal(connections.opened, 2);
  } finally {
    client.close();
  }
});

test('a request slower than the idle limit is not cut off by it', async () => {
  const client = new HttpsClient({ ca }, { idleSocketMs: IDLE_MS });
  try {
    const r = await client.request(`${baseUrl}/slow`, { timeoutMs: 20_000 });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'late');
  } finally {
    client.close();
  }
});
