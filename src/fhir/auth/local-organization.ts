// The local organisation as an identity: the recipient every incoming Task is checked for.
import type { Db } from '../../db/pool.ts';
import { localOrganizationRoles, type OrganizationIdentity } from '../types/identity.ts';
import { endpointByAddress, organizationByIdentifier } from '../store/organization-lookups.ts';

export interface AuthorizationSite {
  /** DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE */
  localOrganizationIdentifier: string;
  baseUrl: string;
}

/** The current local Organization with its Endpoint (the one whose address is this server's base URL), if stored. */
export async function localOrganizationIdentity(db: Db, site: AuthorizationSite): Promise<OrganizationIdentity | undefined> {
  const organization = await organizationByIdentifier(db, site.localOrganizationIdentifier);
  if (!organization) return undefined;
  return {
    kind: 'organization',
    local: true,
    organization,
    organizationIdentifier: site.localOrganizationIdentifier,
    roles: localOrganizationRoles(),
    displayName: organization.name ?? site.localOrganizationIdentifier,
    endpoint: await endpointByAddress(db, site.baseUrl),
  };
}
