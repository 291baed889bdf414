// $permanent-delete (DSF): removes every version of a resource that is already marked deleted (400
// otherwise), with the PERMANENT_DELETE role, by local identities only. DSF publishes no
// OperationDefinition for it, so the CapabilityStatement does not list it.
import { DSF_RESOURCE_TYPES } from '../../model/resource-types.ts';
import type { FhirService } from '../fhir-service.ts';
import type { Operation } from './operation.ts';

export function permanentDeleteOperation(service: FhirService): Operation {
  return {
    definition: { name: 'permanent-delete', resourceTypes: DSF_RESOURCE_TYPES, typeLevel: false, instanceLevel: true, affectsState: true },
    invoke: (ctx, on, input) => on.transaction((client) => service.permanentDelete(ctx, client, input.type, input.id!)),
  };
}
