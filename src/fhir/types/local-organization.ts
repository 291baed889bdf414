// The local organisation as an identity: the recipient every incoming Task is checked for.
import type { Db } from '../../db/pool.ts';
import { localOrganizationRoles, type OrganizationIdentity } from './identity.ts';
import type { Site } from './site.ts';
import { endpointByAddress, organizationByIdentifier } from '../store/organization-lookups.ts';

/** The current local Organization with its Endpoint (the one whose address is this server's base URL), if stored. */
export async function localOrganizationIdentity(db: Db, site: Site): Promise<OrganizationIdentity | undefined> {
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
