// The server's log (pino, one JSON object a line), captured through the server's log destination:
// one line per request, every 5xx with its stack, and no resource content or personal data at info.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';

const lines: string[] = [];
const destination = { write: (line: string) => void lines.push(line) };
let site: TestSite;

before(async () => {
  site = await startTestSite({ config: { logLevel: 'info' }, logDestination: destination });
});
after(() => site?.stop());

const entries = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

test('one line per request: method, route, type, status, duration, caller, request id', async () => {
  const created = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  await site.client.get(`/Patient/${created.id}`);
  const line = entries().find((e) => e.msg === 'request' && e.method === 'GET' && e.route === '/fhir/:type/:id');
  assert.ok(line, lines.join('\n'));
  assert.equal(line.level, 30);
  assert.equal(line.type, 'Patient');
  assert.equal(line.status, 200);
  assert.equal(typeof line.ms, 'number');
  assert.equal(line.caller, testOrganizationIdentifier('Test_Organization'));
  assert.match(line.reqId, /^[0-9a-f]{12}$/);
  // Written without a child logger per request (request-logger.ts), in the order a child writes: its binding first.
  assert.deepEqual(Object.keys(line).slice(0, 6), ['level', 'time', 'pid', 'hostname', 'reqId', 'method']);
  const post = entries().find((e) => e.msg === 'request' && e.method === 'POST' && e.route === '/fhir/:type');
  assert.equal(post?.status, 201);
});

test('no resource content or personal data at the default level, not even from search URLs', async () => {
  const secret = 'Mustermann-4711';
  await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/sid/mrn', value: secret }], name: [{ family: secret, given: ['Erika'] }] });
  const found = await site.client.get(`/Patient?identifier=${encodeURIComponent(`http://example.org/sid/mrn|${secret}`)}`);
  assert.equal(found.json.total, 1);
  await site.client.get(`/Patient?identifier=${secret}`, { accept: 'application/fhir+xml' });
  const bad = await site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL, name: [{ family: `${secret}\u0000` }] });
  assert.equal(bad.status, 400);
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.doesNotMatch(l, /Mustermann|Erika/, l);
  }
});

test('a 5xx is logged with its stack', async () => {
  await site.db.pool.query('ALTER TABLE search_index RENAME TO search_index_away');
  try {
    const r = await site.client.get('/Patient?identifier=x');
    assert.equal(r.status, 500);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.doesNotMatch(r.body, /search_index/, 'the client gets no internals');
  } finally {
    await site.db.pool.query('ALTER TABLE search_index_away RENAME TO search_index');
  }
  const error = entries().find((e) => e.level === 50 && e.msg === 'request failed');
  assert.ok(error, lines.join('\n'));
  assert.match(error.err.message, /search_index/);
  assert.match(error.err.stack, /\n\s+at /);
  assert.ok(entries().some((e) => e.msg === 'request' && e.status === 500 && e.reqId === error.reqId));
});

test('a value FHIRPath cannot index is logged as a warning, naming the parameter but not the value', async () => {
  const store = site.server.store;
  // No JSON input makes the FHIRPath engine fail; an array that JSON can read but FHIRPath cannot stands in for such a value.
  const identifiers = new Proxy([{ system: 'http://example.org/sid/mrn', value: 'Mustermann' }], {
    get(target, key, receiver) {
      if (key === 'length' || key === 'toJSON' || key === '0') return Reflect.get(target, key, receiver);
      throw new Error('Mustermann cannot be read');
    },
  });
  const resource = { resourceType: 'Patient', meta: TAG_ALL, active: true, identifier: identifiers } as unknown as Resource;
  const stored = await store.transaction((c) => store.create(c, resource));
  const warning = entries().find((e) => e.level === 40 && e.msg === 'a search parameter value could not be indexed');
  assert.ok(warning, lines.join('\n'));
  assert.equal(warning.param, 'identifier');
  assert.equal(warning.resourceType, 'Patient');
  assert.equal(warning.id, stored.id);
  assert.doesNotMatch(JSON.stringify(warning), /Mustermann/);
});

test('a request the client abandons before its answer is logged once as abandoned, with its route and caller', async () => {
  const cert = site.certs.organizations.Test_Organization!.client;
  const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', port: Number(new URL(site.baseUrl).port), cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), ca: readFileSync(site.certs.ca.certPath) });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const path = `${new URL(site.baseUrl).pathname}/Patient`;
  // The head and part of the body: the request is routed, its answer waits for the rest.
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{"resourceType"`);
  await sleep(300);
  socket.destroy();
  const abandoned = () => entries().filter((e) => e.msg === 'request abandoned by the client' && e.method === 'POST');
  for (let i = 0; i < 100 && abandoned().length === 0; i++) await sleep(20);
  await sleep(200);
  assert.equal(abandoned().length, 1, lines.join('\n'));
  assert.equal(abandoned()[0]!.route, '/fhir/:type');
  assert.equal(abandoned()[0]!.caller, testOrganizationIdentifier('Test_Organization'));
  assert.match(abandoned()[0]!.reqId, /^[0-9a-f]{12}$/);
});
