// The reference's EndpointIntegrationTest and QuestionnaireIntegrationTest, ported: Endpoint searches
// (strict and lenient handling, _include and _revinclude), Endpoint writes with references (existence
// and logical references are the reference resolver's work, #9) and Questionnaire create and searches.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectForbidden, expectStatus, LOCAL_ORG, ORG_ID, startParitySite, tagAll, tagLocal, type ParitySite } from './parity-site.ts';

let p: ParitySite;

function endpoint(tags: object[] = [tagLocal()]): any {
  return {
    resourceType: 'Endpoint',
    meta: { tag: tags },
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'foo-bar-baz.test.bla-bla.de' }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    name: 'Test TTP',
    managingOrganization: { reference: `Organization/${p.ids.localOrganization}` },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: 'https://foo-bar-baz.test.bla-bla.de/fhir',
  };
}

const modes = (bundle: any) => bundle.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}`);

before(async () => {
  p = await startParitySite();
});
after(() => p?.stop());

describe('EndpointIntegrationTest', () => {
  // Each reference test starts from the initial bundle: remove what a test created.
  afterEach(async () => {
    const created = await p.site.server.pool.query(
      `SELECT DISTINCT id FROM resources WHERE resource->'identifier' @> '[{"value": "foo-bar-baz.test.bla-bla.de"}]' OR resource->'identifier' @> '[{"value": "bla-bla.de"}]'`,
    );
    await p.removeDirectly(created.rows.map((r) => r.id));
  });
  it('testSearchAll', async () => {
    const r = await p.local.get('/Endpoint');
    expectStatus(r, 200);
    assert.equal(r.json.total, 2);
    assert.deepEqual(modes(r.json), ['match:Endpoint', 'match:Endpoint']);
  });

  it('testSearchWithUnsupportedQueryParameterStrictHandling', async () => {
    expectStatus(await p.local.get('/Endpoint?not-supported-parameter=not-supported-parameter-value', { prefer: 'handling=strict' }), 400);
  });

  it('testSearchWithUnsupportedQueryParameterLenientHandling', async () => {
    const r = await p.local.get('/Endpoint?not-supported-parameter=not-supported-parameter-value');
    expectStatus(r, 200);
    assert.deepEqual(modes(r.json), ['match:Endpoint', 'match:Endpoint', 'outcome:OperationOutcome']);
  });

  it('testSearchEndpointIncludeOrganization', async () => {
    const r = await p.local.get('/Endpoint?_include=Endpoint:organization');
    expectStatus(r, 200);
    assert.equal(r.json.total, 2);
    assert.deepEqual(modes(r.json), ['match:Endpoint', 'match:Endpoint', 'include:Organization', 'include:Organization']);
  });

  it('testSearchEndpointRevIncludeOrganization', async () => {
    const r = await p.local.get('/Endpoint?_revinclude=Organization:endpoint');
    expectStatus(r, 200);
    assert.equal(r.json.total, 2);
    assert.deepEqual(modes(r.json), ['match:Endpoint', 'match:Endpoint', 'include:Organization', 'include:Organization']);
  });

  it('testCreateValidByLocalUser', async () => {
    expectStatus(await p.local.post('/Endpoint', endpoint()), 201);
  });

  it('testCreateReadWithLogicalReference', async () => {
    // As the reference's test: the literal reference stays, type and identifier are added beside it.
    const e = { ...endpoint([tagAll()]), managingOrganization: { reference: `Organization/${p.ids.localOrganization}`, type: 'Organization', identifier: { system: ORG_ID, value: LOCAL_ORG } } };
    const created = await p.local.post('/Endpoint', e);
    expectStatus(created, 201);
    assert.equal(created.json.managingOrganization.reference, undefined, 'the literal part is cleaned on output');
    const stored = (await p.site.server.pool.query('SELECT resource FROM resources WHERE id = $1', [created.json.id])).rows[0].resource;
    assert.equal(stored.managingOrganization.reference, `Organization/${p.ids.localOrganization}`);
  });

  it('testCreateReadWithLogicalReferenceViaBundle', async () => {
    const orgUrn = `urn:uuid:${randomUUID()}`;
    const endpointUrn = `urn:uuid:${randomUUID()}`;
    const organization = {
      resourceType: 'Organization',
      meta: { tag: [tagAll()] },
      extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint', valueString: '6b'.repeat(64) }],
      identifier: [{ system: ORG_ID, value: 'bla-bla.de' }],
      active: true,
      endpoint: [{ reference: endpointUrn }],
    };
    const e = { ...endpoint([tagAll()]), meta: { tag: [tagAll()], profile: ['http://dsf.dev/fhir/StructureDefinition/endpoint'] }, managingOrganization: { reference: orgUrn } };
    const r = await p.local.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: orgUrn, resource: organization, request: { method: 'POST', url: 'Organization' } },
        { fullUrl: endpointUrn, resource: e, request: { method: 'POST', url: 'Endpoint' } },
        { request: { method: 'GET', url: 'Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|foo-bar-baz.test.bla-bla.de' } },
      ],
    });
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 3);
    assert.equal(r.json.entry[2].resource.resourceType, 'Endpoint');
    assert.ok(r.json.entry[2].resource.managingOrganization.reference);
  });

  const missingOrganization = () => ({ reference: `Organization/${randomUUID()}` });

  it('testCreateWithRelativeLiteralReferenceNotExisting', async () => {
    expectForbidden(await p.local.post('/Endpoint', { ...endpoint(), managingOrganization: missingOrganization() }), /Reference target Organization\/.* of reference at Endpoint.managingOrganization .* not found/);
  });

  it('testCreateViaBundleWithRelativeLiteralReferenceNotExisting', async () => {
    const e = { ...endpoint(), managingOrganization: missingOrganization() };
    expectForbidden(await p.local.post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: e, request: { method: 'POST', url: 'Endpoint' } }] }), /Bundle.entry\[0\].*Reference target Organization\/.* of reference at Endpoint.managingOrganization .* not found/);
  });

  it('testUpdateWithRelativeLiteralReferenceNotExisting', async () => {
    const created = await p.storeDirectly(endpoint());
    expectForbidden(await p.local.put(`/Endpoint/${created.id}`, { ...created, managingOrganization: missingOrganization() }), /Reference target Organization\/.* of reference at Endpoint.managingOrganization .* not found/);
  });

  it('testUpdateViaBundleWithRelativeLiteralReferenceNotExisting', async () => {
    const created = await p.storeDirectly(endpoint());
    const e = { ...created, managingOrganization: missingOrganization() };
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `${p.site.baseUrl}/Endpoint/${created.id}`, resource: e, request: { method: 'PUT', url: `Endpoint/${created.id}` } }] };
    expectForbidden(await p.local.post('', bundle), /Bundle.entry\[0\].*Reference target Organization\/.* of reference at Endpoint.managingOrganization .* not found/);
  });
});

describe('QuestionnaireIntegrationTest', () => {
  const URL = 'http://dsf.dev/fhir/Questionnaire/userTask/foo';
  const IDENTIFIER = { system: 'http://dsf.dev/fhir/CodeSystem/test', value: 'foo' };
  const questionnaire = () => ({
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire'], tag: [tagAll()] },
    url: URL,
    version: '2.0',
    identifier: [IDENTIFIER],
    status: 'active',
    date: '2022-01-01T00:00:00+00:00',
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', type: 'string', required: true },
      { linkId: 'business-key', text: 'The business-key of the process execution', type: 'string', required: true },
    ],
  });

  async function search(query: string): Promise<any> {
    await p.storeDirectly(questionnaire() as any);
    const r = await p.local.get(`/Questionnaire?${query}`);
    expectStatus(r, 200);
    assert.equal(r.json.entry.length, 1);
    await p.reset(['Questionnaire']);
    return r.json.entry[0].resource;
  }

  it('testCreateValidByLocalUser', async () => {
    expectStatus(await p.local.post('/Questionnaire', questionnaire()), 201);
    await p.reset(['Questionnaire']);
  });

  it('testSearchByDate', async () => {
    assert.equal((await search('date=le2022-02-01')).date, '2022-01-01T00:00:00+00:00');
  });

  it('testSearchByIdentifier', async () => {
    assert.deepEqual((await search(`identifier=${IDENTIFIER.system}|${IDENTIFIER.value}`)).identifier, [IDENTIFIER]);
  });

  it('testSearchByStatus', async () => {
    assert.equal((await search('status=active')).status, 'active');
  });

  it('testSearchByUrlAndVersion', async () => {
    const q = await search(`url=${URL}&version=2.0`);
    assert.equal(q.url, URL);
    assert.equal(q.version, '2.0');
  });
});
