// A reference parameter's :identifier matches the Reference's own identifier and, as the reference server
// does, the identifier of the resource a literal reference points to. An allow-list Bundle's conditional
// update (`OrganizationAffiliation?…&endpoint:identifier=…`) then finds an affiliation stored with plain
// literal references, and applying it twice updates instead of creating a second one. An affiliation
// stored with identifiers beside its references (readers see only the identifiers) may be updated with
// plain literal references to the same organisations: its parent and member did not change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const ORG = 'http://dsf.dev/sid/organization-identifier';
const EP = 'http://dsf.dev/sid/endpoint-identifier';

let site: TestSite;
let parentId: string;
let memberId: string;
let endpointId: string;

before(async () => {
  site = await startTestSite();
  const c = site.client;
  parentId = (await c.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] }, identifier: [{ system: ORG, value: 'parent.test' }], active: true })).id;
  const m = 'urn:uuid:0b8e7c52-3f7d-4d8b-9a59-1c2d3e4f5a01';
  const e = 'urn:uuid:0b8e7c52-3f7d-4d8b-9a59-1c2d3e4f5a02';
  const member = { resourceType: 'Organization', meta: TAG_ALL, identifier: [{ system: ORG, value: 'member.test' }], active: true, endpoint: [{ reference: e }], extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint', valueString: 'cd'.repeat(64) }] };
  const endpoint = {
    resourceType: 'Endpoint',
    meta: TAG_ALL,
    identifier: [{ system: EP, value: 'member.test' }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: m },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: 'https://member.test/fhir',
  };
  const r = await c.post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: m, resource: member, request: { method: 'POST', url: 'Organization' } }, { fullUrl: e, resource: endpoint, request: { method: 'POST', url: 'Endpoint' } }] });
  assert.equal(r.status, 200, r.body);
  const idOf = (location: string) => /(?:Organization|Endpoint)\/([^/]+)/.exec(location)![1]!;
  memberId = idOf(r.json.entry[0].response.location);
  endpointId = idOf(r.json.entry[1].response.location);
  // Stored as network bundles write it: identifiers beside the parent's and the member's literal references.
  const stored = affiliation();
  stored.organization.identifier = { system: ORG, value: 'parent.test' };
  stored.participatingOrganization.identifier = { system: ORG, value: 'member.test' };
  await c.create(stored);
});
after(() => site?.stop());

function affiliation(): any {
  return {
    resourceType: 'OrganizationAffiliation',
    meta: TAG_ALL,
    active: true,
    organization: { reference: `Organization/${parentId}` },
    participatingOrganization: { reference: `Organization/${memberId}` },
    endpoint: [{ reference: `Endpoint/${endpointId}` }],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  };
}

const criteria = `primary-organization:identifier=${ORG}|parent.test&participating-organization:identifier=${ORG}|member.test&endpoint:identifier=${EP}|member.test`;

test(':identifier finds resources whose literal reference points to a resource with that identifier', async () => {
  const r = await site.client.get(`/OrganizationAffiliation?${criteria}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.total, 1);
  assert.equal((await site.client.get(`/OrganizationAffiliation?endpoint:identifier=${EP}|other.test`)).json.total, 0);
  assert.equal((await site.client.get(`/Endpoint?organization:identifier=${ORG}|member.test`)).json.total, 1);
  assert.equal((await site.client.get(`/Endpoint?organization:identifier=member.test`)).json.total, 1, 'a code without system');
});

test('a conditional update on those criteria in a transaction updates the affiliation, twice', async () => {
  for (let i = 0; i < 2; i++) {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:6f1c3f0e-2a51-4c3e-8f7e-0c9d7b1a2e01', resource: affiliation(), request: { method: 'PUT', url: `OrganizationAffiliation?${criteria}` } }] };
    const r = await site.client.post('', bundle);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.entry[0].response.status, '200 OK');
  }
  assert.equal((await site.client.get('/OrganizationAffiliation')).json.total, 1);
});
