// Organisations and their Endpoints as identities, authorization and reference checks look them up:
// by organization-identifier, by endpoint address. One query each, through the search index.
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import { ORGANIZATION_IDENTIFIER } from '../model/dsf-urls.ts';
import type { Db } from '../../db/pool.ts';

/** The current Organization with this organization-identifier value (active or not). */
export async function organizationByIdentifier(db: Db, identifierValue: string): Promise<Organization | undefined> {
  const res = await db.query(
    `SELECT o.resource FROM search_index s JOIN resources o ON o.id = s.resource_id AND o.current AND NOT o.deleted
     WHERE s.type = 'Organization' AND s.param = 'identifier' AND s.system = $1 AND s.code = $2 LIMIT 1`,
    [ORGANIZATION_IDENTIFIER, identifierValue],
  );
  return res.rows[0]?.resource as Organization | undefined;
}

/** A current Endpoint with exactly this address (any status). */
export async function endpointByAddress(db: Db, address: string): Promise<Endpoint | undefined> {
  const res = await db.query(
    `SELECT e.resource FROM search_index s JOIN resources e ON e.id = s.resource_id AND e.current AND NOT e.deleted
     WHERE s.type = 'Endpoint' AND s.param = 'address' AND s.code = $1 LIMIT 1`,
    [address],
  );
  return res.rows[0]?.resource as Endpoint | undefined;
}

/** Whether an active Endpoint has one of these addresses (the base URL of another server, with or without '/'). */
export async function activeEndpointWithAddress(db: Db, addresses: readonly string[]): Promise<boolean> {
  const res = await db.query(
    `SELECT 1 FROM search_index s JOIN resources r ON r.id = s.resource_id AND r.current AND NOT r.deleted
     WHERE s.type = 'Endpoint' AND s.param = 'address' AND s.code = ANY($1::text[]) AND r.resource->>'status' = 'active' LIMIT 1`,
    [addresses],
  );
  return (res.rowCount ?? 0) > 0;
}
