// The FHIR server's graceful shutdown (rest/connection-drain.ts) at the keep-alive race: a client sends
// its next request on a connection the server saw idle when the drain began. Raw TLS connections play the
// clients, so each moment is chosen, not hoped for. What may happen to such a request: a full response
// (with Connection: close), or the connection closes before the server read a byte of it, and then it
// was not processed. Never: processed and not answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { DRAIN_IDLE_GRACE_MS } from '../../../src/fhir/rest/connection-drain.ts';

/** A keep-alive connection of the test organisation that keeps writing after the server closed its side (a client that has not noticed yet). */
async function connect(site: TestSite) {
  const cert = site.certs.organizations.Test_Organization!.client;
  const socket = tls.connect({
    host: '127.0.0.1',
    servername: 'localhost',
    port: Number(new URL(site.baseUrl).port),
    cert: readFileSync(cert.certPath),
    key: readFileSync(cert.keyPath),
    ca: readFileSync(site.certs.ca.certPath),
    // Passed on to the TLSSocket (not in @types/node's ConnectionOptions): the client's side stays open after the server's FIN.
    ...({ allowHalfOpen: true } as tls.ConnectionOptions),
  });
  let received = '';
  let ended = false;
  socket.on('data', (d) => (received += d));
  socket.on('end', () => (ended = true));
  socket.on('error', () => {}); // a write after the server closed may be reset: the test looks at what arrived
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const path = new URL(site.baseUrl).pathname;
  return {
    socket,
    get ended() {
      return ended;
    },
    /** Everything received since the last call. */
    take(): string {
      const r = received;
      received = '';
      return r;
    },
    /** Resolves with one complete response (head and Content-Length body), or what arrived when the connection ended (bounded: 30 s). */
    async response(): Promise<string> {
      for (let i = 0; i < 1500; i++) {
        const head = received.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(received.slice(0, head))?.[1];
        if (head >= 0 && length !== undefined && Buffer.byteLength(received.slice(head + 4)) >= Number(length)) return this.take();
        if (ended) return this.take();
        await sleep(20);
      }
      return this.take();
    },
    createPatient(value: string): [string, string] {
      const body = JSON.stringify({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://drain.test', value }] });
      const head = `POST ${path}/Patient HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\nContent-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      return [head, body];
    },
    search: `GET ${path}/Patient?_count=0 HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\n\r\n`,
  };
}

async function stored(site: TestSite, value: string): Promise<boolean> {
  const r = await site.db.pool.query(`SELECT count(*)::int AS n FROM resources WHERE type = 'Patient' AND resource @> $1::jsonb`, [JSON.stringify({ identifier: [{ value }] })]);
  return r.rows[0].n > 0;
}

test('shutdown at the keep-alive race: a late request is answered in full or closed unread, never processed unanswered', { timeout: 60_000 }, async () => {
  const site = await startTestSite();
  try {
    // Three keep-alive connections, idle from the same moment on: each had a first request answered.
    const [stalled, quiet, split] = await Promise.all([connect(site), connect(site), connect(site)]);
    const first = await Promise.all(
      [stalled, quiet, split].map((c) => {
        c.socket.write(c.search);
        return c.response();
      }),
    );
    const answered = Date.now();
    for (const r of first) assert.match(r, /^HTTP\/1.1 200 .*\r\nConnection: keep-alive\r\n/is);

    const closed = site.server.close();
    await sleep(100);
    split.socket.write(split.createPatient('split')[0].slice(0, 30)); // half a request head: the connection is in use
    // A client whose next request comes 600 ms late (a client on a loaded machine): answered, told to close.
    await sleep(500);
    stalled.socket.write(stalled.createPatient('stalled').join(''));
    const late = await stalled.response();
    assert.match(late, /^HTTP\/1.1 201 /);
    assert.match(late, /\r\nconnection: close\r\n/i);

    // A connection idle for the grace is closed; a request the client sends after that is not processed.
    for (let i = 0; i < 750 && !quiet.ended; i++) await sleep(20);
    assert.ok(quiet.ended, 'the idle connection was closed');
    // Not much before the grace (the answer reached this test later than the server counted it idle).
    assert.ok(Date.now() - answered >= DRAIN_IDLE_GRACE_MS / 2, 'closed long before the grace');
    quiet.socket.write(quiet.createPatient('after-close').join(''));

    // The rest of the half-written head, after the grace: the connection was in use all along, so it is answered.
    await sleep(100);
    const [head, body] = split.createPatient('split');
    split.socket.write(head.slice(30) + body);
    const splitResponse = await split.response();
    assert.match(splitResponse, /^HTTP\/1.1 201 /);
    assert.match(splitResponse, /\r\nconnection: close\r\n/i);

    await closed;
    assert.equal(quiet.take(), '', 'no answer after the close');
    assert.equal(await stored(site, 'stalled'), true);
    assert.equal(await stored(site, 'split'), true);
    assert.equal(await stored(site, 'after-close'), false, 'a request written after the server closed the connection was processed');
    for (const c of [stalled, quiet, split]) c.socket.destroy();
  } finally {
    await site.db.drop();
  }
});

test('shutdown while connections wait to be accepted: they are accepted and answered, not reset', { timeout: 60_000 }, async () => {
  const site = await startTestSite();
  try {
    const cert = site.certs.organizations.Test_Organization!.client;
    // The TCP handshake completes in the kernel; this process accepts the connection only when its event
    // loop polls next. Until then it waits in the listen backlog, which closing the listener resets.
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', port: Number(new URL(site.baseUrl).port), cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), ca: readFileSync(site.certs.ca.certPath) });
    let received = '';
    let error: string | undefined;
    socket.on('data', (d) => (received += d));
    socket.on('error', (e) => (error = (e as { code?: string }).code ?? e.message));
    socket.once('secureConnect', () => socket.write(`GET ${new URL(site.baseUrl).pathname}/Patient?_count=0 HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\n\r\n`));
    await new Promise((resolve) => process.nextTick(resolve)); // net.connect issues connect(2) on the next tick
    // A busy server: its event loop does not come round to accepting for 100 ms, then SIGTERM's close starts.
    const busyUntil = Date.now() + 100;
    while (Date.now() < busyUntil);
    const closed = site.server.close();
    await new Promise((resolve) => socket.once('close', resolve));
    await closed;
    assert.equal(error, undefined, `the waiting connection failed: ${error}`);
    assert.match(received, /^HTTP\/1.1 200 /);
    assert.match(received, /\r\nconnection: close\r\n/i);
  } finally {
    await site.db.drop();
  }
});

test('shutdown while a request is under way: its answer, sent during the drain, says Connection: close', { timeout: 60_000 }, async () => {
  const site = await startTestSite();
  try {
    const c = await connect(site);
    // The head and half the body before the drain: the request is under way, its answer not begun.
    const [head, body] = c.createPatient('under-way');
    c.socket.write(head + body.slice(0, 10));
    await sleep(200);
    const closed = site.server.close();
    await sleep(200);
    c.socket.write(body.slice(10));
    const answer = await c.response();
    assert.match(answer, /^HTTP\/1.1 201 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    await closed;
    c.socket.destroy();
  } finally {
    await site.db.drop();
  }
});
