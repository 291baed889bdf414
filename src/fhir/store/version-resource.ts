// The resource of a new version as stored: resourceType, id and meta first (as FHIR examples show
// them), meta with the version's versionId and lastUpdated, the rest in the input's order.
import type { Resource } from '@medplum/fhirtypes';
import { spreadWith } from '../../common/spread-with.ts';

export function versionResource(input: Resource, id: string, version: number, lastUpdated: string): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = input as Resource & Record<string, unknown>;
  // Not `{ ...meta, versionId, lastUpdated }`: V8 builds that on a slow path (common/spread-with.ts).
  return { resourceType, id, meta: spreadWith(meta, { versionId: String(version), lastUpdated }), ...rest } as Resource;
}
