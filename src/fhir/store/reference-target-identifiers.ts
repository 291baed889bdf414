// The identifiers of the resources a resource references literally on this server, from the search
// index: what the in-memory criteria matcher needs to answer a reference's :identifier as search does.
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { computeIndexRows } from '../search/index-rows.ts';
import { indexRow, type IndexRow } from '../search/index-row.ts';

/** `Type/uuid` of each literally referenced resource -> its `identifier` rows. */
export async function referenceTargetIdentifiers(db: Db, resource: Resource, baseUrl: string): Promise<Map<string, IndexRow[]>> {
  const targets = new Set<string>();
  for (const r of computeIndexRows(resource as unknown as Record<string, unknown>, baseUrl)) if (r.refId && r.system) targets.add(r.refId);
  const out = new Map<string, IndexRow[]>();
  if (targets.size === 0) return out;
  const res = await db.query("SELECT resource_id, type, system, code FROM search_index WHERE param = 'identifier' AND resource_id = ANY($1::uuid[])", [[...targets]]);
  for (const row of res.rows) {
    const key = `${row.type}/${row.resource_id}`;
    out.set(key, [...(out.get(key) ?? []), indexRow('identifier', { system: row.system, code: row.code })]);
  }
  return out;
}
