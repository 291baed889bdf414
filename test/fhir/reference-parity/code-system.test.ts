// The reference's CodeSystemIntegrationTest, ported: read access by read-access tag (LOCAL, ALL,
// ORGANIZATION, ROLE through the Parent_Organization affiliations: local DIC/COS, remote TTP/DTS)
// for the local and the remote organisation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EXTERNAL_ORG, expectForbidden, expectStatus, LOCAL_ORG, PARENT_ORG, startParitySite, tagAll, tagLocal, tagOrganization, tagRole, type ParitySite } from './parity-site.ts';

let p: ParitySite;

/**
 * A CodeSystem stored directly with these tags (the reference's DAO fixture: no validation). The
 * reference's ReadAccessHelper adds LOCAL to every ORGANIZATION or ROLE tag; so does this.
 */
async function codeSystem(tags: object[]): Promise<string> {
  const withLocal = tags.some((t: any) => t.code === 'ORGANIZATION' || t.code === 'ROLE') ? [tagLocal(), ...tags] : tags;
  const cs = await p.storeDirectly({ resourceType: 'CodeSystem', meta: { tag: withLocal }, status: 'active', content: 'complete' } as any);
  return cs.id;
}

async function expectRead(client: ParitySite['local'], id: string, allowed: boolean): Promise<void> {
  const r = await client.get(`/CodeSystem/${id}`);
  if (!allowed) return expectForbidden(r, /Not allowed to read/);
  expectStatus(r, 200);
  assert.equal(r.json.id, id);
}

describe('CodeSystemIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
  });
  after(() => p?.stop());

  const cases: [string, () => object[], 'local' | 'external', boolean][] = [
    ['testReadAllowedForLocalUserByLocalTag', () => [tagLocal()], 'local', true],
    ['testReadNotAllowedForRemoteUserByLocalTag', () => [tagLocal()], 'external', false],
    ['testReadAllowedForLocalUserByAllTag', () => [tagAll()], 'local', true],
    ['testReadAllowedForRemoteUserByAllTag', () => [tagAll()], 'external', true],
    ['testReadAllowedForLocalUserByOrganizationTag', () => [tagOrganization(LOCAL_ORG)], 'local', true],
    ['testReadAllowedForRemoteUserByOrganizationTag', () => [tagOrganization(EXTERNAL_ORG)], 'external', true],
    ['testReadNotAllowedForRemoteUserByOrganizationTag', () => [tagOrganization(LOCAL_ORG)], 'external', false],
    ['testReadAllowedForLocalUserWithRoleTag', () => [tagRole(PARENT_ORG, 'DIC')], 'local', true],
    ['testReadAllowedForRemoteUserWithRoleTag', () => [tagRole(PARENT_ORG, 'TTP')], 'external', true],
    ['testReadAllowedForRemoteUserWithRoleTag2', () => [tagRole(PARENT_ORG, 'DTS')], 'external', true],
    ['testReadAllowedForRemoteUserWithRoleTag3', () => [tagRole(PARENT_ORG, 'TTP'), tagRole(PARENT_ORG, 'DTS')], 'external', true],
    ['testReadNotAllowedForRemoteUserWithRoleTag', () => [tagRole(PARENT_ORG, 'DIC')], 'external', false],
  ];
  for (const [name, tags, who, allowed] of cases) {
    it(name, async () => {
      const id = await codeSystem(tags());
      await expectRead(who === 'local' ? p.local : p.external, id, allowed);
    });
  }
});
