// Look-ups of current resources that rules, reference checks, caches and identities need, beside the
// interactions' own reads. They see every resource (no caller's read filter): a rule or reference
// check decides for the server, as the reference's do. On a write's connection they also see what the
// transaction wrote so far.
import type { Resource } from '@medplum/fhirtypes';
import { SqlParams } from '../../db/sql-params.ts';
import { searchParameter } from '../search/parameters.ts';
import type { AccessFilter } from './access-condition.ts';
import { accessConditions } from './access-sql.ts';
import type { Db } from '../../db/pool.ts';
import { isServerId } from './resource-store.ts';
import type { TransactionClient } from '../../db/pool.ts';

const rowsOf = async <T = Resource>(db: Db, sql: string, values: unknown[]): Promise<T[]> => (await db.query(sql, values)).rows.map((r) => r.resource as T);

/** A current, not deleted resource of this type. */
export async function currentExists(db: Db, type: string, id: string): Promise<boolean> {
  // Checked here, not by a failing cast: an SQL error would abort the write's transaction.
  if (!isServerId(id)) return false;
  const res = await db.query('SELECT 1 FROM resources WHERE id = $1::uuid AND type = $2 AND current AND NOT deleted', [id, type]);
  return (res.rowCount ?? 0) > 0;
}

/** This version of the resource exists and is no delete marker (whatever came after it). */
export async function versionExists(db: Db, type: string, id: string, version: number): Promise<boolean> {
  if (!isServerId(id) || !Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) return false;
  const res = await db.query('SELECT 1 FROM resources WHERE id = $1::uuid AND type = $2 AND version = $3 AND NOT deleted', [id, type, version]);
  return (res.rowCount ?? 0) > 0;
}

/** This version exists, is no delete marker, and the resource is not deleted now. */
export async function liveVersionExists(db: Db, type: string, id: string, version: number): Promise<boolean> {
  if (!isServerId(id) || !Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) return false;
  const res = await db.query(
    `SELECT 1 FROM resources v WHERE v.id = $1::uuid AND v.type = $2 AND v.version = $3::int AND NOT v.deleted
     AND NOT EXISTS (SELECT 1 FROM resources c WHERE c.id = v.id AND c.current AND c.deleted)`,
    [id, type, version],
  );
  return (res.rowCount ?? 0) > 0;
}

/** The current resource with this type and id, if not deleted. */
export async function currentById<T = Resource>(db: Db, type: string, id: string): Promise<T | undefined> {
  if (!isServerId(id)) return undefined;
  return (await rowsOf<T>(db, 'SELECT resource FROM resources WHERE id = $1 AND type = $2 AND current AND NOT deleted', [id, type]))[0];
}

/** One stored version's content (undefined for a delete marker, or when it was permanently deleted). */
export async function versionContent(db: Db, id: string, version: number): Promise<Resource | undefined> {
  if (!isServerId(id)) return undefined;
  return (await rowsOf(db, 'SELECT resource FROM resources WHERE id = $1 AND version = $2', [id, version]))[0] ?? undefined;
}

/** Ids of current resources of the type carrying this identifier; at most `limit` (one is all that usually matters). */
export async function idsByIdentifier(db: Db, type: string, system: string, value: string, limit = 2): Promise<string[]> {
  // Through the search index where the type has an identifier parameter, else by jsonb containment.
  const res = searchParameter(type, 'identifier')
    ? await db.query(
        `SELECT r.id FROM search_index s JOIN resources r ON r.id = s.resource_id AND r.current AND NOT r.deleted
         WHERE s.type = $1 AND s.param = 'identifier' AND s.code = $3 AND s.system = $2 LIMIT $4`,
        [type, system, value, limit],
      )
    : await db.query(`SELECT id FROM resources WHERE type = $1 AND current AND NOT deleted AND resource->'identifier' @> $2::jsonb LIMIT $3`, [
        type,
        JSON.stringify([{ system, value }]),
        limit,
      ]);
  return res.rows.map((r) => r.id as string);
}

/**
 * The identifier index rows of the resources that literal references point to, by target id: the data
 * in-memory matching needs for a reference's `:identifier` (search-sql.ts joins the same rows).
 */
export async function identifierRowsOfTargets(db: Db, targets: { type: string; id: string }[]): Promise<Map<string, { system: string | null; code: string | null }[]>> {
  const out = new Map<string, { system: string | null; code: string | null }[]>();
  if (!targets.length) return out;
  const res = await db.query(
    `SELECT t.resource_id, t.system, t.code FROM search_index t JOIN unnest($1::text[], $2::uuid[]) AS x(type, id) ON t.type = x.type AND t.resource_id = x.id
     WHERE t.param = 'identifier'`,
    [targets.map((t) => t.type), targets.map((t) => t.id)],
  );
  for (const r of res.rows) {
    const list = out.get(r.resource_id as string) ?? [];
    list.push({ system: r.system as string | null, code: r.code as string | null });
    out.set(r.resource_id as string, list);
  }
  return out;
}

/** Current resources of the type with this canonical url (and version, when given), newest first. */
export async function currentByCanonical<T = Resource>(db: Db, type: string, url: string, version?: string): Promise<T[]> {
  return rowsOf<T>(
    db,
    `SELECT resource FROM resources WHERE type = $1 AND current AND NOT deleted AND resource->>'url' = $2
     AND ($3::text IS NULL OR resource->>'version' = $3) ORDER BY last_updated DESC`,
    [type, url, version ?? null],
  );
}

/** Current resources of the type whose JSON contains `pattern` (jsonb @>), newest first. */
export async function currentContaining<T = Resource>(db: Db, type: string, pattern: object): Promise<T[]> {
  return rowsOf<T>(db, 'SELECT resource FROM resources WHERE type = $1 AND current AND NOT deleted AND resource @> $2::jsonb ORDER BY last_updated DESC', [
    type,
    JSON.stringify(pattern),
  ]);
}

/** Every current resource of these types. */
export async function currentOfTypes<T = Resource>(db: Db, types: readonly string[]): Promise<T[]> {
  return rowsOf<T>(db, 'SELECT resource FROM resources WHERE current AND NOT deleted AND type = ANY($1)', [types]);
}

/** The current resource holding a uniqueness key (unique-keys.ts), e.g. an Organization by thumbprint. */
export async function currentByUniqueKey<T = Resource>(db: Db, type: string, key: string): Promise<T | undefined> {
  const rows = await rowsOf<T>(
    db,
    `SELECT r.resource FROM unique_keys k JOIN resources r ON r.id = k.resource_id AND r.current AND NOT r.deleted WHERE k.type = $1 AND k.key = $2`,
    [type, key],
  );
  return rows[0];
}

/** Whether the filter lets its caller read this version (websocket events, single checks). */
export async function canRead(db: Db, access: AccessFilter, id: string, version: number, type?: string): Promise<boolean> {
  const p = new SqlParams();
  const where = [`r.id = ${p.add(id)}::uuid`, `r.version = ${p.add(version)}::int`, ...accessConditions(access, p, type ? [type] : undefined)];
  return ((await db.query(`SELECT 1 FROM resources r WHERE ${where.join(' AND ')}`, p.values)).rowCount ?? 0) > 0;
}

/** Serialises transactions that name the same key (conditional writes with the same criteria) until they end. */
export async function lockForTransaction(client: TransactionClient, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
}
