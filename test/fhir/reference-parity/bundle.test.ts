// The reference's BundleIntegrationTest, ported: Bundles stored as resources (with the three Prefer
// returns), a profile deleted through a transaction, and batch/transaction answers with the
// reference's entry statuses ("201 Created", "404 Not Found", "405 Method Not Allowed").
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectStatus, ORG_ID, startParitySite, tagAll, type ParitySite } from './parity-site.ts';

let p: ParitySite;

const ALLOW_LIST_CRITERIA = 'identifier=http://dsf.dev/fhir/CodeSystem/update-allow-list|allow_list';

/** An allow list as the reference's allow-list.json: a transaction Bundle of Organizations and Endpoints, stored as a resource. */
function allowList() {
  const org = `urn:uuid:${randomUUID()}`;
  const endpoint = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    meta: { tag: [tagAll()] },
    identifier: { system: 'http://dsf.dev/fhir/CodeSystem/update-allowlist', value: 'allowlist' },
    type: 'transaction',
    entry: [
      {
        fullUrl: org,
        resource: {
          resourceType: 'Organization',
          meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/organization'], tag: [tagAll()] },
          extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint', valueString: 'b'.repeat(128) }],
          identifier: [{ system: ORG_ID, value: 'Test_DIC_2' }],
          active: true,
          name: 'Test DIC 2',
          endpoint: [{ reference: endpoint, type: 'Endpoint' }],
        },
        request: { method: 'PUT', url: `Organization?identifier=${ORG_ID}|Test_DIC_2` },
      },
      {
        fullUrl: endpoint,
        resource: {
          resourceType: 'Endpoint',
          meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/endpoint'], tag: [tagAll()] },
          identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'Test_DIC_2_Endpoint' }],
          status: 'active',
          connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
          name: 'Test DIC 2 Endpoint',
          managingOrganization: { reference: org, type: 'Organization' },
          payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
          payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
          address: 'https://dic2/fhir',
        },
        request: { method: 'PUT', url: 'Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|Test_DIC_2_Endpoint' },
      },
    ],
  };
}

async function currentPatients(id?: string): Promise<number> {
  const r = await p.site.server.pool.query(`SELECT count(*) AS n FROM resources WHERE type = 'Patient' AND current AND NOT deleted ${id ? 'AND id = $1' : ''}`, id ? [id] : []);
  return Number(r.rows[0].n);
}

/** The reference's test bundle: delete, create, conditional create, conditional update, three searches and a read of a missing Patient. */
function testBundle(type: 'batch' | 'transaction', toDelete: string) {
  const identifier = { system: 'http://test.org/sid/patient-id', value: randomUUID() };
  const criteria = `identifier=${identifier.system}|${identifier.value}`;
  const patient = (active: boolean) => ({ resourceType: 'Patient', meta: { tag: [tagAll()] }, identifier: [identifier], active });
  return {
    resourceType: 'Bundle',
    type,
    entry: [
      { request: { method: 'DELETE', url: `Patient/${toDelete}` } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: patient(true), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: patient(true), request: { method: 'POST', url: 'Patient', ifNoneExist: criteria } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: patient(false), request: { method: 'PUT', url: `Patient?${criteria}` } },
      { request: { method: 'GET', url: `Patient?${criteria}` } },
      { request: { method: 'GET', url: `Patient?identifier=${identifier.system}|not-existing` } },
      { request: { method: 'GET', url: `Patient?id=${randomUUID()}` } },
      { request: { method: 'GET', url: `Patient/${randomUUID()}` } },
    ],
  };
}

const EXPECTED_STATUSES = ['200 OK', '201 Created', '200 OK', '200 OK', '200 OK', '200 OK', '200 OK', '404 Not Found'];

function failingBundle(type: 'batch' | 'transaction', toDelete: string) {
  const id = randomUUID();
  return {
    resourceType: 'Bundle',
    type,
    entry: [
      { request: { method: 'DELETE', url: `Patient/${toDelete}` } },
      { fullUrl: `${p.site.baseUrl}/Patient/${id}`, resource: { resourceType: 'Patient', id, meta: { tag: [tagAll()] }, active: false }, request: { method: 'PUT', url: `Patient/${id}` } },
    ],
  };
}

async function supportsTaskProfile(url: string): Promise<boolean> {
  const r = await p.local.get('/metadata');
  expectStatus(r, 200);
  const task = r.json.rest[0].resource.find((x: any) => x.type === 'Task');
  return (task.supportedProfile ?? []).includes(url);
}

/** A Bundle profile of the reference's bundle tests (test-bundle-profile1/2). */
function bundleProfile(n: 1 | 2) {
  const elements =
    n === 1
      ? [
          { id: 'Bundle.type', path: 'Bundle.type', fixedCode: 'batch' },
          { id: 'Bundle.entry', path: 'Bundle.entry', min: 1 },
          { id: 'Bundle.entry.request', path: 'Bundle.entry.request', min: 1 },
          { id: 'Bundle.entry.request.method', path: 'Bundle.entry.request.method', fixedCode: 'GET' },
        ]
      : [
          { id: 'Bundle.type', path: 'Bundle.type', fixedCode: 'batch-response' },
          { id: 'Bundle.entry.resource', path: 'Bundle.entry.resource', min: 1 },
          { id: 'Bundle.entry.response', path: 'Bundle.entry.response', min: 1 },
        ];
  return {
    resourceType: 'StructureDefinition',
    meta: { tag: [tagAll()] },
    url: `http://dev.dsf/fhir/Bundle/test-bundle${n}`,
    name: `TestBundle${n}`,
    fhirVersion: '4.0.1',
    version: '2.0.0',
    status: 'active',
    date: '2025-03-31',
    experimental: false,
    abstract: false,
    kind: 'resource',
    type: 'Bundle',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Bundle',
    derivation: 'constraint',
    differential: { element: elements },
  };
}

describe('BundleIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
  });
  after(() => p?.stop());
  afterEach(() => p.reset(['Patient']));

  it('testCreateBundle', async () => {
    const r = await p.local.put(`/Bundle?${ALLOW_LIST_CRITERIA}`, allowList());
    expectStatus(r, 201);
    assert.equal(r.json.resourceType, 'Bundle');
    assert.equal(r.json.entry.length, 2);
  });

  it('testCreateBundleReturnMinimal', async () => {
    const r = await p.local.put(`/Bundle?${ALLOW_LIST_CRITERIA}`, allowList(), { prefer: 'return=minimal' });
    expectStatus(r, 201);
    assert.equal(r.body, '');
    assert.match(String(r.headers.location), /\/Bundle\/[0-9a-f-]{36}\/_history\/1$/);
  });

  it('testCreateBundleReturnOperationOutcome', async () => {
    const r = await p.local.put(`/Bundle?${ALLOW_LIST_CRITERIA}`, allowList(), { prefer: 'return=OperationOutcome' });
    expectStatus(r, 201);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  });

  it('testDeleteTaskProfileViaBundleTestSupportedProfilesInConformanceStatement', async () => {
    const url = 'http://dsf.dev/fhir/StructureDefinition/task-test';
    const profile = {
      resourceType: 'StructureDefinition',
      meta: { tag: [tagAll()] },
      url,
      version: '1.2.3',
      name: 'TaskTest',
      status: 'active',
      fhirVersion: '4.0.1',
      kind: 'resource',
      abstract: false,
      type: 'Task',
      baseDefinition: 'http://dsf.dev/fhir/StructureDefinition/task',
      derivation: 'constraint',
      date: '2024-01-01',
      differential: { element: [{ id: 'Task.instantiatesUri', path: 'Task.instantiatesUri', fixedUri: 'http://dsf.dev/bpe/Process/taskTest/1.2.3' }] },
    };
    assert.equal(await supportsTaskProfile(url), false);
    const created = await p.local.post('/StructureDefinition', profile, { prefer: 'return=minimal' });
    expectStatus(created, 201);
    const id = String(created.headers.location).match(/StructureDefinition\/([0-9a-f-]{36})/)![1]!;
    assert.equal(await supportsTaskProfile(url), true);
    const deleted = await p.local.post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `${p.site.baseUrl}/StructureDefinition/${id}`, request: { method: 'DELETE', url: `StructureDefinition/${id}` } }] }, { prefer: 'return=minimal' });
    expectStatus(deleted, 200);
    assert.equal(await supportsTaskProfile(url), false);
    const search = await p.local.get(`/StructureDefinition?url=${url}&version=1.2.3`);
    assert.equal(search.json.total, 0);
  });

  for (const type of ['transaction', 'batch'] as const) {
    it(type === 'transaction' ? 'testPostTransactionBundle' : 'testPostBatchBundle', async () => {
      const p1 = await p.storeDirectly({ resourceType: 'Patient' } as any);
      const r = await p.local.post('', testBundle(type, p1.id));
      expectStatus(r, 200);
      assert.equal(r.json.type, `${type}-response`);
      assert.deepEqual(r.json.entry.map((e: any) => e.response.status), EXPECTED_STATUSES);
      assert.equal(await currentPatients(), 1);
    });
  }

  it('testPostFailingTransactionBundle', async () => {
    const p1 = await p.storeDirectly({ resourceType: 'Patient' } as any);
    const r = await p.local.post('', failingBundle('transaction', p1.id));
    expectStatus(r, 400, /update as create is not allowed/);
    assert.equal(await currentPatients(p1.id), 1, 'the delete of the failed transaction is rolled back');
  });

  it('testPostPartialyFailingBatchBundle', async () => {
    const p1 = await p.storeDirectly({ resourceType: 'Patient' } as any);
    const r = await p.local.post('', failingBundle('batch', p1.id));
    expectStatus(r, 200);
    assert.equal(r.json.type, 'batch-response');
    assert.deepEqual(r.json.entry.map((e: any) => e.response.status), ['200 OK', '405 Method Not Allowed']);
    assert.equal(r.json.entry[1].response.outcome.resourceType, 'OperationOutcome');
    assert.equal(await currentPatients(p1.id), 0);
  });

  it('createBundleInBundle1', async () => {
    const sd = bundleProfile(1);
    expectStatus(await p.local.post('/StructureDefinition', sd), 201);
    const b = {
      resourceType: 'Bundle',
      meta: { profile: [`${sd.url}|${sd.version}`], tag: [tagAll()] },
      type: 'batch',
      entry: [{ request: { method: 'GET', url: 'Conset' } }, { request: { method: 'GET', url: 'Condition' } }],
    };
    expectStatus(await p.local.post('/Bundle', b), 201);
  });

  it('createBundleInBundle2', async () => {
    const sd = bundleProfile(2);
    expectStatus(await p.local.post('/StructureDefinition', sd), 201);
    const b = {
      resourceType: 'Bundle',
      meta: { profile: [`${sd.url}|${sd.version}`], tag: [tagAll()] },
      type: 'batch-response',
      entry: [{ resource: { resourceType: 'Bundle', type: 'searchset', total: 0, link: [{ relation: 'self', url: 'Medication' }] }, response: { status: '200' } }],
    };
    expectStatus(await p.local.post('/Bundle', b), 201);
  });
});
