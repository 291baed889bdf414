// Read-access conditions (access-condition.ts) as SQL on a row of `resources`. Tag matching is jsonb
// containment on rows the search index already selected; memberships are an uncorrelated subquery
// PostgreSQL runs once per statement (affiliations.ts).
import { SqlParams } from '../../db/sql-params.ts';
import type { AccessCondition, AccessFilter, JsonPath, TagCaller } from './access-condition.ts';
import { membershipSql } from './affiliations.ts';
import { EXT_READ_ACCESS_ORGANIZATION, EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE, ORGANIZATION_IDENTIFIER, READ_ACCESS_TAG } from '../model/dsf-urls.ts';

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** A name (path element, resource type) written into the statement; only plain names come from the code's tables. */
function literal(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a plain name: '${name}'`);
  return `'${name}'`;
}

const jsonPath = (alias: string, path: JsonPath) => `${alias}.resource${path.map((p) => `->${literal(p)}`).join('')}`;
const textPath = (alias: string, path: JsonPath) => `${jsonPath(alias, path.slice(0, -1))}->>${literal(path.at(-1)!)}`;
const json = (p: SqlParams, v: unknown) => `${p.add(JSON.stringify(v))}::jsonb`;

/** Tags on `alias` that grant the caller read access. */
function tagSql(alias: string, caller: TagCaller, p: SqlParams): string {
  const tags = `${alias}.resource->'meta'->'tag'`;
  const parts = [`${tags} @> ${json(p, [{ system: READ_ACCESS_TAG, code: 'ALL' }])}`];
  if (caller.local) parts.push(`${tags} @> ${json(p, [{ system: READ_ACCESS_TAG, code: 'LOCAL' }])}`);
  const orgId = caller.organizationId;
  if (orgId) {
    const orgActive = `EXISTS (SELECT 1 FROM resources io WHERE io.id = ${p.add(orgId)}::uuid AND io.current AND NOT io.deleted AND io.resource->>'active' = 'true')`;
    const orgTag = [
      {
        system: READ_ACCESS_TAG,
        code: 'ORGANIZATION',
        extension: [{ url: EXT_READ_ACCESS_ORGANIZATION, valueIdentifier: { system: ORGANIZATION_IDENTIFIER, value: caller.organizationIdentifier } }],
      },
    ];
    parts.push(`(${tags} @> ${json(p, orgTag)} AND ${orgActive})`);
    // A valid ROLE tag always comes with LOCAL, so local callers never need the membership lookup.
    if (caller.local) return `(${parts.join(' OR ')})`;
    const rat = p.add(READ_ACCESS_TAG);
    const ext = p.add(EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE);
    const orgSys = p.add(ORGANIZATION_IDENTIFIER);
    const pattern = `jsonb_build_array(jsonb_build_object('system', ${rat}::text, 'code', 'ROLE', 'extension', jsonb_build_array(jsonb_build_object('url', ${ext}::text,
      'extension', jsonb_build_array(
        jsonb_build_object('url', 'parent-organization', 'valueIdentifier', jsonb_build_object('system', ${orgSys}::text, 'value', m.parent)),
        jsonb_build_object('url', 'organization-role', 'valueCoding', jsonb_build_object('system', m.role_system, 'code', m.role_code)))))))`;
    const members = membershipSql(p, { organizationId: orgId, organizationIdentifier: caller.organizationIdentifier });
    parts.push(`${tags} @> ANY (ARRAY(SELECT ${pattern} FROM (${members}) m))`);
  }
  return `(${parts.join(' OR ')})`;
}

/** The resource `alias`.securityContext names (literal reference to this server, by id, optionally a version). */
function securityContextSql(alias: string, target: AccessCondition, p: SqlParams, depth: number): string {
  const sc = `sc${depth}`;
  const ref = `${alias}.resource->'securityContext'->>'reference'`;
  const id = `substring(${ref} from '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(/_history/[0-9]+)?$')::uuid`;
  const version = `substring(${ref} from '/_history/([0-9]+)$')::int`;
  return `(${ref} IS NOT NULL AND EXISTS (SELECT 1 FROM resources ${sc} WHERE ${sc}.id = ${id} AND NOT ${sc}.deleted
    AND (CASE WHEN ${version} IS NULL THEN ${sc}.current ELSE ${sc}.version = ${version} END)
    AND ${conditionSql(target, sc, p, depth + 1)}))`;
}

function conditionSql(c: AccessCondition, alias: string, p: SqlParams, depth: number): string {
  switch (c.kind) {
    case 'all':
      return 'true';
    case 'none':
      return 'false';
    case 'or':
      return `(${c.of.map((x) => conditionSql(x, alias, p, depth)).join(' OR ')})`;
    case 'and':
      return `(${c.of.map((x) => conditionSql(x, alias, p, depth)).join(' AND ')})`;
    case 'contains':
      return `${jsonPath(alias, c.path)} @> ${json(p, c.value)}`;
    case 'containsAny':
      return `(${jsonPath(alias, c.path)} @> ANY(${p.add(c.values.map((v) => JSON.stringify(v)))}::jsonb[]))`;
    case 'equals':
      return `${textPath(alias, c.path)} = ${p.add(c.value)}`;
    case 'typeIn':
      return `${alias}.type = ANY(${p.add([...c.types])}::text[])`;
    case 'byType': {
      const cases = Object.entries(c.cases).map(([type, x]) => `WHEN ${literal(type)} THEN ${conditionSql(x, alias, p, depth)}`);
      return `(CASE ${alias}.type ${cases.join(' ')} ELSE ${conditionSql(c.otherwise, alias, p, depth)} END)`;
    }
    case 'readAccessTags':
      return tagSql(alias, c.caller, p);
    case 'securityContext':
      return securityContextSql(alias, c.target, p, depth);
  }
}

/** The condition as SQL on the `resources` row `alias` (r unless said). */
export function accessSql(condition: AccessCondition, p: SqlParams, alias = 'r'): string {
  return conditionSql(condition, alias, p, 0);
}

/** The filter's conditions for rows of these types, as SQL on alias r; none without a filter. */
/**
 * The SQL of an access filter, by types and the number of parameters before it (the placeholders'
 * numbers): a filter is one caller's (read-access.ts keeps one per identity), and its SQL is the same
 * every time, so building it once per request cost a share of a read for nothing.
 */
const builtConditions = new WeakMap<AccessFilter, Map<string, { sql?: string; values: unknown[] }>>();
const MAX_BUILT_PER_FILTER = 256;

export function accessConditions(access: AccessFilter | undefined, p: SqlParams, types?: readonly string[]): string[] {
  if (!access) return [];
  const key = `${p.values.length}|${types?.join(',') ?? '*'}`;
  let built = builtConditions.get(access);
  const known = built?.get(key);
  if (known) {
    p.values.push(...known.values);
    return known.sql === undefined ? [] : [known.sql];
  }
  const condition = access(types);
  const before = p.values.length;
  const sql = condition.kind === 'all' ? undefined : accessSql(condition, p);
  if (!built) builtConditions.set(access, (built = new Map()));
  if (built.size >= MAX_BUILT_PER_FILTER) built.clear();
  built.set(key, { sql, values: p.values.slice(before) });
  return sql === undefined ? [] : [sql];
}
