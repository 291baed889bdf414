// What happens to every resource before it is stored: a structural check against the R4 definitions,
// the type's default DSF profile when it declares none, and validation against every declared profile.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { checkJsonShape } from '../model/json-parse.ts';
import { defaultProfileFor, DSF_PROFILE_BASE } from '../conformance/core-resources.ts';
import { ConformanceCache } from '../conformance/conformance-cache.ts';
import { ResourceValidator } from '../validation/validator.ts';
import type { WriteHooks } from './interactions.ts';

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';

/** Adds the type's default profile (http://dsf.dev/fhir/StructureDefinition/<type>) when no DSF profile is declared. */
export function withDefaultProfile(resource: Resource): Resource {
  const profiles = resource.meta?.profile ?? [];
  if (profiles.some((p) => p.startsWith(DSF_PROFILE_BASE))) return resource;
  const def = defaultProfileFor(resource.resourceType);
  if (!def) return resource;
  return { ...resource, meta: { ...(resource.meta ?? {}), profile: [def, ...profiles] } } as Resource;
}

export class WritePreparation {
  readonly validator: ResourceValidator;

  constructor(readonly conformance: ConformanceCache) {
    this.validator = new ResourceValidator(conformance);
  }

  prepare(resource: Resource, existing?: Resource): Resource {
    const shape = checkJsonShape(resource).filter(isError);
    if (shape.length) throw new FhirError(400, shape);
    const prepared = withDefaultProfile(resource);
    // The reference lets a Task be set to failed even when it no longer validates (a removed plugin).
    const skipValidation = prepared.resourceType === 'Task' && (prepared as { status?: string }).status === 'failed' && existing !== undefined;
    if (!skipValidation) {
      const issues = this.validator.validate(prepared).filter(isError);
      if (issues.length) throw new FhirError(422, issues);
    }
    if (ConformanceCache.isCached(prepared.resourceType)) {
      // Later entries of the same transaction may already declare this profile.
      this.conformance.put(prepared);
      this.validator.invalidate();
    }
    return prepared;
  }

  hooks(): WriteHooks {
    return { beforeWrite: async (_ctx, _client, resource, existing) => this.prepare(resource, existing) };
  }
}
