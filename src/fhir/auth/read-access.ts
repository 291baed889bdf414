// Read-access tags (http://dsf.dev/fhir/CodeSystem/read-access-tag): their validity rules for writes,
// and the SQL condition deciding what an identity may read. Task and QuestionnaireResponse carry no
// tags; their own rules (task-rules.ts, questionnaire-response-rules.ts) take the tags' place.
// Binary may instead take its rights from the resource its securityContext references.
import type { Coding, Resource } from '@medplum/fhirtypes';
import type { AccessFilter } from '../search/search-service.ts';
import { SqlParams } from '../search/search-sql.ts';
import { parseReference } from '../search/reference.ts';
import { isServerId, type Db } from '../store/resource-store.ts';
import type { Identity } from './identity.ts';
import { membershipSql } from './affiliations.ts';
import { EXT_READ_ACCESS_ORGANIZATION, EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE, ORGANIZATION_IDENTIFIER, READ_ACCESS_TAG } from './dsf-urls.ts';
import { taskReadCondition } from './task-rules.ts';
import { questionnaireResponseReadCondition } from './questionnaire-response-rules.ts';

/** Types whose read access is not decided by tags. */
export const UNTAGGED_TYPES: ReadonlySet<string> = new Set(['Task', 'QuestionnaireResponse']);
/** Types a Binary.securityContext may not point to (the reference supports neither). */
const NO_SECURITY_CONTEXT_TYPES = ['Binary', 'Task'];

const TAG_CODES = ['LOCAL', 'ORGANIZATION', 'ROLE', 'ALL'];

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readAccessTagsOf(resource: Resource): Coding[] {
  const tags = (resource.meta?.tag ?? []) as Coding[];
  return tags.filter((t) => t.system === READ_ACCESS_TAG && typeof t.code === 'string' && TAG_CODES.includes(t.code));
}

export interface ExistenceChecks {
  organizationExists(identifierValue: string): Promise<boolean>;
  roleExists(role: Coding): Promise<boolean>;
}

/** Existence checks against the store: any current Organization with the identifier; a CodeSystem (url|version) defining the code. */
export function storeExistenceChecks(db: Db): ExistenceChecks {
  return {
    async organizationExists(value) {
      const res = await db.query(
        `SELECT 1 FROM search_index s JOIN resources o ON o.id = s.resource_id AND o.current AND NOT o.deleted
         WHERE s.type = 'Organization' AND s.param = 'identifier' AND s.system = $1 AND s.code = $2 LIMIT 1`,
        [ORGANIZATION_IDENTIFIER, value],
      );
      return res.rowCount! > 0;
    },
    async roleExists(role) {
      const res = await db.query(
        `SELECT r.resource FROM resources r WHERE r.type = 'CodeSystem' AND r.current AND NOT r.deleted AND r.resource->>'url' = $1
         AND ($2::text IS NULL OR r.resource->>'version' = $2)`,
        [role.system, role.version ?? null],
      );
      return res.rows.some((row) => ((row.resource as Obj).concept ?? []).some((c: Obj) => c.code === role.code));
    },
  };
}

/** undefined when the tag is valid, else why not. */
async function tagProblem(tag: Coding, checks: ExistenceChecks): Promise<string | undefined> {
  const ext = (tag.extension ?? []) as Obj[];
  if (tag.code === 'ORGANIZATION') {
    const exts = ext.filter((e) => e.url === EXT_READ_ACCESS_ORGANIZATION);
    const id = exts[0]?.valueIdentifier;
    if (exts.length !== 1 || !isObj(id) || id.system !== ORGANIZATION_IDENTIFIER || typeof id.value !== 'string') {
      return 'an ORGANIZATION tag needs exactly one extension-read-access-organization with an organization-identifier';
    }
    if (!(await checks.organizationExists(id.value))) return `the ORGANIZATION tag names organization '${id.value}', which does not exist`;
  }
  if (tag.code === 'ROLE') {
    const exts = ext.filter((e) => e.url === EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE);
    const subs = (exts[0]?.extension ?? []) as Obj[];
    const parents = subs.filter((s) => s.url === 'parent-organization' && isObj(s.valueIdentifier) && s.valueIdentifier.system === ORGANIZATION_IDENTIFIER && typeof s.valueIdentifier.value === 'string');
    const roles = subs.filter((s) => s.url === 'organization-role' && isObj(s.valueCoding) && typeof s.valueCoding.system === 'string' && typeof s.valueCoding.code === 'string');
    if (exts.length !== 1 || subs.length !== 2 || parents.length !== 1 || roles.length !== 1) {
      return 'a ROLE tag needs exactly one extension-read-access-parent-organization-role with one parent-organization and one organization-role';
    }
    const parent = parents[0]!.valueIdentifier.value as string;
    if (!(await checks.organizationExists(parent))) return `the ROLE tag names parent organization '${parent}', which does not exist`;
    const role = roles[0]!.valueCoding as Coding;
    if (!(await checks.roleExists(role))) return `the ROLE tag names role ${role.system}|${role.code}, which no CodeSystem defines`;
  }
  return undefined;
}

/**
 * The reference's validity rule: exactly one ALL tag and no other read-access tag, or exactly one
 * LOCAL tag plus any ORGANIZATION/ROLE tags, each naming an existing organisation and role.
 * Returns undefined when valid, else the reason.
 */
export async function readAccessTagProblem(resource: Resource, checks: ExistenceChecks): Promise<string | undefined> {
  const tags = readAccessTagsOf(resource);
  if (!tags.length) return 'no read-access tag';
  const local = tags.filter((t) => t.code === 'LOCAL').length;
  const all = tags.filter((t) => t.code === 'ALL').length;
  // The reference's XOR would let ALL + LOCAL pass; the documented rule (and the meta profile) do not.
  if (!((all === 1 && tags.length === 1) || (local === 1 && all === 0))) {
    return 'read-access tags must be exactly one ALL, or one LOCAL plus any ORGANIZATION/ROLE tags';
  }
  for (const t of tags) {
    const problem = await tagProblem(t, checks);
    if (problem) return problem;
  }
  return undefined;
}

/** The local resource a Binary.securityContext points to, if it is a literal reference to this server. */
export function securityContextTarget(resource: Resource, baseUrl: string): { type: string; id: string; version?: number } | undefined {
  const ref = (resource as Obj).securityContext?.reference;
  if (typeof ref !== 'string') return undefined;
  const parsed = parseReference(ref, baseUrl);
  if (!parsed?.local) return undefined;
  const version = /\/_history\/(\d+)$/.exec(ref)?.[1];
  return { type: parsed.type, id: parsed.id, version: version ? Number(version) : undefined };
}

export async function securityContextProblem(db: Db, resource: Resource, baseUrl: string): Promise<string | undefined> {
  const target = securityContextTarget(resource, baseUrl) ?? (await logicalSecurityContextTarget(db, resource));
  if (!target) return 'Binary.securityContext is neither a literal reference to a resource of this server nor an identifier of exactly one';
  if (NO_SECURITY_CONTEXT_TYPES.includes(target.type)) return `a ${target.type} cannot be a Binary's security context`;
  // Checked here, not by a failing cast: an SQL error would abort the write's transaction.
  if (!isServerId(target.id)) return `Binary.securityContext ${target.type}/${target.id} does not exist`;
  const res = await db.query(
    `SELECT 1 FROM resources WHERE id = $1::uuid AND type = $2 AND NOT deleted AND ${target.version ? 'version = $3' : 'current'}`,
    target.version ? [target.id, target.type, target.version] : [target.id, target.type],
  );
  if (!res.rowCount) return `Binary.securityContext ${target.type}/${target.id} does not exist`;
  return undefined;
}

/**
 * A securityContext given by type and identifier (a logical reference), as the reference accepts it:
 * the one current resource of that type with the identifier. The reference checks then store its
 * literal reference beside the identifier, which read access uses.
 */
async function logicalSecurityContextTarget(db: Db, resource: Resource): Promise<{ type: string; id: string; version?: number } | undefined> {
  const sc = (resource as Obj).securityContext;
  if (!isObj(sc) || sc.reference !== undefined || typeof sc.type !== 'string' || !isObj(sc.identifier)) return undefined;
  const { system, value } = sc.identifier;
  if (typeof system !== 'string' || typeof value !== 'string') return undefined;
  const res = await db.query(`SELECT id FROM resources WHERE type = $1 AND current AND NOT deleted AND resource->'identifier' @> $2::jsonb LIMIT 2`, [
    sc.type,
    JSON.stringify([{ system, value }]),
  ]);
  return res.rowCount === 1 ? { type: sc.type, id: res.rows[0].id as string } : undefined;
}

// ---- the SQL filter ----

const json = (p: SqlParams, v: unknown) => `${p.add(JSON.stringify(v))}::jsonb`;

/** Tags on `alias` that grant the identity read access. */
function tagCondition(alias: string, identity: Identity, p: SqlParams): string {
  const tags = `${alias}.resource->'meta'->'tag'`;
  const parts = [`${tags} @> ${json(p, [{ system: READ_ACCESS_TAG, code: 'ALL' }])}`];
  if (identity.local) parts.push(`${tags} @> ${json(p, [{ system: READ_ACCESS_TAG, code: 'LOCAL' }])}`);
  const orgId = identity.organization.id;
  if (orgId) {
    const orgActive = `EXISTS (SELECT 1 FROM resources io WHERE io.id = ${p.add(orgId)}::uuid AND io.current AND NOT io.deleted AND io.resource->>'active' = 'true')`;
    const orgTag = [
      {
        system: READ_ACCESS_TAG,
        code: 'ORGANIZATION',
        extension: [{ url: EXT_READ_ACCESS_ORGANIZATION, valueIdentifier: { system: ORGANIZATION_IDENTIFIER, value: identity.organizationIdentifier } }],
      },
    ];
    parts.push(`(${tags} @> ${json(p, orgTag)} AND ${orgActive})`);
    // A valid ROLE tag always comes with LOCAL, so local callers never need the membership lookup.
    if (identity.local) return `(${parts.join(' OR ')})`;
    const rat = p.add(READ_ACCESS_TAG);
    const ext = p.add(EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE);
    const orgSys = p.add(ORGANIZATION_IDENTIFIER);
    const pattern = `jsonb_build_array(jsonb_build_object('system', ${rat}::text, 'code', 'ROLE', 'extension', jsonb_build_array(jsonb_build_object('url', ${ext}::text,
      'extension', jsonb_build_array(
        jsonb_build_object('url', 'parent-organization', 'valueIdentifier', jsonb_build_object('system', ${orgSys}::text, 'value', m.parent)),
        jsonb_build_object('url', 'organization-role', 'valueCoding', jsonb_build_object('system', m.role_system, 'code', m.role_code)))))))`;
    const members = membershipSql(p, { organizationId: orgId, organizationIdentifier: identity.organizationIdentifier });
    parts.push(`${tags} @> ANY (ARRAY(SELECT ${pattern} FROM (${members}) m))`);
  }
  return `(${parts.join(' OR ')})`;
}

/**
 * What `identity` may read, as SQL conditions on alias r (resources), for every type at once:
 * Task and QuestionnaireResponse by their own rules, Binary by its tags or its security context,
 * everything else by read-access tags. Types without the READ role are excluded. When the caller
 * knows the possible types (a search of one type), only their rules are emitted: the statement stays
 * small, and planning it cheap.
 */
export function readAccessFilter(identity: Identity, localOrganizationIdentifier: string): AccessFilter {
  return (p, types) => {
    const read = identity.roles.get('READ');
    if (!read) return ['false'];
    const conds: string[] = [];
    if (read !== 'all') conds.push(`r.type = ANY(${p.add([...read])}::text[])`);
    const binary = () => {
      const scRef = `r.resource->'securityContext'->>'reference'`;
      const scId = `substring(${scRef} from '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(/_history/[0-9]+)?$')::uuid`;
      const scVersion = `substring(${scRef} from '/_history/([0-9]+)$')::int`;
      return `(${scRef} IS NOT NULL AND EXISTS (SELECT 1 FROM resources sc WHERE sc.id = ${scId} AND NOT sc.deleted
        AND (CASE WHEN ${scVersion} IS NULL THEN sc.current ELSE sc.version = ${scVersion} END)
        AND sc.type <> ALL(${p.add(NO_SECURITY_CONTEXT_TYPES)}::text[])
        AND (CASE WHEN sc.type = 'QuestionnaireResponse' THEN ${questionnaireResponseReadCondition('sc', identity, p)} ELSE ${tagCondition('sc', identity, p)} END)))`;
    };
    const ruleFor = (type: string) => {
      if (type === 'Task') return taskReadCondition('r', identity, localOrganizationIdentifier, p);
      if (type === 'QuestionnaireResponse') return questionnaireResponseReadCondition('r', identity, p);
      if (type === 'Binary') return `(${tagCondition('r', identity, p)} OR ${binary()})`;
      return tagCondition('r', identity, p);
    };
    if (types?.length === 1) {
      conds.push(ruleFor(types[0]!));
      return conds;
    }
    const task = taskReadCondition('r', identity, localOrganizationIdentifier, p);
    const qr = questionnaireResponseReadCondition('r', identity, p);
    const tags = tagCondition('r', identity, p);
    conds.push(`(CASE r.type WHEN 'Task' THEN ${task} WHEN 'QuestionnaireResponse' THEN ${qr} ELSE (${tags} OR (r.type = 'Binary' AND ${binary()})) END)`);
    return conds;
  };
}

/** Whether the filter lets its identity read this version (websocket events, single checks). */
export async function canRead(db: Db, access: AccessFilter, id: string, version: number, type?: string): Promise<boolean> {
  const p = new SqlParams();
  const where = [`r.id = ${p.add(id)}::uuid`, `r.version = ${p.add(version)}::int`, ...access(p, type ? [type] : undefined)];
  return ((await db.query(`SELECT 1 FROM resources r WHERE ${where.join(' AND ')}`, p.values)).rowCount ?? 0) > 0;
}
