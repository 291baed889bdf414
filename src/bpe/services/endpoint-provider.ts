// Endpoints as the local FHIR server knows them (the reference's EndpointProvider).
import type { Endpoint } from '@medplum/fhirtypes';
import { ENDPOINT_IDENTIFIER_SID, type EndpointProvider, type FhirClient } from '../../plugin-api/index.ts';
import { identifierValue } from './fhir-lookups.ts';
import type { FhirOrganizationProvider } from './organization-provider.ts';

export class FhirEndpointProvider implements EndpointProvider {
  constructor(
    private readonly local: FhirClient,
    private readonly localBaseUrl: string,
    private readonly organizations: FhirOrganizationProvider,
  ) {}

  getLocalEndpointAddress(): string {
    return this.localBaseUrl;
  }

  async getLocalEndpoint(): Promise<Endpoint | undefined> {
    const found = await this.local.searchAll<Endpoint>('Endpoint', { status: 'active', address: this.localBaseUrl });
    return found.length === 1 ? found[0] : undefined;
  }

  async getLocalEndpointIdentifierValue(): Promise<string | undefined> {
    return identifierValue((await this.getLocalEndpoint())?.identifier, ENDPOINT_IDENTIFIER_SID);
  }

  async getEndpoint(identifierValueToFind: string): Promise<Endpoint | undefined> {
    const found = await this.local.searchAll<Endpoint>('Endpoint', { status: 'active', identifier: `${ENDPOINT_IDENTIFIER_SID}|${identifierValueToFind}` });
    return found.length === 1 ? found[0] : undefined;
  }

  async getEndpointAddress(identifierValueToFind: string): Promise<string | undefined> {
    return (await this.getEndpoint(identifierValueToFind))?.address;
  }

  async getEndpoints(parentIdentifierValue: string, memberRoleCode?: string): Promise<Endpoint[]> {
    return (await this.organizations.affiliations(parentIdentifierValue, memberRoleCode)).endpoints;
  }

  async getRemoteEndpoints(): Promise<Endpoint[]> {
    const all = await this.local.searchAll<Endpoint>('Endpoint', { status: 'active' });
    return all.filter((e) => e.address !== this.localBaseUrl);
  }
}
