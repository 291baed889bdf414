// HTTP routes of the FHIR REST API, mapped onto Interactions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, CapabilityStatement } from '@medplum/fhirtypes';
import { FhirError, methodNotAllowed } from '../../common/errors.ts';
import { assertType, withWarningIssues, type FhirService } from '../service/fhir-service.ts';
import type { InteractionResult, RequestContext } from '../service/request-context.ts';
import { notModified, preferReturn, preferStrict, setVersionHeaders } from './http-headers.ts';
import { isPretty, parseResourceBody, responseFormat, sendJsonText, sendResource } from './representation.ts';
import type { BundleProcessor } from '../service/bundle-processor.ts';
import { applyResultParameters } from '../service/summary.ts';
import { requestDatabase } from './request-database.ts';
import { writtenJsonOf } from '../store/written-json.ts';

export interface RouteDeps {
  service: FhirService;
  bundles: BundleProcessor;
  capability: () => CapabilityStatement;
  /** Builds the request context (identity, access filter) for a request; without a promise when the identity is known. */
  context(req: FastifyRequest): RequestContext | Promise<RequestContext>;
  /** Extra routes (operations, raw content, websocket) registered before the generic ones. */
  extraRoutes?: (app: FastifyInstance, deps: RouteDeps) => void;
}

type Params = { type: string; id: string; vid: string };

/** Where parseQueryString keeps the ordered pairs it parsed, on the object it gives fastify. */
const PAIRS = Symbol('dsf.queryPairs');

/**
 * What URLSearchParams would decode, replace or drop: percent escapes, '+', a leading '?', and anything
 * outside printable ASCII (spaces, non-ASCII, lone surrogates). Without them (a search's usual query) its
 * pairs are the plain split on '&' and the first '=', empty segments skipped.
 */
const NEEDS_DECODING = /^\?|[%+]|[^\x21-\x7e]/;

function plainPairs(str: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (let start = 0; start < str.length; ) {
    let end = str.indexOf('&', start);
    if (end < 0) end = str.length;
    if (end > start) {
      const eq = str.indexOf('=', start);
      pairs.push(eq < 0 || eq > end ? [str.slice(start, end), ''] : [str.slice(start, eq), str.slice(eq + 1, end)]);
    }
    start = end + 1;
  }
  return pairs;
}

/**
 * fastify's query string parser: the last value of each key (what _format and _pretty are read from),
 * with the ordered pairs kept for queryPairs, so that a search parses its query string once, not twice.
 */
export function parseQueryString(str: string): Record<string, string> {
  // No query (most reads): nothing to parse, no pairs to keep (queryPairs gives [] without them).
  if (str.length === 0) return {};
  const pairs = NEEDS_DECODING.test(str) ? [...new URLSearchParams(str)] : plainPairs(str);
  const query = Object.fromEntries(pairs);
  Object.defineProperty(query, PAIRS, { value: pairs });
  return query;
}

/** The query string as ordered pairs (repeated keys kept: AND in FHIR search); a copy, the caller's to change. */
export function queryPairs(req: FastifyRequest): [string, string][] {
  const q = req.url.indexOf('?');
  if (q < 0) return [];
  const parsed = (req.query as { [PAIRS]?: [string, string][] } | undefined)?.[PAIRS];
  return parsed ? parsed.slice() : [...new URLSearchParams(req.url.slice(q + 1))];
}

function rawQuery(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? '' : req.url.slice(q + 1);
}

/** Conditional criteria: the query without the result/format parameters. */
function criteria(req: FastifyRequest): string {
  const params = queryPairs(req).filter(([k]) => !['_format', '_pretty'].includes(k));
  return new URLSearchParams(params).toString();
}

export function sendWrite(req: FastifyRequest, reply: FastifyReply, r: InteractionResult): FastifyReply {
  setVersionHeaders(reply, r);
  const prefer = preferReturn(req);
  if (prefer === 'minimal') return reply.code(r.status).send();
  if (prefer === 'OperationOutcome') {
    const told = r.outcome ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `${r.status}` }] };
    return sendResource(req, reply, r.status, withWarningIssues(told, r.warnings));
  }
  // Plain JSON of the resource as written: the text the write serialised already, byte for byte.
  const written = r.resource && writtenJsonOf(r.resource);
  if (written !== undefined && responseFormat(req) === 'json' && !isPretty(req)) return sendJsonText(reply, r.status, written);
  return sendResource(req, reply, r.status, r.resource ?? r.outcome);
}

function sendRead(req: FastifyRequest, reply: FastifyReply, r: InteractionResult & { json?: string }): FastifyReply {
  setVersionHeaders(reply, r, false);
  if (notModified(req, r)) return reply.code(304).send();
  if (r.json !== undefined) return sendJsonText(reply, r.status, r.json);
  return sendResource(req, reply, r.status, r.resource && applyResultParameters(r.resource, queryPairs(req)));
}

/** A read answered as stored: plain JSON asked for, no _summary, _elements or _pretty to apply. */
function answersAsStored(req: FastifyRequest): boolean {
  if (responseFormat(req) !== 'json' || isPretty(req)) return false;
  return req.url.indexOf('?') < 0 || !queryPairs(req).some(([k]) => k === '_summary' || k === '_elements');
}

/** Search: a JSON Bundle from the stored texts of its resources where that gives the same bytes (FhirService.searchJson). */
async function sendSearch(deps: RouteDeps, req: FastifyRequest<{ Params: Params }>, reply: FastifyReply, pairs: [string, string][]): Promise<FastifyReply> {
  const ctx = { ...(await deps.context(req)), strict: preferStrict(req) };
  const db = requestDatabase(req, deps.service.store.pool);
  if (responseFormat(req) !== 'json' || isPretty(req)) return sendResource(req, reply, 200, (await deps.service.search(ctx, db, req.params.type, pairs)).resource);
  const r = await deps.service.searchJson(ctx, db, req.params.type, pairs);
  return r.json !== undefined ? sendJsonText(reply, 200, r.json) : sendResource(req, reply, 200, r.resource);
}

/** Read and vread: from the stored text when the answer is the stored resource as it is. */
function read(deps: RouteDeps, ctx: RequestContext, req: FastifyRequest<{ Params: Params }>, version?: string): Promise<InteractionResult & { json?: string }> {
  const { service: i } = deps;
  const { type, id } = req.params;
  const db = requestDatabase(req, i.store.pool);
  if (answersAsStored(req)) return i.readJson(ctx, db, type, id, version);
  return version === undefined ? i.read(ctx, db, type, id) : i.vread(ctx, db, type, id, version);
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { service: i } = deps;
  const store = i.store;
  /** The request's view of the database (its scope). */
  const db = (req: FastifyRequest) => requestDatabase(req, store.pool);

  app.get('/metadata', async (req, reply) => sendResource(req, reply, 200, deps.capability()));

  app.get('/', async () => {
    throw methodNotAllowed('GET on the base URL is not supported; use a resource type, /metadata or /_history');
  });
  app.post('/', async (req, reply) => {
    const ctx = await deps.context(req);
    const bundle = parseResourceBody(req) as Bundle;
    const result = await deps.bundles.process(ctx, bundle, preferReturn(req), db(req));
    return sendResource(req, reply, 200, result);
  });
  app.get('/_history', async (req, reply) => {
    const ctx = await deps.context(req);
    return sendResource(req, reply, 200, (await i.history(ctx, db(req), undefined, undefined, queryPairs(req))).resource);
  });

  deps.extraRoutes?.(app, deps);

  app.get<{ Params: Params }>('/:type', async (req, reply) => sendSearch(deps, req, reply, queryPairs(req)));
  // R4 search by POST: the parameters in a form-encoded body (and the query), same semantics and rules as GET.
  app.post<{ Params: Params }>('/:type/_search', async (req, reply) => {
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const body = typeof req.body === 'string' ? req.body : '';
    if (body && contentType !== 'application/x-www-form-urlencoded') {
      throw new FhirError(415, `POST ${req.params.type}/_search takes its parameters as application/x-www-form-urlencoded, not '${contentType}'`, 'not-supported');
    }
    return sendSearch(deps, req, reply, [...queryPairs(req), ...new URLSearchParams(body)]);
  });
  app.post<{ Params: Params }>('/:type', async (req, reply) => {
    assertType(req.params.type);
    const ctx = await deps.context(req);
    const resource = parseResourceBody(req);
    const ifNoneExist = req.headers['if-none-exist'] as string | undefined;
    const r = await store.transaction((c) => i.create(ctx, c, req.params.type, resource, ifNoneExist), db(req));
    return sendWrite(req, reply, r);
  });
  app.put<{ Params: Params }>('/:type', async (req, reply) => {
    assertType(req.params.type);
    const ctx = await deps.context(req);
    if (!rawQuery(req)) throw methodNotAllowed('PUT on a resource type needs search criteria (conditional update)');
    const resource = parseResourceBody(req);
    const r = await store.transaction((c) => i.conditionalUpdate(ctx, c, req.params.type, criteria(req), resource, req.headers['if-match'] as string | undefined), db(req));
    return sendWrite(req, reply, r);
  });
  app.delete<{ Params: Params }>('/:type', async (req, reply) => {
    assertType(req.params.type);
    const ctx = await deps.context(req);
    if (!criteria(req)) throw methodNotAllowed('DELETE on a resource type needs search criteria (conditional delete)');
    const r = await store.transaction((c) => i.conditionalDelete(ctx, c, req.params.type, criteria(req)), db(req));
    return r.status === 204 ? reply.code(204).send() : sendResource(req, reply, r.status, r.outcome);
  });
  app.get<{ Params: Params }>('/:type/_history', async (req, reply) => {
    const ctx = await deps.context(req);
    return sendResource(req, reply, 200, (await i.history(ctx, db(req), req.params.type, undefined, queryPairs(req))).resource);
  });
  app.get<{ Params: Params }>('/:type/:id', async (req, reply) => {
    const ctx = await deps.context(req);
    return sendRead(req, reply, await read(deps, ctx, req));
  });
  app.put<{ Params: Params }>('/:type/:id', async (req, reply) => {
    assertType(req.params.type);
    const ctx = await deps.context(req);
    const resource = parseResourceBody(req);
    const r = await store.transaction((c) => i.update(ctx, c, req.params.type, req.params.id, resource, req.headers['if-match'] as string | undefined), db(req));
    return sendWrite(req, reply, r);
  });
  app.delete<{ Params: Params }>('/:type/:id', async (req, reply) => {
    const ctx = await deps.context(req);
    const r = await store.transaction((c) => i.delete(ctx, c, req.params.type, req.params.id), db(req));
    if (r.versionId) reply.header('etag', `W/"${r.versionId}"`);
    return sendResource(req, reply, 200, r.outcome);
  });
  app.get<{ Params: Params }>('/:type/:id/_history', async (req, reply) => {
    const ctx = await deps.context(req);
    return sendResource(req, reply, 200, (await i.history(ctx, db(req), req.params.type, req.params.id, queryPairs(req))).resource);
  });
  app.get<{ Params: Params }>('/:type/:id/_history/:vid', async (req, reply) => {
    const ctx = await deps.context(req);
    return sendRead(req, reply, await read(deps, ctx, req, req.params.vid));
  });

  // Unsupported methods on known paths: 405 rather than 404.
  for (const url of ['/:type/:id', '/:type']) {
    app.patch(url, async () => {
      throw new FhirError(405, 'PATCH is not supported', 'not-supported');
    });
  }
}
