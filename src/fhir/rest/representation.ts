// Reading request bodies and writing responses in the negotiated FHIR format (JSON or XML).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { formatFromAccept, formatFromContentType, type FhirFormat } from '../model/formats.ts';
import { parseFhirXml } from '../model/xml-parse.ts';
import { toFhirXml } from '../model/xml-write.ts';
import { parseFhirJson } from '../model/json-parse.ts';
import { htmlPage } from '../ui/html-page.ts';
import type { PageContext, UiSite, PageUser } from '../ui/ui-context.ts';

export type WireFormat = 'json' | 'xml';
export type ResponseFormat = WireFormat | 'html';

export const JSON_TYPE = 'application/fhir+json';
export const XML_TYPE = 'application/fhir+xml';

function queryValue(req: FastifyRequest, name: string): string | undefined {
  // Requests refused before routing (frameworkErrors) have no parsed query: the raw one, undecoded.
  if (!req.query) return new RegExp(`[?&]${name}=([A-Za-z+/]*)(?:&|$)`).exec(req.url)?.[1];
  const v = (req.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** formatFromAccept of the Accept headers seen lately (clients send a few distinct ones; parsing one cost a share of a read). */
const acceptFormats = new Map<string, FhirFormat | undefined>();
const MAX_ACCEPT_FORMATS = 64;

function formatOfAccept(accept: string | undefined, formatParam: string | undefined): FhirFormat | undefined {
  if (formatParam !== undefined || accept === undefined) return formatFromAccept(accept, formatParam);
  let f = acceptFormats.get(accept);
  if (f === undefined && !acceptFormats.has(accept)) {
    f = formatFromAccept(accept);
    if (acceptFormats.size >= MAX_ACCEPT_FORMATS) acceptFormats.clear();
    acceptFormats.set(accept, f);
  }
  return f;
}

/** How many Accept headers formatOfAccept() remembers now (for tests: the memo is bounded). */
export function rememberedAcceptFormats(): number {
  return acceptFormats.size;
}

/** The format of the response: _format, then Accept (browsers get HTML pages), then the request's Content-Type, then JSON. */
export function responseFormat(req: FastifyRequest): ResponseFormat {
  const f = formatOfAccept(req.headers.accept, queryValue(req, '_format'));
  if (f === 'json' || f === 'xml') return f;
  if (f === 'html' && uiOf(req)) return 'html';
  const ct = formatFromContentType(req.headers['content-type']);
  return ct === 'xml' ? 'xml' : 'json';
}

export function isPretty(req: FastifyRequest): boolean {
  return queryValue(req, '_pretty') === 'true';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a request body as UTF-8; 400 for bytes that are not UTF-8 (nothing is silently replaced). */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new FhirError(400, 'The request body is not valid UTF-8', 'structure');
  }
}

/** A fastify content-type parser giving the body as a string decoded strictly as UTF-8. */
export const utf8BodyParser = { parseAs: 'buffer' as const };
export function parseUtf8Body(_req: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: string) => void): void {
  try {
    done(null, typeof body === 'string' ? body : decodeUtf8Body(body));
  } catch (e) {
    done(e as Error);
  }
}

/** Parses a FHIR resource body; 415 for non-FHIR content types, 400 for malformed content. */
export function parseResourceBody(req: FastifyRequest): Resource {
  const body = req.body;
  if (typeof body !== 'string' || body.length === 0) throw new FhirError(400, 'The request has no body', 'invalid');
  const format = formatFromContentType(req.headers['content-type']);
  if (format === 'xml') return parseFhirXml(body);
  if (format === 'json') return parseFhirJson(body);
  throw new FhirError(415, `Unsupported Content-Type '${req.headers['content-type'] ?? ''}'; use application/fhir+json or application/fhir+xml`, 'not-supported');
}

export function serialize(resource: Resource | OperationOutcome, format: WireFormat, pretty: boolean): string {
  if (format === 'xml') return toFhirXml(resource as Resource, { pretty });
  return pretty ? JSON.stringify(resource, null, 2) : JSON.stringify(resource);
}

/** What the HTML pages of a server need: its site, and the caller of a request (when known). */
export interface UiOptions {
  site: UiSite;
  userOf(req: FastifyRequest): PageUser | undefined;
  /** The CSRF token of the request's sign-in session, for the page's forms and script (none without a session). */
  csrfTokenOf?(req: FastifyRequest): string | undefined;
}

const UI_KEY = 'dsfUi';

/** Makes the app answer browsers with HTML pages (set on the root instance before the routes). */
export function enableHtmlPages(app: FastifyInstance, ui: UiOptions): void {
  app.decorate(UI_KEY, ui);
}

function uiOf(req: FastifyRequest): UiOptions | undefined {
  return (req.server as unknown as Record<string, UiOptions | undefined>)[UI_KEY];
}

function pageContext(req: FastifyRequest, ui: UiOptions): PageContext {
  const basePath = new URL(ui.site.baseUrl).pathname.replace(/\/$/, '');
  const path = req.url.startsWith(basePath) ? req.url.slice(basePath.length + 1) : req.url;
  const params = new URLSearchParams(path.includes('?') ? path.slice(path.indexOf('?') + 1) : '');
  const formatParam = params.get('_format') === 'html';
  params.delete('_format');
  const query = params.toString();
  return { site: ui.site, user: ui.userOf(req), formatParam, path: `${path.split('?')[0]}${query ? `?${query}` : ''}`, csrfToken: ui.csrfTokenOf?.(req) };
}

/** The error page of a request refused before fastify saw it: nobody known, nothing of the request shown. */
export function protocolErrorPage(ui: UiOptions): (status: number, oo: OperationOutcome) => string {
  return (status, oo) => htmlPage({ site: ui.site, formatParam: false, path: '' }, status, oo).value;
}

export function sendResource(req: FastifyRequest, reply: FastifyReply, status: number, resource: Resource | OperationOutcome | undefined): FastifyReply {
  reply.code(status);
  if (!resource) return reply.send();
  const format = responseFormat(req);
  if (format === 'html') {
    reply.header('content-type', 'text/html;charset=UTF-8');
    // The page's own script and style only; nothing from elsewhere, no framing.
    reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
    reply.header('x-content-type-options', 'nosniff');
    reply.header('vary', 'Accept');
    return reply.send(htmlPage(pageContext(req, uiOf(req)!), status, resource).value);
  }
  reply.header('content-type', `${format === 'xml' ? XML_TYPE : JSON_TYPE};charset=UTF-8`);
  return reply.send(serialize(resource, format, isPretty(req)));
}

/** JSON text already serialised (a resource as stored), sent as sendResource sends JSON. */
export function sendJsonText(reply: FastifyReply, status: number, json: string): FastifyReply {
  return reply.code(status).header('content-type', `${JSON_TYPE};charset=UTF-8`).send(json);
}
