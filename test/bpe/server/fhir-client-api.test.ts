// The FhirClient of the plugin API (the reference's DsfClient) against real servers on loopback: our
// FHIR server (return modes, conditional and permanent writes, history, $snapshot, Binary streams with
// version and Range, strict search), an asynchronous data server of our own (202 + Location,
// Retry-After, 504), and a forward proxy (CONNECT and absolute-form requests, NOPROXY).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Binary, CodeSystem, Organization, StructureDefinition } from '@medplum/fhirtypes';
import { BpeDsfClientProvider } from '../../../src/bpe/client/dsf-client-provider.ts';
import { createProxyConfig, DelayStrategies, FhirConnectionError, FhirHttpError } from '../../../src/plugin-api/index.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { startAsyncDataServer, type AsyncDataServer } from '../support/async-data-server.ts';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.ts';
import { clientSettings } from './bpe-support.ts';

let site: TestSite;
let clients: BpeDsfClientProvider;
let data: AsyncDataServer;
let localOrganization: Organization;
const toClose: { close(): unknown }[] = [];

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  clients = new BpeDsfClientProvider(clientSettings(site.certs, 'Test_Organization', site.baseUrl));
  const server = site.certs.organizations['Test_Organization']!.server;
  data = await startAsyncDataServer({ certPem: readFileSync(server.certPath, 'utf8'), keyPem: readFileSync(server.keyPath, 'utf8') });
  localOrganization = (await site.client.get('/Organization?identifier=http://dsf.dev/sid/organization-identifier|test-organization.test')).json.entry[0].resource;
});
after(async () => {
  for (const c of toClose) await c.close();
  clients.close();
  await data.close();
  await site.stop();
});

const codeSystem = (version: string): CodeSystem => ({
  resourceType: 'CodeSystem',
  meta: TAG_ALL,
  url: 'http://example.org/fhir/CodeSystem/client-api-test',
  version,
  name: 'ClientApiTest',
  date: '2024-01-01',
  status: 'active',
  content: 'complete',
  concept: [{ code: 'a' }],
});

test('return modes: the resource, minimal (id, version, location) or the OperationOutcome', async () => {
  const local = clients.getLocal();
  const full = await local.create(codeSystem('1.0'));
  assert.equal(full.resourceType, 'CodeSystem');
  assert.equal(full.meta?.versionId, '1');
  const minimal = await local.withMinimalReturn().create(codeSystem('1.1'));
  assert.match(minimal.id, /^[0-9a-f-]{36}$/);
  assert.equal(minimal.versionId, '1');
  assert.ok(minimal.location.startsWith(`${site.baseUrl}/CodeSystem/${minimal.id}/_history/1`));
  const outcome = await local.withOperationOutcomeReturn().create(codeSystem('1.2'));
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.ok(outcome.issue.length > 0);
  const updated = await local.withMinimalReturn().update({ ...full, status: 'retired' });
  assert.equal(updated.id, full.id);
  assert.equal(updated.versionId, '2');
});

test('update checks the version the resource says it is, as the reference client: 412 on a stale copy unless told otherwise', async () => {
  const local = clients.getLocal();
  const v1 = await local.create(codeSystem('3.0'));
  const v2 = await local.update({ ...v1, status: 'retired' });
  assert.equal(v2.meta?.versionId, '2');
  await assert.rejects(local.update({ ...v1, status: 'draft' }), (e: unknown) => e instanceof FhirHttpError && e.status === 412);
  const forced = await local.update({ ...v1, status: 'draft' }, { ifMatch: false });
  assert.equal(forced.meta?.versionId, '3');
  const named = await local.update({ ...v1, status: 'active' }, { ifMatch: '3' });
  assert.equal(named.meta?.versionId, '4');
});

test('conditional create, update and delete; delete and permanent delete; history; exists; read if changed', async () => {
  const local = clients.getLocal();
  const criteria = 'url=http://example.org/fhir/CodeSystem/client-api-test&version=2.0';
  const first = await local.createConditional(codeSystem('2.0'), criteria);
  const again = await local.createConditional(codeSystem('2.0'), criteria);
  assert.equal(again.id, first.id, 'the second conditional create found the first');
  const byCriteria = await local.updateConditional({ ...codeSystem('2.0'), status: 'draft' }, { url: 'http://example.org/fhir/CodeSystem/client-api-test', version: '2.0' });
  assert.equal(byCriteria.id, first.id);
  assert.equal(byCriteria.meta?.versionId, '2');
  const history = await local.history({ type: 'CodeSystem', id: first.id });
  assert.deepEqual(history.entry?.map((e) => e.resource?.meta?.versionId).sort(), ['1', '2']);
  assert.equal(await local.exists('CodeSystem', first.id!), true);
  assert.equal(await local.exists('CodeSystem', first.id!, '1'), true);
  assert.equal(await local.exists('CodeSystem', '5e0f4a53-0000-4000-8000-000000000000'), false);
  const unchanged = await local.readIfChanged(byCriteria);
  assert.equal(unchanged, byCriteria, 'the server answered 304: the same object comes back');
  const stale = await local.readIfChanged({ ...byCriteria, meta: { versionId: '1' } });
  assert.equal(stale.meta?.versionId, '2');

  await local.deleteConditional('CodeSystem', { url: 'http://example.org/fhir/CodeSystem/client-api-test', version: '2.0' });
  await assert.rejects(local.read('CodeSystem', first.id!), (e) => e instanceof FhirHttpError && e.status === 410);
  await local.deletePermanently('CodeSystem', first.id!);
  await assert.rejects(local.read('CodeSystem', first.id!), (e) => e instanceof FhirHttpError && e.status === 404);
  await assert.rejects(local.deleteConditional('CodeSystem', {}), TypeError);
});

test('$snapshot of a stored profile (by url) and of a differential', async () => {
  const local = clients.getLocal();
  const differential: StructureDefinition = {
    resourceType: 'StructureDefinition',
    meta: TAG_ALL,
    url: 'http://example.org/fhir/StructureDefinition/organization-client-test',
    version: '1.0',
    name: 'OrganizationClientTest',
    status: 'active',
    date: '2025-01-01',
    kind: 'resource',
    abstract: false,
    type: 'Organization',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Organization',
    derivation: 'constraint',
    differential: { element: [{ id: 'Organization.name', path: 'Organization.name', min: 1 }] },
  };
  const fromDifferential = await local.generateSnapshot(differential);
  assert.equal(fromDifferential.snapshot?.element?.find((e) => e.path === 'Organization.name')?.min, 1);
  await local.create(differential);
  const byUrl = await local.generateSnapshot('http://example.org/fhir/StructureDefinition/organization-client-test');
  assert.equal(byUrl.snapshot?.element?.find((e) => e.path === 'Organization.name')?.min, 1);
  assert.ok((byUrl.snapshot?.element?.length ?? 0) > 10);
});

test('Binary: created from a stream, read whole, by version and as a byte range; updated from bytes', async () => {
  const local = clients.getLocal();
  const bytes = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const created: Binary = await local.createBinary(Readable.from([bytes.subarray(0, 4), bytes.subarray(4)]), 'application/octet-stream', `Organization/${localOrganization.id}`);
  assert.equal(created.resourceType, 'Binary');
  assert.equal(created.contentType, 'application/octet-stream');
  const full = await local.readBinary(created.id!, 'application/octet-stream');
  assert.equal(full.contentLength, 10);
  assert.equal(full.range, undefined);
  assert.deepEqual(await full.readAll(), bytes);
  const range = await local.readBinary(created.id!, 'application/octet-stream', { rangeStart: 0, rangeEndInclusive: 1 });
  assert.equal(range.contentLength, 2);
  assert.deepEqual(range.range, { start: 0, end: 1, size: 10 });
  assert.deepEqual(await range.readAll(), Buffer.from([0, 1]));
  const tail = await local.readBinary(created.id!, 'application/octet-stream', { rangeEndInclusive: -3 });
  assert.deepEqual(await tail.readAll(), Buffer.from([7, 8, 9]));

  const minimal = await local.withMinimalReturn().updateBinary(created.id!, new Uint8Array([42, 43]), 'application/octet-stream', `Organization/${localOrganization.id}`);
  assert.equal(minimal.versionId, '2');
  assert.deepEqual(await (await local.readBinary(created.id!, 'application/octet-stream')).readAll(), Buffer.from([42, 43]));
  const version1 = await local.readBinary(created.id!, 'application/octet-stream', { version: '1', rangeStart: 8 });
  assert.deepEqual(await version1.readAll(), Buffer.from([8, 9]));
  assert.deepEqual(version1.range, { start: 8, end: 9, size: 10 });
  await assert.rejects(local.createBinary(bytes, 'application/octet-stream'), (e) => e instanceof FhirHttpError && e.status === 400, 'no security context: refused');
});

test('strict search refuses unknown parameters, lenient search ignores them', async () => {
  const local = clients.getLocal();
  const lenient = await local.search('Organization', { 'not-a-parameter': 'x', _count: 1 });
  assert.equal(lenient.resourceType, 'Bundle');
  await assert.rejects(local.searchWithStrictHandling('Organization', { 'not-a-parameter': 'x' }), (e) => e instanceof FhirHttpError && e.status === 400);
});

test('asynchronous search and operation: 202 polled at the Location, Retry-After honoured; a server answering at once', async () => {
  const client = clients.getByEndpointUrl(data.baseUrl);
  const before = data.requests.length;
  const bundle = await client.searchAsync('Patient');
  assert.equal(bundle.type, 'searchset');
  assert.equal(bundle.total, 0);
  const search = data.requests.slice(before);
  assert.deepEqual(search.map((r) => `${r.method} ${r.path}`), ['GET /Patient', 'GET /async/Patient', 'GET /async/Patient', 'GET /async/Patient']);
  assert.match(String(search[0]!.headers.prefer), /respond-async/);
  assert.equal(search[1]!.headers.accept, 'application/fhir+json', 'polling a Location asks for FHIR');

  const strict = await client.searchAsyncWithStrictHandling(`${data.baseUrl}/Patient`);
  assert.equal(strict.total, 0);
  assert.match(String(data.requests.at(-4)!.headers.prefer), /handling=strict/);

  const start = data.requests.length;
  const report = await client.operationAsync('test', undefined, { type: 'DiagnosticReport' });
  assert.equal(report.resourceType, 'DiagnosticReport');
  const op = data.requests.slice(start);
  assert.deepEqual(op.map((r) => `${r.method} ${r.path}`), ['POST /DiagnosticReport/$test', 'GET /async/DiagnosticReport', 'GET /async/DiagnosticReport', 'GET /async/DiagnosticReport']);
  // Retry-After is a date 2 s ahead (whole seconds), then 1 s: the client waits at least that long.
  assert.ok(op[1]!.at - op[0]!.at >= 900, `first poll after ${op[1]!.at - op[0]!.at} ms`);
  assert.ok(op[2]!.at - op[1]!.at >= 950 && op[3]!.at - op[2]!.at >= 950, 'Retry-After: 1 waited');

  // Our FHIR server answers a respond-async search at once.
  const direct = await clients.getLocal().searchAsync('Organization', { _count: 1 });
  assert.equal(direct.type, 'searchset');
});

test('withRetry: server errors (5xx) are tried again n times with the delay strategy, others are not', async () => {
  const client = clients.getByEndpointUrl(data.baseUrl);
  const count = () => data.requests.filter((r) => r.path.startsWith('/Observation')).length;
  const start = count();
  await assert.rejects(client.withRetry(5, DelayStrategies.TRUNCATED_EXPONENTIAL_BACKOFF).read('Observation', 'x'), (e) => e instanceof FhirHttpError && e.status === 504);
  assert.equal(count() - start, 6, 'one try and five retries');
  const times = data.requests.filter((r) => r.path.startsWith('/Observation')).slice(start).map((r) => r.at);
  // 100, 200, 400, 800, 800 ms
  assert.ok(times[5]! - times[0]! >= 2_200, `retries took ${times[5]! - times[0]!} ms`);
  await assert.rejects(client.withRetry(1, 10).read('Observation', 'y'), (e) => e instanceof FhirHttpError && e.status === 504);
  assert.equal(count() - start, 8);
  const notFound = data.requests.length;
  await assert.rejects(client.withRetry(3, 10).read('Patient', 'nobody'), (e) => e instanceof FhirHttpError && e.status === 404);
  assert.equal(data.requests.length - notFound, 1, 'a 404 is not retried');
  assert.throws(() => client.withRetry(-2, 10), RangeError);
});

test('forward proxy: https through CONNECT, http in absolute form, credentials; no-proxy hosts go direct', async () => {
  const proxy: ForwardProxy = await startForwardProxy({ username: 'proxy_user', password: 'proxy_password' });
  toClose.push(proxy);
  const plain = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'CapabilityStatement', status: 'active', date: '2025-01-01', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], software: { name: 'plain http' } }));
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  toClose.push({ close: () => new Promise<void>((resolve) => plain.close(() => resolve())) });
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/fhir`;
  const settings = clientSettings(site.certs, 'Test_Organization', site.baseUrl);

  const viaProxy = new BpeDsfClientProvider({ ...settings, proxy: createProxyConfig({ url: proxy.url, username: 'proxy_user', password: 'proxy_password', noProxy: ['noproxy.test'] }) });
  toClose.push(viaProxy);
  assert.equal((await viaProxy.getByEndpointUrl(data.baseUrl).getConformance()).software?.name, 'Async Test Data Server');
  assert.ok(proxy.seen.includes(`CONNECT localhost:${data.port}`), proxy.seen.join(', '));
  assert.equal((await viaProxy.getByEndpointUrl(plainUrl).getConformance()).software?.name, 'plain http');
  assert.ok(proxy.seen.includes(`GET ${plainUrl}/metadata`), proxy.seen.join(', '));

  const wrongCredentials = new BpeDsfClientProvider({ ...settings, proxy: createProxyConfig({ url: proxy.url, username: 'proxy_user', password: 'wrong' }) });
  toClose.push(wrongCredentials);
  await assert.rejects(wrongCredentials.getByEndpointUrl(data.baseUrl).getConformance(), (e) => e instanceof FhirConnectionError && e.code === 'EPROXY' && /HTTP 407/.test((e.cause as Error).message));

  const seenBefore = proxy.seen.length;
  const bypass = new BpeDsfClientProvider({ ...settings, proxy: createProxyConfig({ url: proxy.url, noProxy: ['localhost', '127.0.0.1'] }) });
  toClose.push(bypass);
  assert.equal((await bypass.getByEndpointUrl(data.baseUrl).getConformance()).software?.name, 'Async Test Data Server');
  assert.equal((await bypass.getByEndpointUrl(plainUrl).getConformance()).software?.name, 'plain http');
  assert.equal(proxy.seen.length, seenBefore, 'no-proxy hosts are asked directly');
});
