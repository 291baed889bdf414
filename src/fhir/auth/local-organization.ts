// The local organisation as an identity: the recipient every incoming Task is checked for.
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import type { Db } from '../store/resource-store.ts';
import { localOrganizationRoles, type OrganizationIdentity } from './identity.ts';
import { ORGANIZATION_IDENTIFIER } from './dsf-urls.ts';

export interface AuthorizationSite {
  /** DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE */
  localOrganizationIdentifier: string;
  baseUrl: string;
}

/** The current local Organization with its Endpoint (the one whose address is this server's base URL), if stored. */
export async function localOrganizationIdentity(db: Db, site: AuthorizationSite): Promise<OrganizationIdentity | undefined> {
  const org = await db.query(
    `SELECT o.resource FROM search_index s JOIN resources o ON o.id = s.resource_id AND o.current AND NOT o.deleted
     WHERE s.type = 'Organization' AND s.param = 'identifier' AND s.system = $1 AND s.code = $2 LIMIT 1`,
    [ORGANIZATION_IDENTIFIER, site.localOrganizationIdentifier],
  );
  const organization = org.rows[0]?.resource as Organization | undefined;
  if (!organization) return undefined;
  const ep = await db.query(
    `SELECT e.resource FROM search_index s JOIN resources e ON e.id = s.resource_id AND e.current AND NOT e.deleted
     WHERE s.type = 'Endpoint' AND s.param = 'address' AND s.code = $1 LIMIT 1`,
    [site.baseUrl],
  );
  return {
    kind: 'organization',
    local: true,
    organization,
    organizationIdentifier: site.localOrganizationIdentifier,
    roles: localOrganizationRoles(),
    displayName: organization.name ?? site.localOrganizationIdentifier,
    endpoint: ep.rows[0]?.resource as Endpoint | undefined,
  };
}
