// Organisations as the local FHIR server knows them (the reference's OrganizationProvider): the local
// one through the active Endpoint with the local base URL as address, others by identifier, members
// of a parent through its active OrganizationAffiliations, remote members and parents by profile.
// Searches use strict handling and read every page.
import type { Endpoint, Identifier, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import {
  ORGANIZATION_IDENTIFIER_SID,
  ORGANIZATION_ROLE_SYSTEM,
  type CodeOrCoding,
  type FhirClient,
  type IdentifierOrValue,
  type OrganizationProvider,
} from '../../plugin-api/index.ts';
import { codingToken, distinct, identifierToken, identifierValue, includedThroughAffiliations, includes, matches, organizationReferences, refersTo, searchEntries } from './fhir-lookups.ts';

/** How long the local organisation's identifier is remembered (it is read for every message sent). */
const LOCAL_IDENTIFIER_TTL_MS = 60_000;
const PROFILE_ORGANIZATION = 'http://dsf.dev/fhir/StructureDefinition/organization';
const PROFILE_ORGANIZATION_PARENT = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';

export class FhirOrganizationProvider implements OrganizationProvider {
  private localIdentifier: { value: string; until: number } | undefined;

  constructor(
    private readonly local: FhirClient,
    private readonly localBaseUrl: string,
  ) {}

  async getLocalOrganization(): Promise<Organization | undefined> {
    const bundle = await this.local.searchWithStrictHandling('Endpoint', { status: 'active', address: this.localBaseUrl, _include: 'Endpoint:organization' });
    const endpoints = matches<Endpoint>(bundle, 'Endpoint');
    if (endpoints.length !== 1) return undefined;
    const orgs = includes<Organization>(bundle, 'Organization').filter((o) => o.active === true && refersTo(endpoints[0]!.managingOrganization, o));
    return orgs.length === 1 ? orgs[0] : undefined;
  }

  async getLocalOrganizationIdentifier(): Promise<Identifier | undefined> {
    return (await this.getLocalOrganization())?.identifier?.find((i) => i.system === ORGANIZATION_IDENTIFIER_SID);
  }

  async getLocalOrganizationIdentifierValue(): Promise<string | undefined> {
    if (this.localIdentifier && this.localIdentifier.until > Date.now()) return this.localIdentifier.value;
    const value = identifierValue((await this.getLocalOrganization())?.identifier, ORGANIZATION_IDENTIFIER_SID);
    if (value) this.localIdentifier = { value, until: Date.now() + LOCAL_IDENTIFIER_TTL_MS };
    return value;
  }

  async getOrganization(identifier: IdentifierOrValue | null | undefined): Promise<Organization | undefined> {
    const token = identifierToken(identifier, ORGANIZATION_IDENTIFIER_SID);
    if (!token) return undefined;
    const bundle = await this.local.searchWithStrictHandling('Organization', { active: 'true', identifier: token });
    const found = matches<Organization>(bundle, 'Organization');
    return bundle.total === 1 && found.length === 1 ? found[0] : undefined;
  }

  async getOrganizations(parentIdentifier: IdentifierOrValue | null | undefined, memberRole?: CodeOrCoding | null): Promise<Organization[]> {
    const organizations = await includedThroughAffiliations<Organization>(this.local, parentIdentifier, memberRole, 'OrganizationAffiliation:participating-organization', 'Organization');
    return organizations.filter((o) => o.active === true);
  }

  async getRemoteOrganizations(): Promise<Organization[]> {
    const local = await this.getLocalOrganizationIdentifier();
    if (!local?.value) return [];
    const entries = await searchEntries(this.local, 'Organization', { active: 'true', 'identifier:not': `${local.system}|${local.value}`, _profile: PROFILE_ORGANIZATION });
    return entries.filter((e) => e.search?.mode === 'match' && e.resource?.resourceType === 'Organization').map((e) => e.resource as Organization);
  }

  async getParentOrganizations(): Promise<Organization[]> {
    const entries = await searchEntries(this.local, 'Organization', { active: 'true', _profile: PROFILE_ORGANIZATION_PARENT });
    return entries.filter((e) => e.search?.mode === 'match' && e.resource?.resourceType === 'Organization').map((e) => e.resource as Organization);
  }

  /** Active affiliations of a parent organisation with their members and endpoints (for targets). */
  async affiliations(
    parentIdentifier: IdentifierOrValue,
    memberRole?: CodeOrCoding,
  ): Promise<{ affiliations: OrganizationAffiliation[]; members: Organization[]; endpoints: Endpoint[] }> {
    const parent = identifierToken(parentIdentifier, ORGANIZATION_IDENTIFIER_SID);
    const parents = parent ? await organizationReferences(this.local, parent) : undefined;
    if (!parents) return { affiliations: [], members: [], endpoints: [] };
    const params: Record<string, string | string[]> = {
      active: 'true',
      'primary-organization': parents,
      _include: ['OrganizationAffiliation:participating-organization', 'OrganizationAffiliation:endpoint'],
    };
    const role = codingToken(memberRole, ORGANIZATION_ROLE_SYSTEM);
    if (role) params.role = role;
    const entries = await searchEntries(this.local, 'OrganizationAffiliation', params);
    const of = <R>(type: string, mode: string) => entries.filter((e) => e.resource?.resourceType === type && e.search?.mode === mode).map((e) => e.resource as R);
    return {
      affiliations: of<OrganizationAffiliation>('OrganizationAffiliation', 'match'),
      members: distinct(of<Organization>('Organization', 'include')).filter((o) => o.active === true),
      endpoints: distinct(of<Endpoint>('Endpoint', 'include')).filter((e) => e.status === 'active'),
    };
  }
}

