// Requests refused before routing (by Node's HTTP parser or fastify's body limit): a browser that asked
// for HTML gets an error page, any other client the OperationOutcome. Raw HTTP over real TLS, since
// these requests are ones no HTTP client library would send.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let site: TestSite;
let tlsOptions: tls.ConnectionOptions;
before(async () => {
  site = await startTestSite({ config: { limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 1_500 }, maxBodyBytes: 1024 } });
  const client = site.certs.organizations['Test_Organization']!.client;
  tlsOptions = { host: '127.0.0.1', port: site.server.port, servername: 'localhost', ca: readFileSync(site.certs.ca.certPath, 'utf8'), cert: readFileSync(client.certPath, 'utf8'), key: readFileSync(client.keyPath, 'utf8') };
});
after(() => site?.stop());

interface Answer {
  status: number;
  headers: string;
  body: string;
}

/** Sends parts (a pause of pauseMs after each but the last) and reads the answer until the server closes. */
function raw(parts: string[], pauseMs = 0): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(tlsOptions, async () => {
      for (const [i, p] of parts.entries()) {
        if (socket.destroyed) break;
        socket.write(p);
        if (i < parts.length - 1 && pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
    let data = '';
    const guard = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
    socket.once('error', (e) => {
      clearTimeout(guard);
      if (data) resolve(parse(data));
      else reject(e);
    });
    socket.once('close', () => {
      clearTimeout(guard);
      resolve(parse(data));
    });
  });
}

function parse(data: string): Answer {
  const end = data.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), headers: data.slice(0, end).toLowerCase(), body: data.slice(end + 4) };
}

function assertPage(a: Answer, status: number, title: RegExp, what: string): void {
  assert.equal(a.status, status, `${what}: ${a.headers}\n${a.body.slice(0, 300)}`);
  assert.match(a.headers, /content-type: text\/html;charset=utf-8/, what);
  assert.match(a.headers, /content-security-policy: default-src 'self'/, what);
  assert.match(a.body, /^<!DOCTYPE html>/, what);
  assert.match(a.body, title, what);
  assert.match(a.body, /static\/ui\.css/, `${what}: the site's own style sheet`);
}

function assertOutcome(a: Answer, status: number, issue: string, what: string): void {
  assert.equal(a.status, status, `${what}: ${a.headers}\n${a.body.slice(0, 300)}`);
  assert.match(a.headers, /content-type: application\/fhir\+json/, what);
  const oo = JSON.parse(a.body);
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue[0].code, issue);
}

const big = `X-Big: ${'a'.repeat(20_000)}\r\n`;

test('431 headers too large: a page when Accept (sent before the large header) asks for HTML, else an OperationOutcome', async () => {
  assertPage(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: ${BROWSER_ACCEPT}\r\n${big}Connection: close\r\n\r\n`]), 431, /431<\/span> Headers too large/, 'browser');
  assertPage(await raw([`GET /fhir/Task?_format=html HTTP/1.1\r\nHost: localhost\r\n${big}Connection: close\r\n\r\n`]), 431, /Headers too large/, '_format=html');
  assertOutcome(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\n${big}Connection: close\r\n\r\n`]), 431, 'too-costly', 'FHIR client');
  // An Accept line the client had not finished when the limit was hit does not count.
  assertOutcome(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\n${big}Accept: text/html`]), 431, 'too-costly', 'Accept line cut off');
});

test('400 malformed request: a page for a browser, an OperationOutcome for others', async () => {
  assertPage(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nBad\x01Header: x\r\n\r\n`]), 400, /Bad request/, 'browser');
  assertOutcome(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\nBad\x01Header: x\r\n\r\n`]), 400, 'structure', 'FHIR client');
  assertOutcome(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nBad\x01Header: x\r\n\r\n`]), 400, 'structure', 'no Accept');
});

test('408 body not received in time: a page for a browser whose headers arrived, an OperationOutcome for others', async () => {
  const slow = (accept: string) => [`POST /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: ${accept}\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{"resourceType":`, '"Task"'];
  assertPage(await raw(slow(BROWSER_ACCEPT), 4_000), 408, /Request timeout/, 'browser');
  assertOutcome(await raw(slow('application/fhir+json'), 4_000), 408, 'timeout', 'FHIR client');
  // Headers never completed: a complete Accept line among them still counts; without one, the OperationOutcome.
  assertPage(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n`, '\r\n'], 4_000), 408, /Request timeout/, 'headers never completed, Accept among them');
  assertOutcome(await raw([`GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\n`, '\r\n'], 4_000), 408, 'timeout', 'headers never completed, no Accept');
});

test('413 body too large: a page for a browser, an OperationOutcome for others', async () => {
  const body = JSON.stringify({ resourceType: 'Task', note: [{ text: 'x'.repeat(4000) }] });
  const post = (accept: string) => [`POST /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: ${accept}\r\nContent-Type: application/fhir+json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`];
  assertPage(await raw(post(BROWSER_ACCEPT)), 413, /Too large/, 'browser');
  assertOutcome(await raw(post('application/fhir+json')), 413, 'too-costly', 'FHIR client');
});

test('keep-alive: the Accept of an earlier request on the connection does not decide the page of a later one', async () => {
  const answers = async (first: string, second: string) => {
    const data = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = tls.connect(tlsOptions, () => socket.write(first));
      const guard = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (c: Buffer) => {
        const had = text.length;
        text += c.toString('utf8');
        if (had === 0) setTimeout(() => socket.write(second), 200); // the first answer is there: the next request
      });
      socket.once('error', (e) => (text ? undefined : reject(e)));
      socket.once('close', () => {
        clearTimeout(guard);
        resolve(text);
      });
    });
    const last = data.lastIndexOf('HTTP/1.1 ');
    assert.ok(last > 0, `two answers: ${data.slice(0, 200)}`);
    return parse(data.slice(last));
  };
  const get = (accept: string) => `GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\nAccept: ${accept}\r\n\r\n`;
  assertOutcome(await answers(get(BROWSER_ACCEPT), `GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\n${big}\r\n`), 431, 'too-costly', 'browser first, FHIR client second');
  assertPage(await answers(get('application/fhir+json'), `GET /fhir/Task HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n${big}\r\n`), 431, /Headers too large/, 'FHIR client first, browser second');
});
