// Organisations as the local FHIR server knows them (the reference's OrganizationProvider): the local
// one through the active Endpoint with the local base URL as address, others by identifier or
// through OrganizationAffiliations.
import type { Endpoint, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { ORGANIZATION_IDENTIFIER_SID, ORGANIZATION_ROLE_SYSTEM, type FhirClient, type OrganizationProvider } from '../../plugin-api/index.ts';
import { identifierValue, includes, matches, refersTo } from './fhir-lookups.ts';

/** How long the local organisation's identifier is remembered (it is read for every message sent). */
const LOCAL_IDENTIFIER_TTL_MS = 60_000;

export class FhirOrganizationProvider implements OrganizationProvider {
  private localIdentifier: { value: string; until: number } | undefined;

  constructor(
    private readonly local: FhirClient,
    private readonly localBaseUrl: string,
  ) {}

  async getLocalOrganization(): Promise<Organization | undefined> {
    const bundle = await this.local.search('Endpoint', { status: 'active', address: this.localBaseUrl, _include: 'Endpoint:organization' });
    const endpoints = matches<Endpoint>(bundle, 'Endpoint');
    if (endpoints.length !== 1) return undefined;
    const orgs = includes<Organization>(bundle, 'Organization').filter((o) => o.active !== false && refersTo(endpoints[0]!.managingOrganization, o));
    return orgs.length === 1 ? orgs[0] : undefined;
  }

  async getLocalOrganizationIdentifierValue(): Promise<string | undefined> {
    if (this.localIdentifier && this.localIdentifier.until > Date.now()) return this.localIdentifier.value;
    const value = identifierValue((await this.getLocalOrganization())?.identifier, ORGANIZATION_IDENTIFIER_SID);
    if (value) this.localIdentifier = { value, until: Date.now() + LOCAL_IDENTIFIER_TTL_MS };
    return value;
  }

  async getOrganization(identifierValueToFind: string): Promise<Organization | undefined> {
    const found = await this.local.searchAll<Organization>('Organization', { active: 'true', identifier: `${ORGANIZATION_IDENTIFIER_SID}|${identifierValueToFind}` });
    return found.length === 1 ? found[0] : undefined;
  }

  async getOrganizations(parentIdentifierValue: string, memberRoleCode?: string): Promise<Organization[]> {
    const { members } = await this.affiliations(parentIdentifierValue, memberRoleCode);
    return members;
  }

  async getRemoteOrganizations(): Promise<Organization[]> {
    const local = await this.getLocalOrganizationIdentifierValue();
    const all = await this.local.searchAll<Organization>('Organization', { active: 'true' });
    return all.filter((o) => identifierValue(o.identifier, ORGANIZATION_IDENTIFIER_SID) !== local);
  }

  async getParentOrganizations(): Promise<Organization[]> {
    const bundle = await this.local.search('OrganizationAffiliation', { active: 'true', _include: 'OrganizationAffiliation:primary-organization', _count: 1000 });
    return includes<Organization>(bundle, 'Organization').filter((o) => o.active !== false);
  }

  /** Active affiliations of a parent organisation with their members and endpoints. */
  async affiliations(
    parentIdentifierValue: string,
    memberRoleCode?: string,
  ): Promise<{ affiliations: OrganizationAffiliation[]; members: Organization[]; endpoints: Endpoint[] }> {
    const parent = await this.getOrganization(parentIdentifierValue);
    if (!parent?.id) return { affiliations: [], members: [], endpoints: [] };
    const params: Record<string, string | string[] | number> = {
      active: 'true',
      'primary-organization': `Organization/${parent.id}`,
      _include: ['OrganizationAffiliation:participating-organization', 'OrganizationAffiliation:endpoint'],
      _count: 1000,
    };
    if (memberRoleCode) params.role = `${ORGANIZATION_ROLE_SYSTEM}|${memberRoleCode}`;
    const bundle = await this.local.search('OrganizationAffiliation', params);
    return {
      affiliations: matches<OrganizationAffiliation>(bundle, 'OrganizationAffiliation'),
      members: includes<Organization>(bundle, 'Organization').filter((o) => o.active !== false),
      endpoints: includes<Endpoint>(bundle, 'Endpoint').filter((e) => e.status === 'active'),
    };
  }
}
