// The behaviour of a type whose read access is decided by read-access tags, which is every type
// without a module of its own, and the base of most modules: only local identities write and delete
// it, with valid tags and what the type requires, without changing its identity keys.
import type { Resource } from '@medplum/fhirtypes';
import { DSF_PROFILE_BASE } from '../model/dsf-urls.ts';
import { isDsfResourceType, kebabCase } from '../model/resource-types.ts';
import type { ResourceTypeBehaviour, WriteRuleContext } from './behaviour.ts';
import { readAccessTagProblem, storeExistenceChecks } from './read-access-tags.ts';
import { refusal } from './refusal.ts';
import { immutableChanges, requirementProblems, type Immutable, type Requirement } from './write-requirements.ts';
import { storedVersionOf } from './stored-version.ts';

export interface TaggedTypeSpec<T extends Resource> {
  type: string;
  /** What a resource must carry to be written. */
  required?: readonly Requirement<T>[];
  /** What an update may not change. */
  immutable?: readonly Immutable<T>[];
  uniqueKeys?(resource: T): string[];
  identityCriteria?(resource: T): string | undefined;
  affectsIdentities?: boolean;
}

/** http://dsf.dev/fhir/StructureDefinition/<type in kebab case>, for the types DSF serves. */
export function dsfDefaultProfile(type: string): string | undefined {
  return isDsfResourceType(type) ? DSF_PROFILE_BASE + kebabCase(type) : undefined;
}

/** A canonical resource is identified by url and version (the conditional create of core and plugin resources). */
export function urlIdentityCriteria(resource: Resource): string | undefined {
  const { url, version } = resource as { url?: unknown; version?: unknown };
  if (typeof url !== 'string') return undefined;
  return new URLSearchParams({ url, ...(typeof version === 'string' && version ? { version } : {}) }).toString();
}

const verbOf = (previous: Resource | undefined) => (previous ? 'update' : 'create');

/** Only the local organisation and its users write tagged resources. */
export function requireLocalWriter(ctx: WriteRuleContext, type: string, verb: 'create' | 'update' | 'delete'): void {
  if (ctx.identity.local) return;
  throw refusal(`${type} ${verb}`, `only local identities may ${verb === 'delete' ? 'delete' : 'write'} ${type} resources`);
}

/** What the type requires, and on update the identity keys that may not change. */
export function requireContent<T extends Resource>(spec: TaggedTypeSpec<T>, ctx: WriteRuleContext, resource: T, previous: T | undefined): void {
  const missing = requirementProblems(spec.required ?? [], resource);
  if (missing.length) throw refusal(`${spec.type} ${verbOf(previous)}`, missing.join('; '));
  // Against the stored version: a reference may come back as a literal where readers saw only its identifier.
  const changed = previous ? immutableChanges(spec.immutable ?? [], storedVersionOf(previous), resource, ctx.site.baseUrl) : [];
  if (changed.length) throw refusal(`${spec.type} update`, `${changed.join(', ')} may not change`);
}

async function authorizeWrite<T extends Resource>(spec: TaggedTypeSpec<T>, ctx: WriteRuleContext, resource: T, previous: T | undefined): Promise<void> {
  requireLocalWriter(ctx, spec.type, verbOf(previous));
  requireContent(spec, ctx, resource, previous);
  const tagProblem = await readAccessTagProblem(resource, storeExistenceChecks(ctx.db));
  if (tagProblem) throw refusal(`${spec.type} ${verbOf(previous)}`, `invalid read-access tags: ${tagProblem}`);
}

export function taggedType<T extends Resource = Resource>(spec: TaggedTypeSpec<T>): ResourceTypeBehaviour<T> {
  return {
    type: spec.type,
    securityContextTarget: true,
    defaultProfile: dsfDefaultProfile(spec.type),
    affectsIdentities: spec.affectsIdentities ?? false,
    authorizeCreate: (ctx, resource) => authorizeWrite(spec, ctx, resource, undefined),
    authorizeUpdate: (ctx, previous, next) => authorizeWrite(spec, ctx, next, previous),
    async authorizeDelete(ctx) {
      requireLocalWriter(ctx, spec.type, 'delete');
    },
    validatesUpdate: () => true,
    uniqueKeys: (resource) => spec.uniqueKeys?.(resource) ?? [],
    identityCriteria: (resource) => (spec.identityCriteria ?? urlIdentityCriteria)(resource),
  };
}
