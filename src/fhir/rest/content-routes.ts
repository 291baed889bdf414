// The content of types with content storage (Binary) over HTTP. Raw upload: POST /{type} and
// PUT /{type}/{id} with any non-FHIR Content-Type and an X-Security-Context header; the body is streamed
// into storage inside the write transaction. Raw download: GET/HEAD /{type}/{id}[/_history/{vid}] with a
// non-FHIR Accept that fits the content type streams the content, with single byte ranges and the
// conditional headers (binary-negotiation.ts). With a FHIR Content-Type / Accept / _format the same URLs
// take and give the resource with its base64 element. Other URLs of such types use the generic routes.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, preconditionFailed } from '../../common/errors.ts';
import { formatFromContentType, JSON_MIME_TYPES, XML_MIME_TYPES } from '../model/formats.ts';
import { DSF_RESOURCE_TYPES, isDsfResourceType } from '../model/resource-types.ts';
import { ContentTooLargeError } from '../store/binary-store.ts';
import { contentStorageOf, contentTooLarge } from '../service/content.ts';
import type { ContentStorage } from '../types/behaviour.ts';
import { notModified, preferReturn, setVersionHeaders } from './http-headers.ts';
import type { InteractionResult } from '../service/request-context.ts';
import { parseResourceBody, parseUtf8Body, sendResource, utf8BodyParser } from './representation.ts';
import { queryPairs, sendWrite, type RouteDeps } from './routes.ts';
import { contentRange, ifRangeMatches, selectRange, type RangeSelection } from './byte-ranges.ts';
import { binaryAnswer } from './binary-negotiation.ts';
import { requestDatabase } from './request-database.ts';

/** After an oversized upload, this much more is read and dropped so the client still gets its 413 cleanly. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

type Params = { id: string; vid?: string };

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** X-Security-Context: `Type/id` (optionally `/_history/n`) or the same as a full URL of this server. */
function securityContextReference(type: string, value: string | undefined, baseUrl: string): string {
  if (!value?.trim()) throw badRequest(`A raw ${type} upload needs the header X-Security-Context (a reference such as Organization/<id>)`);
  const ref = value.trim();
  const local = ref.startsWith(`${baseUrl}/`) ? ref.slice(baseUrl.length + 1) : ref;
  const m = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(local);
  if (!m || !isDsfResourceType(m[1]!)) throw badRequest(`X-Security-Context '${ref}' is not a reference to a resource of this server (Type/id or ${baseUrl}/Type/id)`);
  return ref;
}

/** The resource of a raw upload: its media type from Content-Type, its read rights from X-Security-Context. */
function rawResource(storage: ContentStorage, type: string, req: FastifyRequest, baseUrl: string, id?: string): Resource {
  const contentType = header(req, 'content-type')?.trim();
  if (!contentType) throw badRequest(`A raw ${type} upload needs a Content-Type`);
  const securityContext = securityContextReference(type, header(req, 'x-security-context'), baseUrl);
  return storage.rawResource({ contentType, securityContext, id });
}

function isFhirBody(req: FastifyRequest): boolean {
  return formatFromContentType(header(req, 'content-type')) !== undefined;
}

/** Reads and drops the rest of a request body, up to DISCARD_LIMIT; beyond that the connection is cut. */
function discardRest(body: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (body.readableEnded || body.destroyed) return resolve();
    let dropped = 0;
    body.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DISCARD_LIMIT) body.destroy();
    });
    body.once('end', resolve);
    body.once('close', resolve);
    body.resume();
  });
}

/** Runs a raw upload; an oversized body gives 413 and leaves nothing stored (the transaction rolled back). */
async function upload(req: FastifyRequest, reply: FastifyReply, maxBytes: number, run: (source: AsyncIterable<Uint8Array>) => Promise<InteractionResult>): Promise<InteractionResult> {
  const body = req.body as Readable | undefined;
  const declared = Number(header(req, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    if (!body || declared - maxBytes > DISCARD_LIMIT) reply.header('connection', 'close');
    else await discardRest(body);
    throw contentTooLarge(maxBytes);
  }
  // The body must survive an early stop (limit exceeded) so its rest can be discarded.
  const source: AsyncIterable<Uint8Array> = body ? { [Symbol.asyncIterator]: () => body.iterator({ destroyOnReturn: false }) } : (async function* () {})();
  try {
    return await run(source);
  } catch (e) {
    if (e instanceof ContentTooLargeError) {
      if (body) await discardRest(body);
      throw contentTooLarge(maxBytes);
    }
    if (body && (body.errored || (body as Readable & { aborted?: boolean }).aborted)) throw badRequest('The upload was aborted');
    throw e;
  }
}

/** If-Match and If-Unmodified-Since on reads: 412 when the client's condition does not hold. */
function checkPreconditions(req: FastifyRequest, r: InteractionResult): void {
  const ifMatch = header(req, 'if-match');
  if (ifMatch !== undefined) {
    const ok = ifMatch.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '').replaceAll('"', '') === r.versionId);
    if (!ok) throw preconditionFailed(`If-Match '${ifMatch}' does not match the version ${r.versionId}`);
    return;
  }
  const ius = header(req, 'if-unmodified-since');
  if (ius !== undefined && r.lastModified) {
    const since = Date.parse(ius);
    if (!Number.isNaN(since) && Math.floor(Date.parse(r.lastModified) / 1000) * 1000 > since) throw preconditionFailed(`Modified since ${ius}`);
  }
}

/** Raw content routes for every type with content storage, registered before the generic ones. */
export function registerContentRoutes(app: FastifyInstance, deps: RouteDeps): void {
  for (const type of DSF_RESOURCE_TYPES) {
    const storage = contentStorageOf(type);
    if (storage) registerTypeContentRoutes(app, deps, type, storage);
  }
}

function registerTypeContentRoutes(app: FastifyInstance, deps: RouteDeps, type: string, storage: ContentStorage): void {
  const i = deps.service;
  const store = i.store;
  const { maxBytes, inlineBytes } = i.content.limits;
  /** The request's view of the database (its scope). */
  const db = (req: FastifyRequest) => requestDatabase(req, store.pool);

  // A raw upload reaches the handler as the unread request stream (no body limit here: the content
  // limit applies while streaming); FHIR bodies are read as strings under the server's body limit.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...JSON_MIME_TYPES, ...XML_MIME_TYPES], utf8BodyParser, parseUtf8Body);
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    /** The write response; a raw upload's resource carries its content only if asked for and small enough. */
    const respond = async (req: FastifyRequest, reply: FastifyReply, r: InteractionResult) =>
      sendWrite(req, reply, preferReturn(req) === 'representation' ? await i.content.withInlineData(db(req), r) : r);

    scope.post(`/${type}`, async (req, reply) => {
      const ctx = await deps.context(req);
      const ifNoneExist = header(req, 'if-none-exist');
      if (isFhirBody(req)) {
        const resource = parseResourceBody(req);
        return sendWrite(req, reply, await store.transaction((c) => i.create(ctx, c, type, resource, ifNoneExist), db(req)));
      }
      const resource = rawResource(storage, type, req, i.baseUrl);
      const r = await upload(req, reply, maxBytes, (source) => store.transaction((c) => i.createWithContent(ctx, c, type, resource, source, ifNoneExist), db(req)));
      return respond(req, reply, r);
    });

    scope.put<{ Params: Params }>(`/${type}/:id`, async (req, reply) => {
      const ctx = await deps.context(req);
      const ifMatch = header(req, 'if-match');
      if (isFhirBody(req)) {
        const resource = parseResourceBody(req);
        return sendWrite(req, reply, await store.transaction((c) => i.update(ctx, c, type, req.params.id, resource, ifMatch), db(req)));
      }
      const resource = rawResource(storage, type, req, i.baseUrl, req.params.id);
      const r = await upload(req, reply, maxBytes, (source) => store.transaction((c) => i.updateWithContent(ctx, c, type, req.params.id, resource, source, ifMatch), db(req)));
      return respond(req, reply, r);
    });

    const download = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const ctx = await deps.context(req);
      // Read access is checked here, before any byte of content is sent.
      const { result, content } = await i.readWithContent(ctx, db(req), type, req.params.id, req.params.vid);
      setVersionHeaders(reply, result, false);
      checkPreconditions(req, result);
      if (notModified(req, result)) return reply.code(304).send();

      const contentType = storage.contentType(result.resource);
      const answer = binaryAnswer(header(req, 'accept'), (req.query as Record<string, string | undefined>)._format, contentType);
      if (answer.kind === 'not-acceptable') {
        throw new FhirError(406, `Neither a FHIR format nor the content type ${contentType ?? ''} is acceptable`, 'not-supported');
      }
      if (answer.kind === 'resource') {
        if (content && content.size > inlineBytes) {
          throw new FhirError(413, `The content (${content.size} bytes) is larger than the ${inlineBytes} bytes returned as base64; request it with a non-FHIR Accept header`, 'too-costly');
        }
        return sendResource(req, reply, 200, await i.content.inline(db(req), result.resource, content));
      }

      const size = content?.size ?? 0;
      reply.header('accept-ranges', 'bytes');
      const range = header(req, 'range');
      const selection: RangeSelection = ifRangeMatches(header(req, 'if-range'), result.versionId!, result.lastModified!) ? selectRange(range, size) : { kind: 'full' };
      if (selection.kind === 'unsatisfiable') {
        throw new FhirError(416, `Range '${range}' lies outside the content of ${size} bytes`, 'processing', { 'content-range': `bytes */${size}` });
      }
      const [start, end] = selection.kind === 'partial' ? [selection.start, selection.end + 1] : [0, size];
      if (selection.kind === 'partial') reply.code(206).header('content-range', contentRange(selection, size));
      else reply.code(200);
      reply.header('content-type', contentType ?? 'application/octet-stream');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-length', String(end - start));
      if (req.method === 'HEAD' || !content || end === start) return reply.send();
      return reply.send(Readable.from(i.content.binaries.read(content, start, end, db(req)), { objectMode: false }));
    };
    // HEAD explicitly: fastify's automatic HEAD route would reset Content-Length to 0.
    for (const url of [`/${type}/:id`, `/${type}/:id/_history/:vid`]) {
      scope.get<{ Params: Params }>(url, { exposeHeadRoute: false }, download);
      scope.head<{ Params: Params }>(url, download);
    }
    // The router prefers '/{type}/:id' over the generic '/:type/_history'; route type history back.
    scope.get(`/${type}/_history`, async (req, reply) => {
      const ctx = await deps.context(req);
      return sendResource(req, reply, 200, (await i.history(ctx, db(req), type, undefined, queryPairs(req))).resource);
    });
  });
}
