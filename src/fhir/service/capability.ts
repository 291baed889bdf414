// GET /metadata: a CapabilityStatement generated from what this server actually serves.
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { servedResourceTypes } from '../model/resource-types.ts';
import { searchParameters } from '../search/parameters.ts';
import type { Operation } from './operations/operation.ts';

/** The operations the statement can list: those with a published OperationDefinition (it requires one). */
function listed(operations: readonly Operation[], type?: string): { name: string; definition: string }[] {
  return operations
    .map((o) => o.definition)
    .filter((d): d is typeof d & { definition: string } => d.definition !== undefined && (type === undefined || d.resourceTypes.includes(type)))
    .map((d) => ({ name: d.name, definition: d.definition }));
}

export function capabilityStatement(baseUrl: string, version: string, defaultProfile: (type: string) => string | undefined, operations: readonly Operation[]): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = servedResourceTypes().map((type) => {
    const params = [...searchParameters(type).values()];
    const refParams = params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
    const r: CapabilityStatementRestResource = {
      type: type as CapabilityStatementRestResource["type"],
      versioning: 'versioned',
      readHistory: true,
      updateCreate: false,
      conditionalCreate: true,
      conditionalRead: 'full-support',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      interaction: (['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const).map((code) => ({ code })),
      searchParam: [
        { name: '_id', type: 'token' },
        { name: '_lastUpdated', type: 'date' },
        ...params.map((p) => ({ name: p.code, type: p.type })),
      ],
    };
    const profile = defaultProfile(type);
    if (profile) r.profile = profile;
    if (refParams.length) r.searchInclude = refParams;
    const typeOperations = listed(operations, type);
    if (typeOperations.length) r.operation = typeOperations;
    return r;
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'DSF FHIR server (TypeScript)', version },
    implementation: {
      url: baseUrl,
      description: 'Data Sharing Framework FHIR server',
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket', valueUrl: `${baseUrl.replace(/^http/, 'ws')}/ws` }],
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/fhir+xml'],
    rest: [
      {
        mode: 'server',
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        operation: listed(operations),
      },
    ],
  };
}

/**
 * The statement with each type's supportedProfile: the profiles stored on this server now (a plugin's
 * Task profiles appear when deployed and go when deleted), the type's default profile left out.
 */
export function withSupportedProfiles(statement: CapabilityStatement, profiles: Map<string, string[]>): CapabilityStatement {
  const rest = statement.rest![0]!;
  const resource = rest.resource!.map((r) => {
    const supported = (profiles.get(r.type!) ?? []).filter((p) => p !== r.profile);
    if (!supported.length) return r;
    return { ...r, supportedProfile: supported };
  });
  return { ...statement, rest: [{ ...rest, resource }] };
}
