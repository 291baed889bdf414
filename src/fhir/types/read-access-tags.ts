// Read-access tags (http://dsf.dev/fhir/CodeSystem/read-access-tag): what they grant a caller (the
// read rule of every type without its own), and the rule that makes them valid on a write: exactly one
// ALL, or one LOCAL plus ORGANIZATION/ROLE tags naming organisations and roles that exist.
import type { CodeSystem, Coding, Resource } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { readAccessTags, type AccessCondition } from '../store/access-condition.ts';
import { currentByCanonical } from '../store/resource-lookups.ts';
import { organizationByIdentifier } from '../store/organization-lookups.ts';
import type { Identity } from './identity.ts';
import { EXT_READ_ACCESS_ORGANIZATION, EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE, ORGANIZATION_IDENTIFIER, READ_ACCESS_TAG } from '../model/dsf-urls.ts';

const TAG_CODES = ['LOCAL', 'ORGANIZATION', 'ROLE', 'ALL'];

const isObj = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the caller's read-access tags grant it (ALL; LOCAL for local callers; ORGANIZATION naming it; ROLE of its memberships). */
export function tagsGrant(identity: Identity): AccessCondition {
  return readAccessTags({ local: identity.local, organizationId: identity.organization.id, organizationIdentifier: identity.organizationIdentifier });
}

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
      const codeSystems = await currentByCanonical<CodeSystem>(db, 'CodeSystem', role.system, role.version);
      return codeSystems.some((cs) => (cs.concept ?? []).some((c) => c.code === role.code));
    },
  };
}

/** undefined when the tag is valid, else why not. */
async function tagProblem(tag: Coding, checks: ExistenceChecks): Promise<string | undefined> {
  const ext = tag.extension ?? [];
  if (tag.code === 'ORGANIZATION') {
    const exts = ext.filter((e) => e.url === EXT_READ_ACCESS_ORGANIZATION);
    const id = exts[0]?.valueIdentifier;
    // Not validated yet (authorization runs first): each value is checked for its JSON type.
    if (exts.length !== 1 || !isObj(id) || id.system !== ORGANIZATION_IDENTIFIER || typeof id.value !== 'string') {
      return 'an ORGANIZATION tag needs exactly one extension-read-access-organization with an organization-identifier';
    }
    if (!(await checks.organizationExists(id.value))) return `the ORGANIZATION tag names organization '${id.value}', which does not exist`;
  }
  if (tag.code === 'ROLE') {
    const exts = ext.filter((e) => e.url === EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE);
    const subs = exts[0]?.extension ?? [];
    const parents = subs.filter((s) => s.url === 'parent-organization' && isObj(s.valueIdentifier) && s.valueIdentifier.system === ORGANIZATION_IDENTIFIER && typeof s.valueIdentifier.value === 'string');
    const roles = subs.filter((s) => s.url === 'organization-role' && isObj(s.valueCoding) && typeof s.valueCoding.system === 'string' && typeof s.valueCoding.code === 'string');
    if (exts.length !== 1 || subs.length !== 2 || parents.length !== 1 || roles.length !== 1) {
      return 'a ROLE tag needs exactly one extension-read-access-parent-organization-role with one parent-organization and one organization-role';
    }
    const parent = parents[0]!.valueIdentifier!.value!;
    if (!(await checks.organizationExists(parent))) return `the ROLE tag names parent organization '${parent}', which does not exist`;
    const role = roles[0]!.valueCoding!;
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
