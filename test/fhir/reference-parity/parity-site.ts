// The setting of the Java reference's FHIR integration tests, rebuilt on our server: a local
// organisation Test_Organization, a remote External_Test_Organization, a Parent_Organization whose
// affiliations give the local organisation the roles DIC and COS and the remote one TTP and DTS, and
// three local users from a role configuration in the reference's format (a practitioner with
// DIC_USER, a DSF_ADMIN and a minimal user limited to Tasks and questionnaires). Every client talks
// HTTPS with its own client certificate.
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { startTestSite, testCertificates, type FhirTestClient, type TestSite } from '../../support/fhir-site.ts';
import { sitesBundle } from '../../../src/fhir/init-bundle.ts';
import type { FhirServerConfig } from '../../../src/fhir/config.ts';

export const LOCAL_ORG = 'Test_Organization';
export const EXTERNAL_ORG = 'External_Test_Organization';
export const PARENT_ORG = 'Parent_Organization';
export const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
export const PRACTITIONER_ID = 'http://dsf.dev/sid/practitioner-identifier';
export const RAT = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
export const ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/organization-role';
export const PRACTITIONER_ROLE = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';

/** E-mail addresses in the users' certificates (test/support/fhir-site.ts). */
export const MAIL = { practitioner: 'practitioner@test.org', admin: 'admin@test.org', minimal: 'minimal@test.org' };

/** The reference test server's role configuration, in its YAML format (anchors included). */
export function referenceRoleConfig(thumbprints: { practitioner: string; admin: string; minimal: string }): string {
  return `
- practitioner-test-user:
    thumbprint: ${thumbprints.practitioner}
    dsf-role:
      - CREATE
      - READ
      - UPDATE
      - DELETE
      - SEARCH
      - HISTORY
    practitioner-role:
      - ${PRACTITIONER_ROLE}|DIC_USER
- admin-user:
    thumbprint: ${thumbprints.admin}
    dsf-role: [CREATE, READ, UPDATE, DELETE, SEARCH, HISTORY]
    practitioner-role:
      - ${PRACTITIONER_ROLE}|DSF_ADMIN
- minimal-test-user:
    thumbprint: ${thumbprints.minimal}
    dsf-role:
      - CREATE: [Task]
      - READ: &tqqr [Task, Questionnaire, QuestionnaireResponse]
      - UPDATE: [QuestionnaireResponse]
      - SEARCH: *tqqr
      - HISTORY: *tqqr
    practitioner-role:
      - ${PRACTITIONER_ROLE}|DIC_USER
`;
}

export const tagAll = () => ({ system: RAT, code: 'ALL' });
export const tagLocal = () => ({ system: RAT, code: 'LOCAL' });
export const tagOrganization = (identifier: string) => ({
  system: RAT,
  code: 'ORGANIZATION',
  extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization', valueIdentifier: { system: ORG_ID, value: identifier } }],
});
export const tagRole = (parent: string, role: string) => ({
  system: RAT,
  code: 'ROLE',
  extension: [
    {
      url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-parent-organization-role',
      extension: [
        { url: 'parent-organization', valueIdentifier: { system: ORG_ID, value: parent } },
        { url: 'organization-role', valueCoding: { system: ROLE_SYSTEM, code: role } },
      ],
    },
  ],
});

export interface ParitySite {
  site: TestSite;
  /** Test_Organization's own client certificate. */
  local: FhirTestClient;
  external: FhirTestClient;
  practitioner: FhirTestClient;
  admin: FhirTestClient;
  minimal: FhirTestClient;
  ids: { localOrganization: string; localEndpoint: string; externalOrganization: string; externalEndpoint: string; parentOrganization: string };
  /** Stores a resource as the reference's tests do through a DAO: no authorization, no validation. */
  storeDirectly<T extends Resource>(resource: T): Promise<T & { id: string; meta: { versionId: string } }>;
  /** Logical delete without any rule, as the reference's tests do through a DAO. */
  deleteDirectly(type: string, id: string): Promise<void>;
  /** Removes every stored resource of these types (the reference starts each test from a fresh database). */
  reset(types: string[]): Promise<void>;
  /** Removes these resources entirely, every version. */
  removeDirectly(ids: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startParitySite(config: Partial<FhirServerConfig> = {}): Promise<ParitySite> {
  const certs = await testCertificates();
  const site = await startTestSite({
    config: { organizationIdentifier: LOCAL_ORG, ...config },
    roleConfig: referenceRoleConfig({
      practitioner: certs.users['practitioner']!.thumbprint,
      admin: certs.users['admin']!.thumbprint,
      minimal: certs.users['minimal']!.thumbprint,
    }),
  });
  const local = site.client;
  const remote = await local.post(
    '',
    sitesBundle([{ organizationIdentifier: EXTERNAL_ORG, thumbprints: [certs.organizations[EXTERNAL_ORG]!.client.thumbprint], fhirBaseUrl: 'https://external.test/fhir' }]),
  );
  assert.equal(remote.status, 200, remote.body);
  const find = async (type: string, query: string) => {
    const r = await local.get(`/${type}?${query}`);
    assert.equal(r.json?.total, 1, `${type}?${query}: ${r.body}`);
    return r.json.entry[0].resource.id as string;
  };
  const localOrganization = await find('Organization', `identifier=${ORG_ID}|${LOCAL_ORG}`);
  const externalOrganization = await find('Organization', `identifier=${ORG_ID}|${EXTERNAL_ORG}`);
  const localEndpoint = await find('Endpoint', `organization=${localOrganization}`);
  const externalEndpoint = await find('Endpoint', `organization=${externalOrganization}`);
  const parent = await local.create({
    resourceType: 'Organization',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'], tag: [tagAll()] },
    identifier: [{ system: ORG_ID, value: PARENT_ORG }],
    active: true,
    name: 'Parent Organization',
  });
  const affiliation = (member: string, endpoint: string, roles: string[]) => ({
    resourceType: 'OrganizationAffiliation',
    meta: { tag: [tagAll()] },
    active: true,
    organization: { reference: `Organization/${parent.id}`, type: 'Organization' },
    participatingOrganization: { reference: `Organization/${member}`, type: 'Organization' },
    code: roles.map((code) => ({ coding: [{ system: ROLE_SYSTEM, code }] })),
    endpoint: [{ reference: `Endpoint/${endpoint}`, type: 'Endpoint' }],
  });
  await local.create(affiliation(localOrganization, localEndpoint, ['DIC', 'COS']));
  await local.create(affiliation(externalOrganization, externalEndpoint, ['TTP', 'DTS']));

  const store = site.server.store;
  return {
    site,
    local,
    external: site.clientFor(EXTERNAL_ORG),
    practitioner: site.clientFor('practitioner'),
    admin: site.clientFor('admin'),
    minimal: site.clientFor('minimal'),
    ids: { localOrganization, localEndpoint, externalOrganization, externalEndpoint, parentOrganization: parent.id },
    async storeDirectly(resource) {
      const stored = await store.transaction((c) => store.create(c, resource));
      return stored.resource as never;
    },
    async deleteDirectly(type, id) {
      await store.transaction((c) => store.delete(c, type, id));
    },
    async reset(types) {
      await store.transaction(async (c) => {
        await c.query('DELETE FROM search_index WHERE type = ANY($1)', [types]);
        await c.query('DELETE FROM unique_keys WHERE type = ANY($1)', [types]);
        await c.query('DELETE FROM resources WHERE type = ANY($1)', [types]);
      });
    },
    async removeDirectly(ids) {
      await store.transaction(async (c) => {
        await c.query('DELETE FROM search_index WHERE resource_id = ANY($1::uuid[])', [ids]);
        await c.query('DELETE FROM unique_keys WHERE resource_id = ANY($1::uuid[])', [ids]);
        await c.query('DELETE FROM resources WHERE id = ANY($1::uuid[])', [ids]);
      });
    },
    stop: () => site.stop(),
  };
}

export interface Answer {
  status: number;
  json: any;
  body: string;
}

/**
 * Asserts the status; for refusals also that the body is an OperationOutcome whose diagnostics match
 * `rule`. A 403 must name its rule, so that a refusal for the wrong reason cannot pass.
 */
export function expectStatus(r: Answer, status: number, rule?: RegExp): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body.slice(0, 600)}`);
  if (status === 403) assert.ok(rule, 'a 403 is asserted with the rule that refused it');
  if (status >= 400) {
    assert.equal(r.json?.resourceType, 'OperationOutcome', r.body);
    // forbidden (authorization), duplicate (uniqueness) or processing (reference checks, as the reference's outcomes)
    if (status === 403) assert.ok(r.json.issue.some((i: any) => ['forbidden', 'duplicate', 'processing'].includes(i.code)), r.body);
    if (rule) assert.ok(r.json.issue.some((i: any) => rule.test(i.diagnostics ?? '')), `no issue matches ${rule}: ${r.body}`);
  }
}

/** 403 whose OperationOutcome says nothing about profiles or validation (authorization comes first). */
export function expectForbidden(r: Answer, rule: RegExp): void {
  expectStatus(r, 403, rule);
  assert.doesNotMatch(r.body, /minimum required|validat|Profile \S+ not found/i, 'a refusal must not reveal validation results');
}

export const ids = (bundle: any): string[] => (bundle?.entry ?? []).filter((e: any) => e.resource).map((e: any) => e.resource.id);
