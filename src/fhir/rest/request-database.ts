// The database as one HTTP request sees it: with request scopes (the server's), the pool's view for the
// request's scope (db/request-scope.ts: statement timeout, cancellation when the client goes away);
// routes hand it explicitly to whatever runs SQL for the request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { RequestScopes } from '../../db/request-scope.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The pool as this request sees it (request-database.ts); null without request scopes. */
    scopedPool: pg.Pool | null;
  }
}

/**
 * Gives each request a scope of its own, aborted when the client goes away before the answer was sent;
 * `abandoned` is told then too (the request log's line: one listener per request serves both, where
 * fastify's onRequestAbort hook would add another).
 */
/** A callback onRequest hook (no promise per request for synchronous work). */
export type RequestHook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

/** then: the app's other onRequest work, run after the scope is made, in the same hook (fastify runs each hook as a step of its own). */
export function useRequestScopes(app: FastifyInstance, scopes: RequestScopes, abandoned?: (req: FastifyRequest) => void, then?: RequestHook): void {
  app.decorateRequest('scopedPool', null);
  app.addHook('onRequest', (req, reply, done) => {
    const scope = scopes.create();
    // 'close' comes once; on() spares the wrapper once() makes per request.
    reply.raw.on('close', () => {
      if (reply.raw.writableFinished) return;
      scope.abort();
      abandoned?.(req);
    });
    req.scopedPool = scopes.poolFor(scope);
    if (then) return then(req, reply, done);
    done();
  });
}

/** The database for the request's SQL: its scope's view of the pool, or the pool itself without scopes. */
export function requestDatabase(req: FastifyRequest, pool: pg.Pool): pg.Pool {
  return req.scopedPool ?? pool;
}
