// One log line per request: method, route (the pattern, never the URL: queries carry search values,
// which may be personal data), resource type, status, duration, caller and request id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { traceIdOfHeader } from '../../common/trace.ts';
import { logRequestLine } from './request-logger.ts';

/** The keys of request lines: fastify's request id binding and the fields below. */
export const REQUEST_LINE_KEYS = ['reqId', 'method', 'route', 'type', 'status', 'ms', 'caller', 'trace'] as const;

/** Names the caller for log lines (organisation identifier, or a user), if known. */
export type CallerLabel = (req: FastifyRequest) => string | undefined;

/** The line of a request whose client went away before the answer was sent. */
export function logAbandonedRequest(req: FastifyRequest, caller: CallerLabel | undefined): void {
  logRequestLine(req.log, { method: req.method, route: req.routeOptions.url ?? 'unknown', caller: caller?.(req) }, 'request abandoned by the client');
}

/** Told of every answered request after its log line, with the route pattern (e.g. the request metrics). */
export type ResponseObserver = (req: FastifyRequest, reply: FastifyReply, route: string, elapsedMs: number) => void;

/**
 * abandonedHook: false when the request scopes report abandoned requests (useRequestScopes). One
 * onResponse hook for the line and the observer: fastify runs each hook as a step of its own, and
 * `routeOptions` builds a new object on every read.
 */
export function registerRequestLog(app: FastifyInstance, caller: CallerLabel | undefined, abandonedHook = true, observer?: ResponseObserver): void {
  // A callback hook, not an async one: no promise per request for synchronous work.
  app.addHook('onResponse', (req, reply, done) => {
    const params = req.params as Record<string, string> | undefined;
    const route = req.routeOptions.url ?? 'unknown';
    const elapsed = reply.elapsedTime;
    logRequestLine(
      req.log,
      {
        method: req.method,
        route,
        type: params?.type,
        status: reply.statusCode,
        ms: Math.round(elapsed * 10) / 10,
        caller: caller?.(req),
        // The sender's trace id (W3C traceparent, sent by our BPE with Tasks): one request followed across sites.
        trace: traceIdOfHeader(req.headers.traceparent),
      },
      'request',
    );
    observer?.(req, reply, route, elapsed);
    done();
  });
  if (abandonedHook) {
    app.addHook('onRequestAbort', async (req) => logAbandonedRequest(req, caller));
  }
}
