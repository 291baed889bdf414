// Identities and request contexts for authorization tests: plain Identity data (as identity.ts
// defines it) driving the real Interactions against a real database from startTestSite().
import type { Coding, Endpoint, Organization, Resource } from '@medplum/fhirtypes';
import assert from 'node:assert/strict';
import { FhirError } from '../../../src/common/errors.ts';
import { authorizationContext } from '../../../src/fhir/auth/authorization.ts';
import { localOrganizationRoles, remoteOrganizationRoles, type DsfRole, type Identity, type RoleGrant } from '../../../src/fhir/types/identity.ts';
import type { RequestContext } from '../../../src/fhir/service/request-context.ts';
import { sitesBundle } from '../../../src/fhir/init-bundle.ts';
import { BundleProcessor } from '../../../src/fhir/service/bundle-processor.ts';
import type { TestSite } from '../../support/fhir-site.ts';

export const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
export const RAT = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
export const ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/organization-role';
export const PRACTITIONER_ROLE = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';
export const PARENT_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';

export const tagAll = () => ({ tag: [{ system: RAT, code: 'ALL' }] });
export const tagLocal = () => ({ tag: [{ system: RAT, code: 'LOCAL' }] });
export const organizationTag = (identifier: string) => ({
  system: RAT,
  code: 'ORGANIZATION',
  extension: [{ url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization', valueIdentifier: { system: ORG_ID, value: identifier } }],
});
export const roleTag = (parent: string, code: string) => ({
  system: RAT,
  code: 'ROLE',
  extension: [
    {
      url: 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-parent-organization-role',
      extension: [
        { url: 'parent-organization', valueIdentifier: { system: ORG_ID, value: parent } },
        { url: 'organization-role', valueCoding: { system: ROLE_SYSTEM, code } },
      ],
    },
  ],
});

export interface Outcome {
  status: number;
  resource?: any;
  message?: string;
}

/** Runs an interaction; a FhirError becomes its status and message. */
export async function attempt(fn: () => Promise<{ status: number; resource?: Resource; outcome?: unknown }>): Promise<Outcome> {
  try {
    const r = await fn();
    return { status: r.status, resource: r.resource };
  } catch (e) {
    if (e instanceof FhirError) return { status: e.status, message: e.message };
    throw e;
  }
}

/** The interactions as one identity sees them (undefined: the server's own start-up work). */
export function as(site: TestSite, identity: Identity | undefined) {
  const i = site.server.service;
  const pool = site.server.pool;
  const ctx: RequestContext = { strict: true, identity, ...authorizationContext(identity, site.server.config) };
  const tx = <T>(fn: (c: import('../../../src/db/pool.ts').TransactionClient) => Promise<T>) => site.server.store.transaction(fn);
  return {
    ctx,
    read: (type: string, id: string) => attempt(() => i.read(ctx, pool, type, id)),
    vread: (type: string, id: string, v: string) => attempt(() => i.vread(ctx, pool, type, id, v)),
    search: (type: string, query: string) => attempt(() => i.search(ctx, pool, type, [...new URLSearchParams(query)])),
    history: (type?: string, id?: string, query = '') => attempt(() => i.history(ctx, pool, type, id, [...new URLSearchParams(query)])),
    create: (resource: any, ifNoneExist?: string) => attempt(() => tx((c) => i.create(ctx, c, resource.resourceType, resource, ifNoneExist))),
    update: (resource: any) => attempt(() => tx((c) => i.update(ctx, c, resource.resourceType, resource.id, resource))),
    delete: (type: string, id: string) => attempt(() => tx((c) => i.delete(ctx, c, type, id))),
    permanentDelete: (type: string, id: string) => attempt(() => tx((c) => i.permanentDelete(ctx, c, type, id))),
    bundle: (bundle: any) => attempt(async () => ({ status: 200, resource: await new BundleProcessor(i).process(ctx, bundle, 'representation') })),
  };
}

/** Ids of the matches in a searchset Bundle. */
export const matchIds = (bundle: any): string[] => (bundle?.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
export const includeIds = (bundle: any): string[] => (bundle?.entry ?? []).filter((e: any) => e.search?.mode === 'include').map((e: any) => e.resource.id).sort();

export async function organizationByIdentifier(site: TestSite, identifier: string): Promise<{ organization: Organization; endpoint?: Endpoint }> {
  const r = await as(site, undefined).search('Organization', `identifier=${ORG_ID}|${identifier}&_include=Organization:endpoint`);
  const entries = r.resource?.entry ?? [];
  const organization = entries.find((e: any) => e.resource.resourceType === 'Organization')?.resource;
  if (!organization) throw new Error(`no Organization ${identifier}`);
  return { organization, endpoint: entries.find((e: any) => e.resource.resourceType === 'Endpoint')?.resource };
}

export function organizationIdentity(org: { organization: Organization; endpoint?: Endpoint }, local: boolean): Identity {
  const identifier = org.organization.identifier!.find((i) => i.system === ORG_ID)!.value!;
  return {
    kind: 'organization',
    local,
    organization: org.organization,
    organizationIdentifier: identifier,
    roles: local ? localOrganizationRoles() : remoteOrganizationRoles(),
    displayName: identifier,
    endpoint: org.endpoint,
  };
}

export function practitionerIdentity(localOrg: Organization, localIdentifier: string, email: string, practitionerRoles: Coding[], roles: Map<DsfRole, RoleGrant>): Identity {
  return { kind: 'practitioner', local: true, organization: localOrg, organizationIdentifier: localIdentifier, roles, displayName: email, email, practitionerRoles };
}

export const readOnlyRoles = (): Map<DsfRole, RoleGrant> => new Map<DsfRole, RoleGrant>([
  ['READ', 'all'],
  ['SEARCH', 'all'],
  ['HISTORY', 'all'],
]);

/** Remote organisations (with Endpoints) created by the server's own start-up path. */
export async function createRemoteOrganizations(site: TestSite, identifiers: string[]): Promise<void> {
  const bundle = sitesBundle(identifiers.map((id, n) => ({ organizationIdentifier: id, thumbprints: [String(n + 1).repeat(128)], fhirBaseUrl: `https://${id}/fhir` })));
  await new BundleProcessor(site.server.service).process({ strict: true }, bundle, 'minimal');
}

/** Asserts a 403 whose message names the rule that refused it (a refusal for another reason must not pass). */
export function assertRefused(r: Outcome, rule: RegExp, what = ''): void {
  assert.equal(r.status, 403, `${what}: expected 403, got ${r.status} ${r.message ?? ''}`);
  assert.match(r.message ?? '', rule, what);
}
