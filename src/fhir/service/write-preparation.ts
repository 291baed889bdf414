// What happens to every resource before it is stored: a structural check against the R4 definitions,
// the type's default DSF profile when it declares none, and validation against every declared profile.
// The structural check runs first (what a parser refuses, 400); authorization runs between it and
// validation, so a caller who may not write learns nothing from validation messages (fhir-server.ts).
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { spreadWith } from '../../common/spread-with.ts';
import { checkJsonShape } from '../model/json-parse.ts';
import { DSF_PROFILE_BASE } from '../model/dsf-urls.ts';
import { behaviourOf, defaultProfileOf } from '../types/registry.ts';
import { ConformanceCache } from '../conformance/conformance-cache.ts';
import { ResourceValidator } from '../validation/validator.ts';
import type { WriteHooks } from './write-hooks.ts';
import type { TransactionClient } from '../../db/pool.ts';

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';

/** Adds the type's default profile (http://dsf.dev/fhir/StructureDefinition/<type>) when no DSF profile is declared. */
export function withDefaultProfile(resource: Resource): Resource {
  const profiles = resource.meta?.profile ?? [];
  if (profiles.some((p) => p.startsWith(DSF_PROFILE_BASE))) return resource;
  const def = defaultProfileOf(resource.resourceType);
  if (!def) return resource;
  // Copies by assignment: V8 builds `{ ...meta, profile }` on a slow path (common/spread-with.ts).
  return spreadWith(resource, { meta: spreadWith(resource.meta, { profile: [def, ...profiles] }) }) as Resource;
}

export class WritePreparation {
  readonly validator: ResourceValidator;
  /** Conformance resources changed by each open transaction: the cache must follow a rollback. */
  private readonly pending = new WeakMap<object, Map<string, { type: string; url: string }>>();

  constructor(readonly conformance: ConformanceCache) {
    this.validator = new ResourceValidator(conformance);
  }

  /** 400 when the resource does not fit the R4 type model (unknown elements, wrong JSON types). */
  checkShape(resource: Resource): void {
    const shape = checkJsonShape(resource).filter(isError);
    if (shape.length) throw new FhirError(400, shape);
  }

  /** The default profile, then validation (422); warnings go to `notes`. Expects a resource that passed checkShape. */
  prepare(resource: Resource, existing?: Resource, notes?: OperationOutcomeIssue[]): Resource {
    const prepared = withDefaultProfile(resource);
    if (!existing || behaviourOf(prepared.resourceType).validatesUpdate(prepared, existing)) {
      const issues = this.validator.validate(prepared);
      const errors = issues.filter(isError);
      if (errors.length) throw new FhirError(422, errors);
      notes?.push(...issues.filter((i) => i.severity === 'warning'));
    }
    return prepared;
  }

  /** Notes a conformance resource written or deleted in the transaction of `client`. */
  private track(client: object, resource: Resource): void {
    const url = (resource as { url?: unknown }).url;
    if (!ConformanceCache.isCached(resource.resourceType) || typeof url !== 'string') return;
    let changes = this.pending.get(client);
    if (!changes) this.pending.set(client, (changes = new Map()));
    changes.set(`${resource.resourceType}|${url}`, { type: resource.resourceType, url });
  }

  /** After commit the cache is right; after a rollback, the urls the transaction touched are read again. */
  async settled(client: TransactionClient, committed: boolean): Promise<void> {
    const changes = this.pending.get(client);
    if (!changes) return;
    this.pending.delete(client);
    if (committed) return;
    for (const { type, url } of changes.values()) await this.conformance.reload(client, type, url);
    this.validator.invalidate();
  }

  /** The structural check alone, as the first write hook. */
  shapeHooks(): WriteHooks {
    return {
      beforeWrite: async (_ctx, _client, resource) => {
        this.checkShape(resource);
        return resource;
      },
    };
  }

  /** Default profile and validation; conformance resources written or deleted update the cache. */
  hooks(): WriteHooks {
    return {
      beforeWrite: async (_ctx, _client, resource, existing, notes) => this.prepare(resource, existing, notes),
      // Later entries of the same transaction may already declare this profile.
      afterWrite: async (_ctx, client, stored, previous) => {
        if (!ConformanceCache.isCached(stored.resourceType)) return;
        this.track(client, stored);
        if (previous) this.track(client, previous);
        if (previous && ((previous as { url?: string }).url !== (stored as { url?: string }).url || (previous as { version?: string }).version !== (stored as { version?: string }).version)) {
          this.conformance.remove(previous);
        }
        this.conformance.put(stored);
        this.validator.invalidate();
      },
      afterDelete: async (_ctx, client, deleted) => {
        if (!ConformanceCache.isCached(deleted.resourceType)) return;
        this.track(client, deleted);
        this.conformance.remove(deleted);
        this.validator.invalidate();
      },
    };
  }
}
