// The caller's identity on the request itself (set by the server's onRequest hook), where a WeakMap
// keyed by the request cost an entry per request, with the hashing and the collector's work on it.
import type { FastifyInstance } from 'fastify';
import type { Identity } from '../types/identity.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (request-identity.ts); null until the onRequest hook found it, and for static assets. */
    identity: Identity | null;
  }
}

export function useRequestIdentity(app: FastifyInstance): void {
  app.decorateRequest('identity', null);
}
