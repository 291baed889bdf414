// Binary.securityContext (the reference-related cases of the reference server's BinaryIntegrationTest):
// a security context that does not exist is refused in single requests, transactions and batches; one
// given by identifier (a logical reference) is resolved, accepted, and then grants read access.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, TAG_ALL, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { countStored, stored } from './reference-fixtures.ts';

let site: TestSite;
let external: FhirTestClient;

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  external = site.clientFor('External_Test_Organization');
});
after(() => site?.stop());

const binary = (securityContext: object) => ({ resourceType: 'Binary', contentType: 'text/plain', data: Buffer.from('Hello World').toString('base64'), securityContext });

async function researchStudy(): Promise<{ id: string; identifier: { system: string; value: string } }> {
  const identifier = { system: 'http://dsf.dev/sid/research-study-identifier', value: randomUUID() };
  const rs = await site.client.create({ resourceType: 'ResearchStudy', meta: TAG_ALL, identifier: [identifier], status: 'active' });
  return { id: rs.id, identifier };
}

test('testCreateSecurityContextOrgNotExisting: 403, nothing stored', async () => {
  const before = await countStored(site, 'Binary');
  const r = await site.client.post('/Binary', binary({ reference: `Group/${randomUUID()}` }));
  assert.equal(r.status, 403, r.body);
  assert.match(r.json.issue[0].diagnostics, /^Binary create: Binary.securityContext Group\/.* does not exist/);
  assert.equal(await countStored(site, 'Binary'), before);
});

test('testCreateSecurityContextLogicalReference: resolved by identifier, stored with the literal, read without it, and it grants read access', async () => {
  const rs = await researchStudy();
  // Differs: the reference accepts it too but stores it unresolved (no NamingSystem for the system), so nobody reads through it.
  const logical = { type: 'ResearchStudy', identifier: rs.identifier };
  const r = await site.client.post('/Binary', binary(logical));
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(r.json.securityContext, logical);
  assert.equal((await stored(site, r.json.id)).securityContext.reference, `ResearchStudy/${rs.id}`);
  // The ResearchStudy is tagged ALL: the remote organisation may read the Binary through it.
  const read = await external.get(`/Binary/${r.json.id}`);
  assert.equal(read.status, 200, read.body);
  assert.deepEqual(read.json.securityContext, logical);
  assert.equal(Buffer.from(read.json.data, 'base64').toString(), 'Hello World');
});

test('testCreateSecurityContextLogicalReferenceDocumentReference', async () => {
  const identifier = { system: 'http://dsf.dev/sid/document-reference-test-identifier', value: randomUUID() };
  const dr = await site.client.create({ resourceType: 'DocumentReference', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, identifier: [identifier], status: 'current', content: [{ attachment: { contentType: 'text/plain' } }] });
  const r = await site.client.post('/Binary', binary({ type: 'DocumentReference', identifier }));
  assert.equal(r.status, 201, r.body);
  assert.equal((await stored(site, r.json.id)).securityContext.reference, `DocumentReference/${dr.id}`);
  const hidden = await external.get(`/Binary/${r.json.id}`);
  assert.equal(hidden.status, 403, 'LOCAL on the DocumentReference: not for remote organisations');
  assert.match(hidden.json.issue[0].diagnostics, /^Not allowed to read Binary\//);
});

test('a logical security context matching nothing is refused', async () => {
  const r = await site.client.post('/Binary', binary({ type: 'ResearchStudy', identifier: { system: 'http://dsf.dev/sid/research-study-identifier', value: randomUUID() } }));
  assert.equal(r.status, 403, r.body);
  assert.match(r.json.issue[0].diagnostics, /^Binary create: Binary.securityContext is neither a literal reference .* nor an identifier of exactly one/);
});

test('testCreateSecurityContextNotExistingViaTransactionBundle and ...ViaBatchBundle', async () => {
  const before = await countStored(site, 'Binary');
  const entry = () => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource: binary({ reference: `ResearchStudy/${randomUUID()}` }), request: { method: 'POST', url: 'Binary' } });
  const transaction = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry()] });
  assert.equal(transaction.status, 403, transaction.body);
  assert.match(transaction.json.issue[0].diagnostics, /Bundle.entry\[0\].*Binary create: Binary.securityContext ResearchStudy\/.* does not exist/);
  const batch = await site.client.post('', { resourceType: 'Bundle', type: 'batch', entry: [entry()] });
  assert.equal(batch.status, 200, batch.body);
  assert.match(batch.json.entry[0].response.status, /^403/);
  assert.match(batch.json.entry[0].response.outcome.issue[0].diagnostics, /^Binary create: Binary.securityContext ResearchStudy\/.* does not exist/);
  assert.equal(batch.json.entry[0].resource, undefined);
  assert.equal(await countStored(site, 'Binary'), before);
});

test('testUpdateSecurityContextNotExistingViaTransactionBundle and ...ViaBatchBundle: the stored version unchanged', async () => {
  const rs = await researchStudy();
  const created = await site.client.create(binary({ reference: `ResearchStudy/${rs.id}` }));
  const changed = { ...created, securityContext: { reference: `ResearchStudy/${randomUUID()}` } };
  const entry = { fullUrl: `${site.baseUrl}/Binary/${created.id}`, resource: changed, request: { method: 'PUT', url: `Binary/${created.id}` } };
  const transaction = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry] });
  assert.equal(transaction.status, 403);
  assert.match(transaction.json.issue[0].diagnostics, /Bundle.entry\[0\].*Binary update: Binary.securityContext ResearchStudy\/.* does not exist/);
  const batch = await site.client.post('', { resourceType: 'Bundle', type: 'batch', entry: [entry] });
  assert.match(batch.json.entry[0].response.status, /^403/);
  assert.match(batch.json.entry[0].response.outcome.issue[0].diagnostics, /^Binary update: Binary.securityContext ResearchStudy\/.* does not exist/);
  assert.equal((await stored(site, created.id)).meta.versionId, '1');
});
