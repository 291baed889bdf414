// The store queries reference checks need. They run on the write's own connection, so resources
// written earlier in the same transaction count, and they see every resource: a reference check is not
// limited by what the writer may read (as in the reference, which searches without a user filter).
import { isServerId, type Db } from '../store/resource-store.ts';
import { searchParameter } from '../search/parameters.ts';

const CHECK_LOGICAL_REFERENCE = 'http://dsf.dev/fhir/StructureDefinition/extension-check-logical-reference';

export interface ReferenceLookups {
  /** A current, not deleted resource (or this version of one that is not deleted). */
  exists(type: string, id: string, version?: string): Promise<boolean>;
  /** A draft or active NamingSystem whose uniqueId has this value and extension-check-logical-reference = true. */
  identifierSystemIsResolvable(system: string): Promise<boolean>;
  /** Ids of current resources of the type with this identifier (at most two: one is all that matters). */
  byIdentifier(type: string, system: string, value: string): Promise<string[]>;
  /** Number of current resources of the type with this canonical url (and version, when given). */
  canonicalMatches(type: string, url: string, version: string | undefined): Promise<number>;
  /** Whether an active Endpoint has exactly this address (the base URL of another server). */
  activeEndpointWithAddress(base: string): Promise<boolean>;
}

export function storeReferenceLookups(db: Db): ReferenceLookups {
  return {
    async exists(type, id, version) {
      // Checked here, not by a failing cast: an SQL error would abort the write's transaction.
      if (!isServerId(id)) return false;
      if (version === undefined) {
        const res = await db.query('SELECT 1 FROM resources WHERE id = $1::uuid AND type = $2 AND current AND NOT deleted', [id, type]);
        return (res.rowCount ?? 0) > 0;
      }
      if (!/^[1-9][0-9]{0,8}$/.test(version)) return false;
      const res = await db.query(
        `SELECT 1 FROM resources v WHERE v.id = $1::uuid AND v.type = $2 AND v.version = $3::int AND NOT v.deleted
         AND NOT EXISTS (SELECT 1 FROM resources c WHERE c.id = v.id AND c.current AND c.deleted)`,
        [id, type, version],
      );
      return (res.rowCount ?? 0) > 0;
    },

    async identifierSystemIsResolvable(system) {
      const pattern = { uniqueId: [{ value: system, modifierExtension: [{ url: CHECK_LOGICAL_REFERENCE, valueBoolean: true }] }] };
      const res = await db.query(
        `SELECT 1 FROM resources WHERE type = 'NamingSystem' AND current AND NOT deleted
         AND resource->>'status' IN ('draft', 'active') AND resource @> $1::jsonb LIMIT 1`,
        [JSON.stringify(pattern)],
      );
      return (res.rowCount ?? 0) > 0;
    },

    async byIdentifier(type, system, value) {
      // Through the search index where the type has an identifier parameter, else by jsonb containment.
      const res = searchParameter(type, 'identifier')
        ? await db.query(
            `SELECT r.id FROM search_index s JOIN resources r ON r.id = s.resource_id AND r.current AND NOT r.deleted
             WHERE s.type = $1 AND s.param = 'identifier' AND s.code = $3 AND s.system = $2 LIMIT 2`,
            [type, system, value],
          )
        : await db.query(`SELECT id FROM resources WHERE type = $1 AND current AND NOT deleted AND resource->'identifier' @> $2::jsonb LIMIT 2`, [
            type,
            JSON.stringify([{ system, value }]),
          ]);
      return res.rows.map((r) => r.id as string);
    },

    async canonicalMatches(type, url, version) {
      const res = await db.query(
        `SELECT count(*)::int AS n FROM resources WHERE type = $1 AND current AND NOT deleted AND resource->>'url' = $2
         AND ($3::text IS NULL OR resource->>'version' = $3)`,
        [type, url, version ?? null],
      );
      return res.rows[0].n as number;
    },

    async activeEndpointWithAddress(base) {
      const res = await db.query(
        `SELECT 1 FROM search_index s JOIN resources r ON r.id = s.resource_id AND r.current AND NOT r.deleted
         WHERE s.type = 'Endpoint' AND s.param = 'address' AND s.code = ANY($1::text[]) AND r.resource->>'status' = 'active' LIMIT 1`,
        [[base, `${base}/`]],
      );
      return (res.rowCount ?? 0) > 0;
    },
  };
}
