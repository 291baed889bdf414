// The HTTP routes of the server's operations, derived from their definitions (service/operations/):
// /Type/$name for type-level and /Type/{id}/$name for instance-level ones; GET and POST, or POST only
// for operations that change state. A posted resource is the operation's input (Parameters or the
// resource it takes); the query's parameters come along.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../service/operations/operation.ts';
import { parseResourceBody, sendResource } from './representation.ts';
import { queryPairs, type RouteDeps } from './routes.ts';
import { requestDatabase } from './request-database.ts';

export function registerOperationRoutes(app: FastifyInstance, deps: RouteDeps, operations: readonly Operation[]): void {
  const store = deps.service.store;
  const route = (operation: Operation, type: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = await deps.context(req);
    const db = requestDatabase(req, store.pool);
    const on = { db, transaction: <T>(fn: Parameters<typeof store.transaction<T>>[0]) => store.transaction(fn, db) };
    const body = typeof req.body === 'string' && req.body.length ? parseResourceBody(req) : undefined;
    const id = (req.params as { id?: string }).id;
    const r = await operation.invoke(ctx, on, { type, id, query: queryPairs(req), body });
    return sendResource(req, reply, r.status, r.resource ?? r.outcome);
  };
  for (const operation of operations) {
    const d = operation.definition;
    const method = d.affectsState ? ['POST'] : ['GET', 'POST'];
    for (const type of d.resourceTypes) {
      if (d.typeLevel) app.route({ method, url: `/${type}/$${d.name}`, handler: route(operation, type) });
      if (d.instanceLevel) app.route({ method, url: `/${type}/:id/$${d.name}`, handler: route(operation, type) });
    }
  }
}
