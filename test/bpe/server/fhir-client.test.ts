// The BPE's FHIR client against a real FHIR server over mTLS: JSON and XML, conditional writes,
// errors that tell a refusal from an unreachable server, retries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { CodeSystem } from '@medplum/fhirtypes';
import { BpeDsfClientProvider } from '../../../src/bpe/client/dsf-client-provider.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { FhirConnectionError, FhirHttpError, isNotAllowed, isNotReachable } from '../../../src/plugin-api/index.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { clientSettings } from './bpe-support.ts';

let site: TestSite;
let clients: BpeDsfClientProvider;
before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  clients = new BpeDsfClientProvider(clientSettings(site.certs, 'Test_Organization', site.baseUrl));
});
after(async () => {
  clients.close();
  await site.stop();
});

const codeSystem = (version: string): CodeSystem => ({
  resourceType: 'CodeSystem',
  meta: TAG_ALL,
  url: 'http://example.org/fhir/CodeSystem/client-test',
  version,
  name: 'ClientTest',
  date: '2024-01-01',
  status: 'active',
  content: 'complete',
  concept: [{ code: 'a' }],
});

test('create, read, search, update and conditional writes in JSON', async () => {
  const local = clients.getLocal();
  const created = await local.create(codeSystem('1.0'));
  assert.ok(created.id);
  assert.equal(created.meta?.versionId, '1');
  const read = await local.read<CodeSystem>('CodeSystem', created.id!);
  assert.equal(read.version, '1.0');
  const again = await local.createMinimal(codeSystem('1.0'), { ifNoneExist: 'url=http://example.org/fhir/CodeSystem/client-test&version=1.0' });
  assert.equal(again.id, created.id, 'the conditional create found the existing resource');
  const updated = await local.update({ ...read, status: 'retired' }, { ifMatch: '1' });
  assert.equal(updated.meta?.versionId, '2');
  await assert.rejects(local.update({ ...read, status: 'draft' }, { ifMatch: '1' }), (e) => e instanceof FhirHttpError && e.status === 412);
  const found = await local.searchAll('CodeSystem', { url: 'http://example.org/fhir/CodeSystem/client-test', _count: 1 });
  assert.deepEqual(found.map((r) => r.id), [created.id]);
  await local.deleteConditional('CodeSystem', { url: 'http://example.org/fhir/CodeSystem/client-test', version: '1.0' });
  await assert.rejects(local.read('CodeSystem', created.id!), (e) => e instanceof FhirHttpError && e.status === 410);
});

test('XML both ways', async () => {
  const xml = clients.getLocal().withXml();
  const created = await xml.create(codeSystem('2.0'));
  assert.equal(created.resourceType, 'CodeSystem');
  assert.equal(created.version, '2.0');
  const bundle = await xml.search('CodeSystem', { url: 'http://example.org/fhir/CodeSystem/client-test', version: '2.0' });
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.entry?.[0]?.resource?.id, created.id);
});

test('a refusal is a FhirHttpError with the OperationOutcome; an unreachable server a FhirConnectionError', async () => {
  // A remote organisation may not create CodeSystems: 403.
  const remote = new BpeDsfClientProvider(clientSettings(site.certs, 'External_Test_Organization', site.baseUrl));
  try {
    const error = await remote.getLocal().create(codeSystem('3.0')).then(
      () => assert.fail('expected 403'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FhirHttpError);
    assert.equal(error.status, 403);
    assert.equal(error.outcome?.resourceType, 'OperationOutcome');
    assert.ok(isNotAllowed(error));
    assert.ok(!isNotReachable(error));
  } finally {
    remote.close();
  }
  const port = await freePort();
  const error = await clients.getByEndpointUrl(`https://127.0.0.1:${port}/fhir`).read('Task', 'x').then(
    () => assert.fail('expected a connection error'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof FhirConnectionError);
  assert.equal(error.code, 'ECONNREFUSED');
  assert.ok(isNotReachable(error));
  assert.ok(!isNotAllowed(error));
});

test('withRetry repeats a request that could not reach the server, then gives up', async () => {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy(); // accepted, then closed before TLS: a connection failure
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const client = clients.getByEndpointUrl(`https://127.0.0.1:${port}/fhir`).withRetry(2, 5);
    await assert.rejects(client.read('Task', 'x'), (e) => e instanceof FhirConnectionError);
    assert.equal(connections, 3);
  } finally {
    server.close();
  }
});
