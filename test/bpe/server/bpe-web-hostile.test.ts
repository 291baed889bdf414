// Hostile clients at the BPE's HTTPS server and its view: stalled handshakes, half headers, slow bodies,
// oversized headers and bodies, thousands of query parameters, NUL bytes and broken percent-encoding,
// unknown and malformed ids, retry/cancel of what cannot be retried or cancelled, two admins retrying one
// incident at once. Each gets a 4xx page (or the right behaviour) in bounded time, never a 500 or a hang;
// failures are logged with their stack, variable values never. Real engine, PostgreSQL and TLS, in-process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { ManualClock } from '../../../src/bpe/engine/clock.ts';
import { ProcessEngine } from '../../../src/bpe/engine/engine.ts';
import { BpeLogger, type LogLevel } from '../../../src/bpe/services/logging.ts';
import { BpeRoleConfig } from '../../../src/bpe/ui/bpe-role-config.ts';
import { createBpeWebUi } from '../../../src/bpe/ui/bpe-web-ui.ts';
import { startBpeWebServer, MAX_REQUEST_BODY_BYTES, type BpeWebServer } from '../../../src/bpe/web/bpe-web-server.ts';
import { clientCertificates } from '../../../src/bpe/web/client-certificate.ts';
import type { PluginDeploymentResult } from '../../../src/bpe/plugins/plugin-manager.ts';
import { OidcLogin, LOGIN_COOKIE } from '../../../src/common/web/oidc-login.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { testCertificates } from '../../support/fhir-site.ts';
import { bpmn, fn, seq } from '../engine/harness.ts';

/** A value that stands for personal data: it must appear in no log line. */
const PERSONAL = 'Erika Mustermann 1964-08-12';

let db: TestDatabase;
let engine: ProcessEngine;
let clock: ManualClock;
/** The fixture's server: timeouts of seconds, so that handshakes on a loaded machine are not what a test meets. */
let server: BpeWebServer;
/** A server with short timeouts, for the tests that check them. */
let shortServer: BpeWebServer;
let shortPort: number;
/** Another server for the same engine and view, with other timeouts. */
let startServer: (port: number, timeouts: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number }) => Promise<BpeWebServer>;
let port: number;
let ca: string;
let admin: HttpsClient;
let adminIdentity: { cert: string; key: string };
const logLines: { level: LogLevel; message: string }[] = [];
let failing = true;

before(async () => {
  const certs = await testCertificates();
  ca = readFileSync(certs.ca.certPath, 'utf8');
  const org = certs.organizations.Test_Organization!;
  adminIdentity = { cert: readFileSync(certs.users.admin!.certPath, 'utf8'), key: readFileSync(certs.users.admin!.keyPath, 'utf8') };
  admin = new HttpsClient({ ca, ...adminIdentity });

  db = await createTestDatabase('dsf_bpe_hostile');
  clock = new ManualClock();
  const delegates = new Map([
    [
      'test.Flaky',
      fn(() => {
        if (failing) throw new Error('remote site unreachable');
      }),
    ],
  ]);
  engine = new ProcessEngine({ pool: db.pool, clock, delegates });
  await engine.migrate();
  await engine.deploy(
    bpmn('waits', `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="w"><bpmn:messageEventDefinition messageRef="Message_go" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="e" />${seq('a', 's', 'w')}${seq('b', 'w', 'e')}`, { messages: ['go'] }),
  );
  await engine.deploy(bpmn('done', `<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />${seq('a', 's', 'e')}`));
  await engine.deploy(
    bpmn(
      'flaky',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="t" camunda:class="test.Flaky" camunda:asyncBefore="true">
         <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R1/PT1S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 't')}${seq('b', 't', 'e')}`,
    ),
  );

  const problems: string[] = [];
  const roles = BpeRoleConfig.parse(['- admins:', '    email: admin@test.org', '    dsf-role:', '      - ADMIN', ''].join('\n'), problems);
  assert.deepEqual(problems, []);
  const log = new BpeLogger((level, message) => void logLines.push({ level, message }), 'bpe-web');
  const deployment = { plugins: [], refused: [], states: [], resources: {}, ended: [] } as unknown as PluginDeploymentResult;
  const trustedClientCas = [ca];
  const certificateOf = clientCertificates({ header: 'X-ClientCert', trustedProxyAddresses: [], trustedCas: trustedClientCas });
  startServer = async (serverPort, timeouts) => {
    const baseUrl = `https://localhost:${serverPort}/bpe`;
    const ui = createBpeWebUi({ engine, deployment, organization: 'test-organization.test', roles, base: '/bpe/ui', url: `${baseUrl}/ui`, certificateOf, log });
    return startBpeWebServer(
      {
        baseUrl,
        host: '127.0.0.1',
        port: serverPort,
        serverCertificate: readFileSync(org.server.certPath, 'utf8'),
        serverCertificateKey: readFileSync(org.server.keyPath, 'utf8'),
        trustedClientCas,
        clientCertificateHeader: 'X-ClientCert',
        trustedProxyAddresses: [],
        timeouts,
      },
      () => ({ organization: 'test-organization.test', fhirBaseUrl: 'https://localhost/fhir', connected: true, plugins: [], processes: [] }),
      ui,
      certificateOf,
      log,
    );
  };
  port = await freePort();
  server = await startServer(port, { headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000 });
  shortPort = await freePort();
  shortServer = await startServer(shortPort, { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000 });
});

after(async () => {
  admin?.close();
  await server?.close();
  await shortServer?.close();
  await db?.drop();
});

const url = (path: string) => `https://localhost:${port}${path}`;
const sameOrigin = () => ({ origin: `https://localhost:${port}`, 'content-type': 'application/x-www-form-urlencoded' });
const post = (path: string) => admin.request(url(`/bpe/ui${path}`), { method: 'POST', headers: sameOrigin(), body: '' });

/** A TLS connection with the admin's certificate (or none). */
function connectTls(withCertificate = true, serverPort = port): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: serverPort, servername: 'localhost', ca, ...(withCertificate ? adminIdentity : {}) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', () => {});
    // Closed already (its 'close' came before this listener): waiting for it would never end.
    if (socket.closed) resolve(data);
    else socket.once('close', () => resolve(data));
  });
}

/** One raw request (bytes as given) on its own connection; the answer up to the connection's end. */
async function raw(request: string | Buffer): Promise<string> {
  const socket = await connectTls();
  const answer = untilClosed(socket);
  socket.write(request);
  return answer;
}

const rawGet = (target: string | Buffer) =>
  raw(Buffer.concat([Buffer.from('GET '), Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1'), Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')]));

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

/** Polls check every 20 ms until it holds; fails after ms. */
async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

test('the view answers an admin (the fixture works)', async () => {
  const page = await admin.request(url('/bpe/ui/instances'));
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /Process instances/);
});

test('a client that stalls in the TLS handshake, or never starts it, is cut off within the header timeout', { timeout: 20_000 }, async () => {
  const { ms } = await timed(async () => {
    const silent = net.connect({ host: '127.0.0.1', port: shortPort });
    await untilClosed(silent);
    assert.ok(silent.destroyed);
  });
  assert.ok(ms < 5_000, `closed after ${ms} ms`);
  // A ClientHello's first bytes, then nothing.
  const { ms: halfMs } = await timed(async () => {
    const half = net.connect({ host: '127.0.0.1', port: shortPort });
    const closed = untilClosed(half);
    half.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await closed;
  });
  assert.ok(halfMs < 5_000, `closed after ${halfMs} ms`);
});

test('half a header is answered 408 and closed; a TLS connection that sends nothing is closed', { timeout: 20_000 }, async () => {
  const socket = await connectTls(true, shortPort);
  const answer = untilClosed(socket);
  socket.write('GET /bpe/ui HTTP/1.1\r\nHost: localhost\r\nX-Partial: ');
  const { value: text, ms } = await timed(() => answer);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(ms < 5_000, `closed after ${ms} ms`);
  const idle = await connectTls(true, shortPort);
  await untilClosed(idle);
  assert.ok(idle.destroyed);
});

test('a body sent too slowly is cut off within the request timeout', { timeout: 20_000 }, async () => {
  const socket = await connectTls(true, shortPort);
  const answer = untilClosed(socket);
  socket.write(`POST /bpe/ui/jobs/x/retry HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost:${shortPort}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=`);
  const timer = setInterval(() => socket.writable && socket.write('b'), 200);
  try {
    const { value: text, ms } = await timed(() => answer);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(ms < 5_000, `closed after ${ms} ms`);
  } finally {
    clearInterval(timer);
  }
});

test('a client that resets its connection mid-request leaves the server holding no socket', { timeout: 20_000 }, async () => {
  // Its own server with generous timeouts: the header timeout must not be what closes the connection.
  const resetPort = await freePort();
  const resetServer = await startServer(resetPort, { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < 3; i++) {
      // TLS over a TCP socket of our own: only a TCP socket can send a reset (RST).
      const tcp = net.connect({ host: '127.0.0.1', port: resetPort });
      await new Promise<void>((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
      const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ socket: tcp, servername: 'localhost', ca, ...adminIdentity }, () => resolve(s));
        s.once('error', reject);
      });
      secure.on('error', () => {});
      secure.write('POST /bpe/ui/jobs/x/retry HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n' + (i === 2 ? '\r\na=' : 'X-Partial: '));
      await waitUntil(async () => (await resetServer.connections()) === 1, 5_000, 'the server holds the connection');
      tcp.resetAndDestroy();
    }
    await waitUntil(async () => (await resetServer.connections()) === 0, 5_000, 'the server holds no socket after the resets');
  } finally {
    await resetServer.close();
  }
});

test('many stalled connections at once do not keep the view from answering', { timeout: 30_000 }, async () => {
  // A server of its own with a header timeout of 5 s: 30 handshakes at once in this process take
  // longer than a short timeout on a loaded machine, and the server would cut some of them off
  // before they stall (then they are not there when the view is asked, and one cut before the test
  // watched it made the test wait for a 'close' that had come already).
  const stallPort = await freePort();
  const stallServer = await startServer(stallPort, { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 1_000 });
  const client = new HttpsClient({ ca, ...adminIdentity });
  try {
    const sockets = await Promise.all(Array.from({ length: 30 }, () => connectTls(true, stallPort)));
    const closed = sockets.map((s) => {
      const done = untilClosed(s);
      s.write('GET /bpe/ui HTTP/1.1\r\nHost: localhost\r\n');
      return done;
    });
    assert.equal((await client.request(`https://localhost:${stallPort}/bpe/ui`)).status, 200);
    assert.equal(sockets.filter((s) => !s.destroyed).length, 30, 'all 30 stalled connections were open while the view answered');
    // The header timeout cuts every one of them off, each with a 408.
    const answers = await Promise.all(closed);
    assert.ok(sockets.every((s) => s.destroyed));
    assert.ok(answers.every((a) => /^HTTP\/1\.1 408 /.test(a)), answers.find((a) => !/^HTTP\/1\.1 408 /.test(a))?.slice(0, 100));
  } finally {
    client.close();
    await stallServer.close();
  }
});

test('an idle keep-alive connection is closed after the keep-alive timeout', { timeout: 20_000 }, async () => {
  const socket = await connectTls(true, shortPort);
  const answer = untilClosed(socket);
  socket.write('GET /bpe/ui HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const { value: text, ms } = await timed(() => answer);
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.ok(ms < 5_000, `closed after ${ms} ms`);
});

test('headers beyond 16 KiB are answered 431', async () => {
  const answer = await raw(`GET /bpe/ui HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`);
  assert.equal(statusOf(answer), 431, answer.slice(0, 200));
  const cookie = await admin.request(url('/bpe/ui'), { headers: { cookie: `dsf_session=${'x'.repeat(20_000)}` } }).catch((e: Error) => ({ status: 0, body: e.message }));
  assert.equal(cookie.status, 431);
});

test('a huge form body is answered 413, by its Content-Length or while it streams', { timeout: 20_000 }, async () => {
  const declared = await raw(
    `POST /bpe/ui/jobs/x/retry HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000000\r\n\r\na=b`,
  );
  assert.equal(statusOf(declared), 413, declared.slice(0, 200));
  const streamed = await admin.request(url('/bpe/ui/jobs/x/retry'), { method: 'POST', headers: sameOrigin(), body: `a=${'x'.repeat(MAX_REQUEST_BODY_BYTES + 10)}` }).catch((e: Error) => ({ status: 0, body: e.message }));
  assert.equal(streamed.status, 413);
  // Chunked: no Content-Length to refuse by.
  const socket = await connectTls();
  const answer = untilClosed(socket);
  socket.write(`POST /bpe/ui/instances/x/cancel HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost:${port}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunk = 'y'.repeat(16 * 1024);
  for (let i = 0; i < 8 && socket.writable; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  assert.equal(statusOf(await answer), 413);
});

test('thousands of query parameters on the instance list get a 400 page; a normal number a list', async () => {
  const many = Array.from({ length: 2000 }, (_, i) => `state=running&p${i}=1`).join('&').slice(0, 15_000);
  const refused = await admin.request(url(`/bpe/ui/instances?${many}`));
  assert.equal(refused.status, 400);
  assert.match(refused.headers['content-type'] as string, /text\/html/);
  assert.match(refused.body, /query parameters/);
  const fine = await admin.request(url(`/bpe/ui/instances?${Array.from({ length: 50 }, (_, i) => `x${i}=1`).join('&')}&state=failed`));
  assert.equal(fine.status, 200);
});

test('NUL bytes, control characters, invalid UTF-8 and broken percent-encoding in paths and queries are 400, never 500', async () => {
  const targets = [
    '/bpe/ui/instances/%00',
    '/bpe/ui/instances?process=%00',
    '/bpe/ui/instances?process=a%0Db',
    '/bpe/ui/instances?state=%FF',
    '/bpe/ui/instances?process=%E0%A4%A',
    '/bpe/ui/instances?%zz=1',
    '/bpe/ui/definitions/%FF/bpmn',
    '/bpe/ui/definitions/%C0%AF/bpmn',
    '/bpe/ui/%',
    '/bpe/status?x=%00',
    '/bpe/%00',
    '//[',
    '//evil.example/bpe/ui',
  ];
  for (const target of targets) {
    const answer = await rawGet(target);
    assert.equal(statusOf(answer), 400, `${target}: ${answer.slice(0, 300)}`);
  }
  // Raw bytes Node's parser refuses itself: still a 4xx, never a 500.
  for (const target of [Buffer.from('/bpe/ui/\x00x', 'latin1'), Buffer.from([0x2f, 0x62, 0x70, 0x65, 0x2f, 0x75, 0x69, 0x3f, 0x61, 0x3d, 0xff, 0xfe]), Buffer.from('/bpe/ui\x7f', 'latin1')]) {
    const status = statusOf(await rawGet(target));
    assert.ok(status >= 400 && status < 500, `${JSON.stringify(target.toString('latin1'))}: ${status}`);
  }
  assert.equal((await admin.request(url('/bpe/ui'))).status, 200);
});

test('an unknown or malformed instance id is a 404 page', async () => {
  for (const id of ['00000000-0000-4000-8000-000000000000', 'x'.repeat(65), '..%2F..%2Fstatus', 'a;b', "1' OR '1'='1"]) {
    const page = await admin.request(url(`/bpe/ui/instances/${id}`));
    assert.ok(page.status === 404 || page.status === 400, `${id}: ${page.status}`);
    assert.match(page.headers['content-type'] as string, /text\/html/);
  }
});

test('cancel: an unknown instance is 404, a finished one 409 with a clear message, a running one cancelled once', async () => {
  const unknown = await post('/instances/00000000-0000-4000-8000-000000000000/cancel');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /No process instance with this id/);

  const done = await engine.startProcessByKey('done');
  assert.equal(done.state, 'completed');
  const finished = await post(`/instances/${done.id}/cancel`);
  assert.equal(finished.status, 409);
  assert.match(finished.body, /has ended already \(completed\)/);

  const waiting = await engine.startProcessByKey('waits', { variables: { patientName: PERSONAL } });
  const answers = await Promise.all(Array.from({ length: 4 }, () => post(`/instances/${waiting.id}/cancel`)));
  assert.deepEqual(answers.map((a) => a.status).sort(), [303, 409, 409, 409], answers.map((a) => a.body.slice(0, 100)).join('\n'));
  assert.equal((await engine.getInstance(waiting.id))?.state, 'cancelled');
});

test('retry: unknown job 404; 8 admins retrying one incident at once give it one attempt, no 500', { timeout: 30_000 }, async () => {
  assert.equal((await post('/jobs/00000000-0000-4000-8000-000000000000/retry')).status, 404);
  failing = true;
  const inst = await engine.startProcessByKey('flaky', { variables: { patientName: PERSONAL } });
  for (let i = 0; i < 5 && !(await engine.listIncidents()).some((x) => x.instanceId === inst.id); i++) {
    await engine.runDueJobs();
    clock.advance(2_000);
  }
  const incident = (await engine.listIncidents()).find((x) => x.instanceId === inst.id);
  assert.ok(incident, 'an incident');

  const answers = await Promise.all(Array.from({ length: 8 }, () => post(`/jobs/${incident.jobId}/retry`)));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 303).length, 1, statuses.join(','));
  assert.ok(statuses.every((s) => s === 303 || s === 404 || s === 409), statuses.join(','));
  assert.equal((await engine.listIncidents()).filter((x) => x.instanceId === inst.id).length, 0);

  // The one attempt fails again: one new incident, and a retry then works again.
  assert.equal(await engine.runDueJobs(), 1);
  assert.equal(await engine.runDueJobs(), 0);
  assert.equal((await engine.listIncidents()).filter((x) => x.instanceId === inst.id).length, 1);
  failing = false;
  assert.equal((await post(`/jobs/${incident.jobId}/retry`)).status, 303);
  assert.equal(await engine.runDueJobs(), 1);
  assert.equal((await engine.getInstance(inst.id))?.state, 'completed');
  const again = await post(`/jobs/${incident.jobId}/retry`);
  assert.equal(again.status, 404);
  assert.match(again.body, /No failed job with this id/);
});

test('the instance list stays bounded: the newest 500 of many', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 520; i++) await engine.startProcessByKey('done');
  const start = performance.now();
  const page = await admin.request(url('/bpe/ui/instances'));
  assert.equal(page.status, 200);
  assert.ok(performance.now() - start < 10_000);
  assert.equal((page.body.match(/<tr><td><a href=/g) ?? []).length, 500);
  assert.match(page.body, /The newest 500 of \d+ instances/);
});

test('a failure inside the view is a 500 page without details, logged with its stack; no variable value in any log line', async () => {
  await engine.startProcessByKey('waits', { variables: { patientName: PERSONAL } });
  const page = await admin.request(url('/bpe/ui/instances'));
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /Erika/, 'the list shows no variables');
  // A real database failure: the instance table is gone for a moment.
  await db.pool.query('ALTER TABLE bpmn_process_instance RENAME TO bpmn_process_instance_away');
  try {
    const failed = await admin.request(url('/bpe/ui/instances?state=running'));
    assert.equal(failed.status, 500);
    assert.doesNotMatch(failed.body, /bpmn_process_instance|relation|SELECT/i);
    assert.match(failed.body, /BPE log/);
  } finally {
    await db.pool.query('ALTER TABLE bpmn_process_instance_away RENAME TO bpmn_process_instance');
  }
  const errors = logLines.filter((l) => l.level === 'error');
  assert.ok(errors.length >= 1, 'the failure is logged');
  assert.ok(errors.some((l) => /bpmn_process_instance/.test(l.message) && /\n\s+at /.test(l.message)), 'with its stack');
  for (const l of logLines) assert.doesNotMatch(l.message, /Erika|Mustermann|1964-08-12/);
  assert.equal((await admin.request(url('/bpe/ui/instances'))).status, 200);
});

test('sign-in routes with hostile input (provider unreachable, forged cookies, provider errors): 4xx pages, never 500', { timeout: 30_000 }, async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const signInPort = await freePort();
  const baseUrl = `https://localhost:${signInPort}/bpe`;
  const login = new OidcLogin({ realmBaseUrl: 'https://127.0.0.1:9/realms/none', discoveryPath: '/.well-known/openid-configuration', clientId: 'bpe', clientSecret: 'secret', trustedCas: [ca], connectTimeoutMs: 500, readTimeoutMs: 500 });
  const problems: string[] = [];
  const roles = BpeRoleConfig.parse(['- admins:', '    email: admin@test.org', '    dsf-role:', '      - ADMIN', ''].join('\n'), problems);
  const certificateOf = clientCertificates({ header: 'X-ClientCert', trustedProxyAddresses: [], trustedCas: [ca] });
  const deployment = { plugins: [], refused: [], states: [], resources: {}, ended: [] } as unknown as PluginDeploymentResult;
  const lines: string[] = [];
  const log = new BpeLogger((_level, message) => void lines.push(message), 'bpe-web');
  const ui = createBpeWebUi({ engine, deployment, organization: 'test-organization.test', roles, base: '/bpe/ui', url: `${baseUrl}/ui`, certificateOf, login, log });
  const signInServer = await startBpeWebServer(
    {
      baseUrl,
      host: '127.0.0.1',
      port: signInPort,
      serverCertificate: readFileSync(org.server.certPath, 'utf8'),
      serverCertificateKey: readFileSync(org.server.keyPath, 'utf8'),
      trustedClientCas: [ca],
      clientCertificateHeader: 'X-ClientCert',
      trustedProxyAddresses: [],
    },
    () => ({ organization: 'x', fhirBaseUrl: 'https://localhost/fhir', connected: true, plugins: [], processes: [] }),
    ui,
    certificateOf,
    log,
  );
  const browser = new HttpsClient({ ca });
  try {
    const get = (path: string, headers: Record<string, string> = {}) => browser.request(`https://localhost:${signInPort}/bpe/ui${path}`, { headers });
    const cases: [string, Record<string, string>][] = [
      [`/login?return=${encodeURIComponent('//evil.example/x')}`, {}],
      [`/login?return=${'a'.repeat(5000)}`, {}],
      ['/login/callback', {}],
      ['/login/callback?state=x&code=y', { cookie: `${LOGIN_COOKIE}=${'x'.repeat(4000)}` }],
      ['/login/callback?state=x&code=y', { cookie: `${LOGIN_COOKIE}=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC` }],
      [`/login/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`, {}],
      ['/instances', { cookie: 'dsf_session=not-a-session' }],
    ];
    for (const [path, headers] of cases) {
      const r = await get(path, headers);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.body.slice(0, 300)}`);
      assert.match(String(r.headers['content-type']), /text\/html/);
      assert.doesNotMatch(r.body, /<script>alert/);
    }
    assert.equal((await get('/logout')).status, 200);
    const bigLogout = await browser.request(`https://localhost:${signInPort}/bpe/ui/logout`, { method: 'POST', headers: { origin: `https://localhost:${signInPort}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'x'.repeat(MAX_REQUEST_BODY_BYTES * 2) }).catch((e: Error) => ({ status: 0, body: e.message }));
    assert.equal(bigLogout.status, 413);
    assert.deepEqual(lines.filter((l) => / failed: /.test(l)), [], 'no failure logged');
  } finally {
    browser.close();
    await signInServer.close();
  }
});
