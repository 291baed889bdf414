// Endpoints as the local FHIR server knows them (the reference's EndpointProvider): the local one by
// address, others by identifier, and the endpoint(s) of members' affiliations with a parent.
import type { Endpoint, Identifier, OrganizationAffiliation } from '@medplum/fhirtypes';
import {
  ENDPOINT_IDENTIFIER_SID,
  ORGANIZATION_IDENTIFIER_SID,
  ORGANIZATION_ROLE_SYSTEM,
  type CodeOrCoding,
  type EndpointProvider,
  type FhirClient,
  type IdentifierOrValue,
} from '../../plugin-api/index.ts';
import { codingToken, identifierToken, includedThroughAffiliations, includes, matches, organizationReferences, searchEntries } from './fhir-lookups.ts';
import type { FhirOrganizationProvider } from './organization-provider.ts';

export class FhirEndpointProvider implements EndpointProvider {
  constructor(
    private readonly local: FhirClient,
    private readonly localBaseUrl: string,
    // Kept for the constructor's callers; look-ups go to the FHIR server directly.
    _organizations?: FhirOrganizationProvider,
  ) {}

  getLocalEndpointAddress(): string {
    return this.localBaseUrl;
  }

  async getLocalEndpoint(): Promise<Endpoint | undefined> {
    const found = matches<Endpoint>(await this.local.searchWithStrictHandling('Endpoint', { status: 'active', address: this.localBaseUrl }), 'Endpoint');
    return found.length === 1 ? found[0] : undefined;
  }

  async getLocalEndpointIdentifier(): Promise<Identifier | undefined> {
    return (await this.getLocalEndpoint())?.identifier?.find((i) => i.system === ENDPOINT_IDENTIFIER_SID);
  }

  async getLocalEndpointIdentifierValue(): Promise<string | undefined> {
    return (await this.getLocalEndpointIdentifier())?.value;
  }

  getEndpoint(endpointIdentifier: IdentifierOrValue | null | undefined): Promise<Endpoint | undefined>;
  getEndpoint(parent: IdentifierOrValue | null | undefined, member: IdentifierOrValue | null | undefined, role: CodeOrCoding | null | undefined): Promise<Endpoint | undefined>;
  getEndpoint(...args: unknown[]): Promise<Endpoint | undefined> {
    return this.find(args);
  }

  getEndpointAddress(endpointIdentifier: IdentifierOrValue | null | undefined): Promise<string | undefined>;
  getEndpointAddress(parent: IdentifierOrValue | null | undefined, member: IdentifierOrValue | null | undefined, role: CodeOrCoding | null | undefined): Promise<string | undefined>;
  async getEndpointAddress(...args: unknown[]): Promise<string | undefined> {
    return (await this.find(args))?.address;
  }

  /** One argument: by endpoint identifier; three: the endpoint of a member's affiliation with a parent in a role. */
  private async find(args: unknown[]): Promise<Endpoint | undefined> {
    if (args.length >= 3) return this.memberEndpoint(args[0] as IdentifierOrValue, args[1] as IdentifierOrValue, args[2] as CodeOrCoding);
    const token = identifierToken(args[0] as IdentifierOrValue | undefined, ENDPOINT_IDENTIFIER_SID);
    if (!token) return undefined;
    const bundle = await this.local.searchWithStrictHandling('Endpoint', { status: 'active', identifier: token });
    const found = matches<Endpoint>(bundle, 'Endpoint');
    return bundle.total === 1 && found.length === 1 ? found[0] : undefined;
  }

  async getEndpoints(parentIdentifier: IdentifierOrValue | null | undefined, memberRole?: CodeOrCoding | null): Promise<Endpoint[]> {
    const endpoints = await includedThroughAffiliations<Endpoint>(this.local, parentIdentifier, memberRole, 'OrganizationAffiliation:endpoint', 'Endpoint');
    return endpoints.filter((e) => e.status === 'active');
  }

  async getRemoteEndpoints(): Promise<Endpoint[]> {
    const all = await this.local.searchAll<Endpoint>('Endpoint', { status: 'active' });
    return all.filter((e) => e.address !== this.localBaseUrl);
  }

  private async memberEndpoint(parentIdentifier: IdentifierOrValue | null | undefined, memberIdentifier: IdentifierOrValue | null | undefined, memberRole: CodeOrCoding | null | undefined): Promise<Endpoint | undefined> {
    const parent = identifierToken(parentIdentifier, ORGANIZATION_IDENTIFIER_SID);
    const member = identifierToken(memberIdentifier, ORGANIZATION_IDENTIFIER_SID);
    const role = codingToken(memberRole, ORGANIZATION_ROLE_SYSTEM);
    if (!parent || !member || !role) return undefined;
    const [parents, members] = [await organizationReferences(this.local, parent), await organizationReferences(this.local, member)];
    if (!parents || !members) return undefined;
    const bundle = await this.local.searchWithStrictHandling('OrganizationAffiliation', {
      active: 'true',
      'primary-organization': parents,
      'participating-organization': members,
      role,
      _include: 'OrganizationAffiliation:endpoint',
    });
    if (bundle.total !== 1 || matches<OrganizationAffiliation>(bundle, 'OrganizationAffiliation').length !== 1) return undefined;
    const endpoints = includes<Endpoint>(bundle, 'Endpoint').filter((e) => e.status === 'active');
    return endpoints.length === 1 ? endpoints[0] : undefined;
  }
}
