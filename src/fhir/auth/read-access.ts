// Read-access tags (http://dsf.dev/fhir/CodeSystem/read-access-tag): their validity rules for writes,
// and the SQL condition deciding what an identity may read. Task and QuestionnaireResponse carry no
// tags; their own rules (task-rules.ts, questionnaire-response-rules.ts) take the tags' place.
// Binary may instead take its rights from the resource its securityContext references.
import type { Coding, Resource } from '@medplum/fhirtypes';
import { parseReference } from '../search/reference.ts';
import type { Db } from '../../db/pool.ts';
import { ALL, allOf, anyOf, byType, NONE, readAccessTags, securityContext, typeIn, type AccessCondition, type AccessFilter, type TagCaller } from '../store/access-condition.ts';
import { currentByCanonical, currentExists, idsByIdentifier, versionExists } from '../store/resource-lookups.ts';
import { organizationByIdentifier } from '../store/organization-lookups.ts';
import type { Identity } from '../types/identity.ts';
import { EXT_READ_ACCESS_ORGANIZATION, EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE, ORGANIZATION_IDENTIFIER, READ_ACCESS_TAG } from '../model/dsf-urls.ts';
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
      return (await organizationByIdentifier(db, value)) !== undefined;
    },
    async roleExists(role) {
      if (typeof role.system !== 'string') return false;
      const codeSystems = await currentByCanonical<Obj>(db, 'CodeSystem', role.system, role.version);
      return codeSystems.some((cs) => (cs.concept ?? []).some((c: Obj) => c.code === role.code));
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
  const exists = target.version ? await versionExists(db, target.type, target.id, target.version) : await currentExists(db, target.type, target.id);
  if (!exists) return `Binary.securityContext ${target.type}/${target.id} does not exist`;
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
  const ids = await idsByIdentifier(db, sc.type, system, value);
  return ids.length === 1 ? { type: sc.type, id: ids[0]! } : undefined;
}

// ---- what an identity may read ----

/** The caller as its read-access tags see it. */
export function tagCaller(identity: Identity): TagCaller {
  return { local: identity.local, organizationId: identity.organization.id, organizationIdentifier: identity.organizationIdentifier };
}

/**
 * What `identity` may read, as conditions for every type at once: Task and QuestionnaireResponse by
 * their own rules, Binary by its tags or its security context, everything else by read-access tags.
 * Types without the READ role are excluded. When the caller knows the possible types (a search of one
 * type), only their rules are emitted: the statement stays small, and planning it cheap.
 */
export function readAccessFilter(identity: Identity, localOrganizationIdentifier: string): AccessFilter {
  const tags = readAccessTags(tagCaller(identity));
  const securityContextTarget = (): AccessCondition =>
    byType(Object.fromEntries([...NO_SECURITY_CONTEXT_TYPES.map((t) => [t, NONE]), ['QuestionnaireResponse', questionnaireResponseReadCondition(identity)]]), tags);
  const rules = (): Record<string, AccessCondition> => ({
    Task: taskReadCondition(identity, localOrganizationIdentifier),
    QuestionnaireResponse: questionnaireResponseReadCondition(identity),
    Binary: anyOf(tags, securityContext(securityContextTarget())),
  });
  return (types) => {
    const read = identity.roles.get('READ');
    if (!read) return NONE;
    const role = read === 'all' ? ALL : typeIn([...read]);
    if (types?.length === 1) return allOf(role, rules()[types[0]!] ?? tags);
    return allOf(role, byType(rules(), tags));
  };
}
