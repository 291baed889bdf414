// The reference's OrganizationAffiliationIntegrationTest, ported: uniqueness of parent + member +
// endpoint and of parent + member + role (403), and updates that may change roles but not the parent
// organisation, the member organisation or the endpoint (403).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectForbidden, expectStatus, ORG_ID, ROLE_SYSTEM, startParitySite, tagAll, type ParitySite } from './parity-site.ts';

let p: ParitySite;
let n = 0;

/** Parent, member and endpoints stored directly (the reference uses its DAOs), unique per test. */
async function parentAndMember(): Promise<{ parent: string; member: string }> {
  n++;
  const org = (value: string) => ({ resourceType: 'Organization', meta: { tag: [tagAll()] }, identifier: [{ system: ORG_ID, value }], active: true }) as any;
  const parent = await p.storeDirectly(org(`parent${n}.org`));
  const member = await p.storeDirectly(org(`member${n}.org`));
  return { parent: parent.id, member: member.id };
}

async function endpoint(subdomain: string): Promise<string> {
  const e = await p.storeDirectly({
    resourceType: 'Endpoint',
    meta: { tag: [tagAll()] },
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: `${subdomain}.member${n}.org` }],
    address: `https://${subdomain}.member${n}.org/fhir`,
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
  } as any);
  return e.id;
}

function affiliation(parent: string, member: string, endpointId: string, ...codes: string[]) {
  return {
    resourceType: 'OrganizationAffiliation',
    meta: { tag: [tagAll()] },
    active: true,
    organization: { type: 'Organization', reference: `Organization/${parent}` },
    participatingOrganization: { type: 'Organization', reference: `Organization/${member}` },
    endpoint: [{ type: 'Endpoint', reference: `Endpoint/${endpointId}` }],
    code: codes.map((code) => ({ coding: [{ system: ROLE_SYSTEM, code }] })),
  };
}

async function create(resource: object): Promise<any> {
  const r = await p.local.post('/OrganizationAffiliation', resource);
  expectStatus(r, 201);
  return r.json;
}

async function affiliationCount(): Promise<number> {
  return Number((await p.site.server.pool.query(`SELECT count(*) AS n FROM resources WHERE type = 'OrganizationAffiliation'`)).rows[0].n);
}

describe('OrganizationAffiliationIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
  });
  after(() => p?.stop());

  it('testCreateAllowed', async () => {
    const { parent, member } = await parentAndMember();
    await create(affiliation(parent, member, await endpoint('dic'), 'DIC'));
    await create(affiliation(parent, member, await endpoint('dms'), 'DMS'));
  });

  it('testCreateForbiddenResourceExists1', async () => {
    const { parent, member } = await parentAndMember();
    const e = await endpoint('endpoint');
    await create(affiliation(parent, member, e, 'DIC'));
    const before = await affiliationCount();
    expectForbidden(await p.local.post('/OrganizationAffiliation', affiliation(parent, member, e, 'DMS')), /already exists/);
    assert.equal(await affiliationCount(), before);
  });

  it('testCreateForbiddenResourceExists2', async () => {
    const { parent, member } = await parentAndMember();
    await create(affiliation(parent, member, await endpoint('dic'), 'DIC'));
    const before = await affiliationCount();
    expectForbidden(await p.local.post('/OrganizationAffiliation', affiliation(parent, member, await endpoint('dms'), 'DIC')), /already exists/);
    assert.equal(await affiliationCount(), before);
  });

  it('testUpdateAllowed', async () => {
    const { parent, member } = await parentAndMember();
    const aDic = await create(affiliation(parent, member, await endpoint('dic'), 'DIC'));
    await create(affiliation(parent, member, await endpoint('dms'), 'DMS'));
    aDic.code[0].coding[0].code = 'TTP';
    const r = await p.local.put(`/OrganizationAffiliation/${aDic.id}`, aDic);
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
  });

  it('testUpdateForbiddenResourceExists', async () => {
    const { parent, member } = await parentAndMember();
    await create(affiliation(parent, member, await endpoint('dic'), 'DIC', 'DMS'));
    const aTtp = await create(affiliation(parent, member, await endpoint('ttp'), 'TTP'));
    aTtp.code[0].coding[0].code = 'DMS';
    expectForbidden(await p.local.put(`/OrganizationAffiliation/${aTtp.id}`, aTtp), /already exists/);
  });

  const modified: [string, (a: any) => void, RegExp][] = [
    ['testUpdateForbiddenParentModified', (a) => (a.organization.reference = `Organization/${randomUUID()}`), /OrganizationAffiliation\.organization may not change/],
    ['testUpdateForbiddenMemberModified', (a) => (a.participatingOrganization.reference = `Organization/${randomUUID()}`), /participatingOrganization may not change/],
    ['testUpdateForbiddenEndpointModified', (a) => (a.endpoint[0].reference = `Endpoint/${randomUUID()}`), /endpoint may not change/],
  ];
  for (const [name, modify, rule] of modified) {
    it(name, async () => {
      const { parent, member } = await parentAndMember();
      const a = await create(affiliation(parent, member, await endpoint('endpoint'), 'DIC'));
      modify(a);
      expectForbidden(await p.local.put(`/OrganizationAffiliation/${a.id}`, a), rule);
      const stored = await p.local.get(`/OrganizationAffiliation/${a.id}`);
      assert.equal(stored.json.meta.versionId, '1', 'nothing was stored');
    });
  }
});
