// The fastify application of the FHIR server: body handling, error -> OperationOutcome mapping, routes.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { FhirError, outcome } from '../../common/errors.ts';
import { registerRoutes, type RouteDeps } from './routes.ts';
import { sendResource } from './representation.ts';

export interface AppOptions {
  /** URL path prefix, e.g. '/fhir' (from the base URL). */
  prefix: string;
  https?: HttpsOptions;
  maxBodyBytes: number;
  logger?: FastifyServerOptions['logger'];
}

export function createFhirApp(deps: RouteDeps, opts: AppOptions): FastifyInstance {
  const app = Fastify({
    https: opts.https ?? null,
    logger: opts.logger ?? false,
    bodyLimit: opts.maxBodyBytes,
    forceCloseConnections: true,
    // Repeated query keys matter in FHIR (AND); routes read req.url, this only serves _format/_pretty.
    routerOptions: { ignoreTrailingSlash: true, querystringParser: (str: string) => Object.fromEntries(new URLSearchParams(str)) },
  } as FastifyServerOptions & { https: HttpsOptions | null }) as unknown as FastifyInstance;

  // Every body reaches the routes as a string; the routes parse it according to Content-Type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

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
    req.log.error(err);
    return sendResource(req, reply, 500, outcome('fatal', 'exception', 'Internal server error'));
  });
  app.setNotFoundHandler((req, reply) => sendResource(req, reply, 404, outcome('error', 'not-found', `No route for ${req.method} ${req.url.split('?')[0]}`)));

  app.register(
    async (scoped) => {
      registerRoutes(scoped, deps);
    },
    { prefix: opts.prefix },
  );
  return app;
}
