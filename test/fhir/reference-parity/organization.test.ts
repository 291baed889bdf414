// The reference's OrganizationIntegrationTest, ported: Organization searches with _include and
// _revinclude, thumbprint and identifier uniqueness on update (403), an identifier that may not change,
// and a second thumbprint added without breaking the organisation's authentication.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EXTERNAL_ORG, expectForbidden, expectStatus, LOCAL_ORG, ORG_ID, startParitySite, type ParitySite } from './parity-site.ts';

let p: ParitySite;
const THUMBPRINT = 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint';
const ZEROS = '0'.repeat(128);
let externalOriginal: any;

async function organization(identifier: string): Promise<any> {
  const r = await p.local.get(`/Organization?identifier=${ORG_ID}|${identifier}`);
  expectStatus(r, 200);
  assert.equal(r.json.total, 1);
  assert.equal(r.json.entry[0].search.mode, 'match');
  return r.json.entry[0].resource;
}

const thumbprintsOf = (org: any): any[] => org.extension.filter((e: any) => e.url === THUMBPRINT);
const modes = (bundle: any) => bundle.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}`);

describe('OrganizationIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
    externalOriginal = await organization(EXTERNAL_ORG);
  });
  after(() => p?.stop());
  // The reference starts each test from the initial bundle: put External_Test_Organization back.
  afterEach(async () => {
    const current = await organization(EXTERNAL_ORG);
    if (JSON.stringify(current.extension) !== JSON.stringify(externalOriginal.extension)) {
      expectStatus(await p.local.put(`/Organization/${current.id}`, { ...current, extension: externalOriginal.extension }), 200);
    }
  });

  // Three organisations here as in the reference: Test_Organization, External_Test_Organization, Parent_Organization.
  it('testSearchAll', async () => {
    const r = await p.local.get('/Organization');
    expectStatus(r, 200);
    assert.equal(r.json.total, 3);
  });

  it('testSearchOrganizationIncludeEndpoint', async () => {
    const r = await p.local.get('/Organization?_include=Organization:endpoint');
    expectStatus(r, 200);
    assert.equal(r.json.total, 3);
    assert.deepEqual(modes(r.json), ['match:Organization', 'match:Organization', 'match:Organization', 'include:Endpoint', 'include:Endpoint']);
  });

  it('testSearchOrganizationRevIncludeEndpoint', async () => {
    const r = await p.local.get('/Organization?_revinclude=Endpoint:organization');
    expectStatus(r, 200);
    assert.equal(r.json.total, 3);
    assert.deepEqual(modes(r.json), ['match:Organization', 'match:Organization', 'match:Organization', 'include:Endpoint', 'include:Endpoint']);
  });

  it('testUpdateOrganizationWithNewThumbprint', async () => {
    const org = await organization(EXTERNAL_ORG);
    assert.equal(thumbprintsOf(org).length, 1);
    thumbprintsOf(org)[0].valueString = ZEROS;
    expectStatus(await p.local.put(`/Organization/${org.id}`, org), 200);
  });

  it('testUpdateOrganizationWithExistingThumbprint', async () => {
    const existing = thumbprintsOf(await organization(LOCAL_ORG))[0].valueString;
    const org = await organization(EXTERNAL_ORG);
    thumbprintsOf(org)[0].valueString = existing;
    expectForbidden(await p.local.put(`/Organization/${org.id}`, org), /already exists/);
  });

  it('testUpdateOrganizationWithExistingIdentifier', async () => {
    const org = await organization(EXTERNAL_ORG);
    org.identifier[0].value = LOCAL_ORG;
    expectForbidden(await p.local.put(`/Organization/${org.id}`, org), /identifier .* may not change/);
  });

  it('testUpdateOrganizationAddNewThumbprint', async () => {
    const org = await organization(EXTERNAL_ORG);
    org.extension = [{ url: THUMBPRINT, valueString: ZEROS }, ...thumbprintsOf(org)];
    expectStatus(await p.local.put(`/Organization/${org.id}`, org), 200);
    // authentication with the old certificate still works
    expectStatus(await p.external.get('/Organization'), 200);
  });

  it('testSearchWithUnsupportedRevIncludeParameter', async () => {
    const r = await p.local.get('/Organization?_revinclude=Endpoint:foo');
    expectStatus(r, 200);
    assert.equal(r.json.total, 3);
    assert.deepEqual(modes(r.json), ['match:Organization', 'match:Organization', 'match:Organization', 'outcome:OperationOutcome']);
  });

  it('testStrictSearchWithUnsupportedRevIncludeParameter', async () => {
    expectStatus(await p.local.get('/Organization?_revinclude=Endpoint:foo', { prefer: 'handling=strict' }), 400);
  });
});
