// $snapshot on StructureDefinition (FHIR OperationDefinition StructureDefinition-snapshot): a stored
// profile named by `url` (type level, GET or POST), a profile given as the `definition`/`resource`
// parameter or as the bare body (type level, POST), or a stored profile by id (instance level). An
// existing snapshot is returned as it is, otherwise one is generated against the profile's base.
import type { Bundle, Parameters, ParametersParameter, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../../../common/errors.ts';
import { compareVersions, splitCanonical } from '../../conformance/canonical-index.ts';
import { generateSnapshot, type StructureDefinitionResolver } from '../../validation/snapshot.ts';
import type { FhirService } from '../fhir-service.ts';
import type { RequestContext } from '../request-context.ts';
import type { Operation, OperationDb, OperationInput } from './operation.ts';

/** A profile with its snapshot: an existing snapshot is returned as it is, otherwise one is generated. */
export function withSnapshot(sd: StructureDefinition, resolve: StructureDefinitionResolver): StructureDefinition {
  if (sd.snapshot?.element?.length) return sd;
  if (!sd.differential?.element?.length) throw badRequest(`StructureDefinition ${sd.url ?? sd.id ?? ''} has neither a snapshot nor a differential`);
  try {
    return generateSnapshot(sd, resolve);
  } catch (e) {
    // The profile is well-formed but cannot be expanded against its base: 422 with the generator's reason.
    if (e instanceof FhirError && e.status === 400) throw new FhirError(422, e.outcome);
    throw e;
  }
}

function asStructureDefinition(resource: Resource | undefined, what: string): StructureDefinition {
  if (resource?.resourceType !== 'StructureDefinition') throw badRequest(`${what} must be a StructureDefinition, not ${resource?.resourceType ?? 'empty'}`);
  return resource;
}

function urlFromParameter(p: ParametersParameter): string {
  const value = p.valueUri ?? p.valueString ?? p.valueCanonical ?? p.valueUrl;
  if (typeof value !== 'string' || !value) throw badRequest("Parameter 'url' needs a valueUri, valueString, valueCanonical or valueUrl");
  return value;
}

type SnapshotInput = { definition: StructureDefinition } | { url: string };

/** What a POST on the type-level operation names: a Parameters resource or a bare StructureDefinition. */
function postInput(body: Resource): SnapshotInput {
  if (body.resourceType === 'StructureDefinition') return { definition: body };
  if (body.resourceType !== 'Parameters') throw badRequest(`$snapshot expects a Parameters resource or a StructureDefinition, not ${body.resourceType}`);
  const params = (body as Parameters).parameter ?? [];
  // The operation definition names the input 'definition'; the Java reference reads 'resource'.
  const definitions = params.filter((p) => p.name === 'definition' || p.name === 'resource');
  const urls = params.filter((p) => p.name === 'url');
  if (definitions.length + urls.length !== 1) throw badRequest("$snapshot needs exactly one parameter: 'definition' (a StructureDefinition) or 'url'");
  if (definitions.length) return { definition: asStructureDefinition(definitions[0]!.resource, "Parameter 'definition'") };
  return { url: urlFromParameter(urls[0]!) };
}

function queryUrl(query: [string, string][]): string {
  const urls = query.filter(([k]) => k === 'url').map(([, v]) => v);
  if (urls.length !== 1 || !urls[0]) throw badRequest("$snapshot on the type needs exactly one 'url' parameter (or POST a definition)");
  return urls[0];
}

/** The stored profile with this canonical ('url' newest version, or 'url|version'), as the caller may read it. */
async function byUrl(service: FhirService, ctx: RequestContext, on: OperationDb, canonical: string): Promise<StructureDefinition> {
  const { url, version } = splitCanonical(canonical);
  const query: [string, string][] = [['url', url], ['_count', '1000']];
  if (version !== undefined) query.push(['version', version]);
  const bundle = (await service.search({ ...ctx, strict: true }, on.db, 'StructureDefinition', query)).resource as Bundle;
  const found = (bundle.entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .filter((sd) => sd?.url === url && (version === undefined || sd.version === version))
    .sort((a, b) => compareVersions(a.version ?? '', b.version ?? ''));
  const newest = found.at(-1);
  if (!newest) throw notFound(`No StructureDefinition with url '${canonical}'`);
  return newest;
}

/** The profile an invocation names. */
async function profileOf(service: FhirService, ctx: RequestContext, on: OperationDb, input: OperationInput): Promise<StructureDefinition> {
  if (input.id !== undefined) return (await service.read(ctx, on.db, 'StructureDefinition', input.id)).resource as StructureDefinition;
  if (!input.body) return byUrl(service, ctx, on, queryUrl(input.query));
  const named = postInput(input.body);
  return 'definition' in named ? named.definition : byUrl(service, ctx, on, named.url);
}

/** resolve: profiles by canonical (stored ones; the R4 base definitions are the generator's own fallback). */
export function snapshotOperation(service: FhirService, resolve: StructureDefinitionResolver): Operation {
  return {
    definition: {
      name: 'snapshot',
      definition: 'http://hl7.org/fhir/OperationDefinition/StructureDefinition-snapshot',
      resourceTypes: ['StructureDefinition'],
      typeLevel: true,
      instanceLevel: true,
      affectsState: false,
    },
    async invoke(ctx, on, input) {
      return { status: 200, resource: withSnapshot(await profileOf(service, ctx, on, input), resolve) };
    },
  };
}
