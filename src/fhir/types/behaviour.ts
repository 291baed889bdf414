// What is particular about one resource type: who may read it, the rules of its writes, its default
// profile, its uniqueness keys, what identifies it for conditional writes, and where its content is.
// One module per type that has any of these (task.ts, binary.ts, ...); every other type behaves as
// tagged-type.ts says. The registry (registry.ts) is the only place that knows which module is which.
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import type { AccessCondition } from '../store/access-condition.ts';
import type { UncheckedReferences } from '../references/reference-checks.ts';
import type { Identity } from './identity.ts';
import type { Site } from './site.ts';

/** What a read-access rule knows: the caller, the site, and the rules of other types it may depend on. */
export interface ReadAccessContext {
  identity: Identity;
  site: Site;
  /** What read-access tags grant the caller (the rule of every type without its own). */
  tags: AccessCondition;
  /** Read access through a reference to another resource: that resource's own rule, by its type; none for types that cannot be one. */
  securityContextTargets(): AccessCondition;
}

/** What a write rule knows: the caller, the site, and the write's connection for store look-ups. */
export interface WriteRuleContext {
  identity: Identity;
  site: Site;
  /** The write's connection: look-ups see what the transaction wrote so far. */
  db: Db;
  /** Whether resources of this type may give a Binary its read access (the registry answers for every type). */
  canBeSecurityContext(type: string): boolean;
}

/** A type whose content (base64 in the resource) is stored outside the resource row, and may be read and written raw. */
export interface ContentStorage<T extends Resource = Resource> {
  /** The element holding the content as base64. */
  readonly element: 'data';
  /** The media type of the content. */
  contentType(resource: T): string | undefined;
  /** The resource a raw upload stores: its media type, and the reference its read access comes from. */
  rawResource(upload: { contentType: string; securityContext: string; id?: string }): T;
}

export interface ResourceTypeBehaviour<T extends Resource = Resource> {
  readonly type: string;
  /** Who may read resources of the type; undefined: what their read-access tags grant. */
  readAccess?(ctx: ReadAccessContext): AccessCondition;
  /** Whether a Binary may take its read access from a resource of this type. */
  readonly securityContextTarget: boolean;
  /** 403 (refusal.ts) unless the caller may create this resource. */
  authorizeCreate(ctx: WriteRuleContext, resource: T): Promise<void>;
  /** 403 unless the caller may change `previous` (as readers see it) into `next`. */
  authorizeUpdate(ctx: WriteRuleContext, previous: T, next: T): Promise<void>;
  /** Why the resource may not be stored whoever writes it, start-up work included (403); none when it may. */
  contentProblems?(next: T, previous?: T): string[];
  /** 403 unless the caller may delete the resource. */
  authorizeDelete(ctx: WriteRuleContext, existing: T): Promise<void>;
  /** The profile added when a resource declares no DSF profile (none for Task: it must name its process's profile). */
  readonly defaultProfile?: string;
  /** Whether an update to `next` is validated against its profiles (a Task may fail even when it no longer validates). */
  validatesUpdate(next: T, previous: T): boolean;
  /** Keys no two current resources of the type may share (the store enforces them). */
  uniqueKeys(resource: T): string[];
  /** The conditional-create criteria identifying the resource (core resources, plugin resources), if the type has any. */
  identityCriteria(resource: T): string | undefined;
  /** Content stored outside the resource row. */
  readonly content?: ContentStorage<T>;
  /** Whether a change of such a resource may change who a certificate or token identifies (identity cache). */
  readonly affectsIdentities: boolean;
  /** References an update of this resource does not check. */
  uncheckedReferencesOnUpdate?(resource: T): UncheckedReferences | undefined;
}
