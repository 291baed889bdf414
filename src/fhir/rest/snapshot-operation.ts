// The $snapshot operation on StructureDefinition (FHIR OperationDefinition StructureDefinition-snapshot):
// GET and POST on /StructureDefinition/$snapshot (a stored profile named by `url`, or a profile given as
// the `definition`/`resource` parameter or as the bare body) and on /StructureDefinition/{id}/$snapshot.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, Parameters, ParametersParameter, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../../common/errors.ts';
import { compareVersions, splitCanonical } from '../conformance/canonical-index.ts';
import { generateSnapshot, type StructureDefinitionResolver } from '../validation/snapshot.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';
import { parseResourceBody, sendResource } from './representation.ts';

export interface SnapshotOperationDeps {
  service: FhirService;
  /** Resolves profiles (stored ones; the R4 base definitions are the generator's own fallback). */
  resolve: StructureDefinitionResolver;
  context(req: FastifyRequest): Promise<RequestContext>;
}

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

function queryUrl(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  const urls = q < 0 ? [] : new URLSearchParams(req.url.slice(q + 1)).getAll('url');
  if (urls.length !== 1 || !urls[0]) throw badRequest("$snapshot on the type needs exactly one 'url' parameter (or POST a definition)");
  return urls[0];
}

export class SnapshotOperation {
  constructor(private readonly deps: SnapshotOperationDeps) {}

  /** The stored profile with this canonical ('url' newest version, or 'url|version'), as the caller may read it. */
  private async byUrl(ctx: RequestContext, canonical: string): Promise<StructureDefinition> {
    const { url, version } = splitCanonical(canonical);
    const query: [string, string][] = [['url', url], ['_count', '1000']];
    if (version !== undefined) query.push(['version', version]);
    const bundle = (await this.deps.service.search({ ...ctx, strict: true }, this.deps.service.store.pool, 'StructureDefinition', query)).resource as Bundle;
    const found = (bundle.entry ?? [])
      .map((e) => e.resource as StructureDefinition)
      .filter((sd) => sd?.url === url && (version === undefined || sd.version === version))
      .sort((a, b) => compareVersions(a.version ?? '', b.version ?? ''));
    const newest = found.at(-1);
    if (!newest) throw notFound(`No StructureDefinition with url '${canonical}'`);
    return newest;
  }

  async forInput(ctx: RequestContext, input: SnapshotInput): Promise<StructureDefinition> {
    const sd = 'definition' in input ? input.definition : await this.byUrl(ctx, input.url);
    return withSnapshot(sd, this.deps.resolve);
  }

  async forStored(ctx: RequestContext, id: string): Promise<StructureDefinition> {
    const read = await this.deps.service.read(ctx, this.deps.service.store.pool, 'StructureDefinition', id);
    return withSnapshot(read.resource as StructureDefinition, this.deps.resolve);
  }

  register(app: FastifyInstance): void {
    const path = '/StructureDefinition/$snapshot';
    app.get(path, async (req, reply) => {
      const ctx = await this.deps.context(req);
      return sendResource(req, reply, 200, await this.forInput(ctx, { url: queryUrl(req) }));
    });
    app.post(path, async (req, reply) => {
      const ctx = await this.deps.context(req);
      return sendResource(req, reply, 200, await this.forInput(ctx, postInput(parseResourceBody(req))));
    });
    const instance = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const ctx = await this.deps.context(req);
      return sendResource(req, reply, 200, await this.forStored(ctx, req.params.id));
    };
    app.get<{ Params: { id: string } }>('/StructureDefinition/:id/$snapshot', instance);
    app.post<{ Params: { id: string } }>('/StructureDefinition/:id/$snapshot', instance);
  }
}
