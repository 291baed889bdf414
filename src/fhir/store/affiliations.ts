// Membership of an organisation in parent organisations (consortia) with roles, read from the
// current, active OrganizationAffiliation resources whose parent and member Organizations are active.
// Evaluated at query time, so a removed affiliation or a deactivated organisation counts at once.
import { SqlParams } from '../../db/sql-params.ts';
import type { Db } from '../../db/pool.ts';
import { ENDPOINT_IDENTIFIER, ORGANIZATION_IDENTIFIER } from '../model/dsf-urls.ts';

export interface Member {
  /** id of the member Organization resource */
  organizationId: string;
  /** its organization-identifier value */
  organizationIdentifier: string;
  /** when known, only affiliations naming this Endpoint (by id or endpoint-identifier) count */
  endpoint?: { id?: string; identifiers: string[] };
}

export interface Membership {
  parentOrganizationIdentifier: string;
  roleSystem: string;
  roleCode: string;
}

const ACTIVE_ORG_WITH_IDENTIFIER = (identifierSql: string, orgSys: string) =>
  `EXISTS (SELECT 1 FROM search_index si JOIN resources po ON po.id = si.resource_id AND po.current AND NOT po.deleted
     WHERE si.type = 'Organization' AND si.param = 'identifier' AND si.system = ${orgSys} AND si.code = ${identifierSql}
     AND po.resource->>'active' = 'true')`;

/**
 * SQL selecting (parent, role_system, role_code) of every active membership of the member.
 * Uncorrelated: PostgreSQL runs it once per statement.
 */
export function membershipSql(p: SqlParams, member: Member): string {
  const orgSys = p.add(ORGANIZATION_IDENTIFIER);
  const memberId = `${p.add(member.organizationId)}::uuid`;
  const memberIdent = p.add(member.organizationIdentifier);
  let endpointCondition = '';
  if (member.endpoint) {
    const epId = member.endpoint.id ? `${p.add(member.endpoint.id)}::uuid` : 'NULL::uuid';
    endpointCondition = `AND EXISTS (SELECT 1 FROM search_index se WHERE se.resource_id = a.id AND se.type = 'OrganizationAffiliation'
       AND ((se.param = 'endpoint' AND se.ref_id = ${epId})
         OR (se.param = 'endpoint:identifier' AND se.system = ${p.add(ENDPOINT_IDENTIFIER)} AND se.code = ANY(${p.add(member.endpoint.identifiers)}::text[]))))`;
  }
  return `SELECT DISTINCT x.parent, c->>'system' AS role_system, c->>'code' AS role_code FROM (
      SELECT a.resource AS affiliation, COALESCE(
        CASE WHEN a.resource->'organization'->'identifier'->>'system' = ${orgSys} THEN a.resource->'organization'->'identifier'->>'value' END,
        (SELECT pi->>'value' FROM search_index sp JOIN resources pp ON pp.id = sp.ref_id AND pp.current AND NOT pp.deleted,
           jsonb_array_elements(pp.resource->'identifier') pi
         WHERE sp.resource_id = a.id AND sp.type = 'OrganizationAffiliation' AND sp.param = 'primary-organization'
           AND pi->>'system' = ${orgSys} LIMIT 1)) AS parent
      FROM resources a
      WHERE a.type = 'OrganizationAffiliation' AND a.current AND NOT a.deleted AND a.resource->>'active' = 'true'
        AND a.id IN (SELECT sm.resource_id FROM search_index sm WHERE sm.type = 'OrganizationAffiliation'
          AND ((sm.param = 'participating-organization' AND sm.ref_id = ${memberId})
            OR (sm.param = 'participating-organization:identifier' AND sm.system = ${orgSys} AND sm.code = ${memberIdent})))
        ${endpointCondition}
      OFFSET 0 -- keeps the parent lookup on the few affiliations, and the planner's cost estimate small
    ) x, jsonb_path_query(x.affiliation, '$.code[*].coding[*]') c
    WHERE x.parent IS NOT NULL AND c->>'system' IS NOT NULL AND c->>'code' IS NOT NULL
      AND ${ACTIVE_ORG_WITH_IDENTIFIER('x.parent', orgSys)}
      AND EXISTS (SELECT 1 FROM resources mo WHERE mo.id = ${memberId} AND mo.current AND NOT mo.deleted AND mo.resource->>'active' = 'true')`;
}

export async function memberships(db: Db, member: Member): Promise<Membership[]> {
  const p = new SqlParams();
  const sql = membershipSql(p, member);
  const rows = (await db.query(sql, p.values)).rows;
  return rows.map((r) => ({ parentOrganizationIdentifier: r.parent, roleSystem: r.role_system, roleCode: r.role_code }));
}
