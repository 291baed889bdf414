// The fastify application of the FHIR server: body handling, timeouts, request scopes, logging,
// error -> OperationOutcome mapping, routes.
import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { FhirError, outcome } from '../../common/errors.ts';
import { JSON_MIME_TYPES, XML_MIME_TYPES } from '../model/formats.ts';
import type { RequestScopes } from '../../db/request-scope.ts';
import { parseQueryString, registerRoutes, type RouteDeps } from './routes.ts';
import { enableHtmlPages, parseUtf8Body, protocolErrorPage, sendResource, utf8BodyParser, type UiOptions } from './representation.ts';
import { registerStaticAssets } from '../ui/static-assets.ts';
import { clientErrorHandler, recordHeaderBytes } from './client-errors.ts';
import { fhirErrorForDatabaseError } from '../service/database-errors.ts';
import { logAbandonedRequest, registerRequestLog, REQUEST_LINE_KEYS, type CallerLabel, type ResponseObserver } from './request-log.ts';
import { useRequestScopes, type RequestHook } from './request-database.ts';
import { lazyChildrenOf } from './request-logger.ts';

export interface HttpTimeouts {
  /** Time to complete the TLS handshake and send the request headers. */
  headersMs: number;
  /** Time to send the whole request. */
  requestMs: number;
  /** Idle time after which a keep-alive connection is closed. */
  keepAliveMs: number;
}

export interface AppOptions {
  /** URL path prefix, e.g. '/fhir' (from the base URL). */
  prefix: string;
  https?: HttpsOptions;
  maxBodyBytes: number;
  /** A pino logger (fastify's); without one nothing is logged. */
  logger?: FastifyBaseLogger;
  /** Names the caller in request log lines. */
  caller?: CallerLabel;
  /** Told of every answered request after its log line (the request metrics). */
  onResponse?: ResponseObserver;
  /** The server's own onRequest work (cross-site guard, identity), after the request scope is made. */
  onRequest?: RequestHook;
  timeouts?: HttpTimeouts;
  /** Database work per request (statement timeout, cancellation when the client goes away). */
  scopes?: RequestScopes;
  /** For messages: the statement timeout the scopes apply. */
  statementTimeoutMs?: number;
  /** HTML pages for browsers (Accept: text/html or _format=html) on the same routes; JSON otherwise. */
  ui?: UiOptions;
}

/** Node checks header and request timeouts at this interval; a fraction of the shortest keeps them close to exact. */
function checkingInterval(t: HttpTimeouts): number {
  return Math.max(50, Math.min(30_000, Math.floor(Math.min(t.headersMs, t.requestMs) / 4)));
}

// Request ids for log lines (12 hex digits): a random prefix and a counter, a new prefix when the
// counter wraps (random bytes for every request cost a measurable share of a read).
let requestIdPrefix = randomBytes(3).toString('hex');
let requestCounter = 0;
function nextRequestId(): string {
  if (requestCounter === 0x1000000) {
    requestIdPrefix = randomBytes(3).toString('hex');
    requestCounter = 0;
  }
  return requestIdPrefix + (requestCounter++).toString(16).padStart(6, '0');
}

export function createFhirApp(deps: RouteDeps, opts: AppOptions): FastifyInstance {
  const t = opts.timeouts;
  const https: HttpsOptions | null = opts.https
    ? {
        ...opts.https,
        ...(t
          ? { headersTimeout: t.headersMs, requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs, connectionsCheckingInterval: checkingInterval(t), handshakeTimeout: t.headersMs }
          : {}),
      }
    : null;
  let app: FastifyInstance;
  app = Fastify({
    https,
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Our own line per request (request-log.ts), without URLs.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
    ...(t ? { requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs } : {}),
    // Refusals of Node's HTTP parser: a page for browsers too when the server has pages.
    clientErrorHandler: clientErrorHandler(() => app.log, opts.ui ? protocolErrorPage(opts.ui) : undefined),
    // URLs the router cannot decode (invalid percent-encoding or UTF-8) or over-long ids: an OperationOutcome
    // (or a page for browsers) like every other refusal, not fastify's own JSON.
    frameworkErrors: (err: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply) =>
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendResource(req, reply, 414, outcome('error', 'too-costly', 'A part of the request path is too long'))
        : sendResource(req, reply, 400, outcome('error', 'invalid', 'The request path has invalid percent-encoding or is not valid UTF-8')),
    bodyLimit: opts.maxBodyBytes,
    forceCloseConnections: true,
    // Repeated query keys matter in FHIR (AND): routes take the ordered pairs (queryPairs), the object serves _format/_pretty.
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQueryString },
  } as FastifyServerOptions & { https: HttpsOptions | null }) as unknown as FastifyInstance;

  // req.log made only when a request logs more than its request line (request-logger.ts).
  if (opts.logger) lazyChildrenOf(app.log, REQUEST_LINE_KEYS);

  // Lets a page answer requests whose headers overflow (what arrived of them names the Accept).
  if (opts.ui) recordHeaderBytes(app.server);

  // The request's database work runs in its scope: cancelled when the client goes away mid-request.
  if (opts.scopes) useRequestScopes(app, opts.scopes, (req) => logAbandonedRequest(req, opts.caller), opts.onRequest);
  else if (opts.onRequest) app.addHook('onRequest', opts.onRequest);
  registerRequestLog(app, opts.caller, !opts.scopes, opts.onResponse);

  // Every body reaches the routes as a string (strictly UTF-8); the routes parse it according to Content-Type.
  // The FHIR media types are named besides the catch-all, with the same parser: fastify remembers the
  // parser it found for a named type, but looks for the catch-all anew on every request (parsing the
  // Content-Type header again, a few µs per create).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_MIME_TYPES, ...XML_MIME_TYPES], utf8BodyParser, parseUtf8Body);
  app.addContentTypeParser('*', utf8BodyParser, parseUtf8Body);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof FhirError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return sendResource(req, reply, err.status, err.outcome);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendResource(req, reply, 413, outcome('error', 'too-costly', `The request body exceeds ${opts.maxBodyBytes} bytes`));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return sendResource(req, reply, 400, outcome('error', 'invalid', err.message));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendResource(req, reply, err.statusCode, outcome('error', 'invalid', err.message));
    const mapped = fhirErrorForDatabaseError(err, { statementTimeoutMs: opts.statementTimeoutMs ?? 0 });
    if (mapped) {
      // A data exception means some input check is missing; its message may quote the value, so only at debug.
      req.log.warn({ code: err.code, status: mapped.status }, mapped.outcome.issue?.[0]?.code === 'invalid' ? 'database refused a value of the request' : mapped.message);
      req.log.debug({ err }, 'database error');
      return sendResource(req, reply, mapped.status, mapped.outcome);
    }
    req.log.error({ err }, 'request failed');
    return sendResource(req, reply, 500, outcome('fatal', 'exception', 'Internal server error'));
  });
  app.setNotFoundHandler((req, reply) => sendResource(req, reply, 404, outcome('error', 'not-found', `No route for ${req.method} ${req.url.split('?')[0]}`)));

  if (opts.ui) enableHtmlPages(app, opts.ui);
  app.register(
    async (scoped) => {
      if (opts.ui) registerStaticAssets(scoped);
      registerRoutes(scoped, deps);
    },
    { prefix: opts.prefix },
  );
  return app;
}
