// The FHIR server of bench/read-costs.ts: `dsf fhir` as the bench runs it, with probe routes that stop a
// read part way (an attribution ladder), and a bare fastify route in the same process and TLS setup as
// bench/lib/baseline-server.ts. Every probe answers with the same JSON text, set by the parent (POST
// /fhir/_ladder/body: a read's body), so responses differ by their headers only.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFhirServerConfig } from '../../src/fhir/config.ts';
import { startFhirServer } from '../../src/fhir/fhir-server.ts';
import { requestDatabase } from '../../src/fhir/rest/request-database.ts';
import { sendJsonText } from '../../src/fhir/rest/representation.ts';
import { MAX_COALESCED_STATEMENTS, StatementCoalescer } from '../../src/db/coalesced-statements.ts';

let body = '{}';
/** A search's answer (POST /fhir/_ladder/search-body), for the rung with a search's request and response but no search. */
let searchBody = '{}';
type Params = { type: string; id: string };
const env = process.env;

// Garbage collections since start, by kind (for an A/B of V8's heap settings): count and pause time.
const gc = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, other: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) (gc.scavenges++, (gc.scavengeMs += e.duration));
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) (gc.markCompacts++, (gc.markCompactMs += e.duration));
    else gc.other++;
  }
}).observe({ entryTypes: ['gc'] });

const bare = Fastify({ https: { cert: readFileSync(env.DEV_DSF_SERVER_CERTIFICATE!), key: readFileSync(env.DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY!), ca: readFileSync(env.DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS!), requestCert: true, rejectUnauthorized: false } });
bare.get('/fixed', async (_req, reply) => reply.header('content-type', 'application/fhir+json').send(body));
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareAddress = bare.server.address();

const server = await startFhirServer(readFhirServerConfig(env), {
  log: (l) => console.log(l),
  routes(app, deps) {
    // DSF_LADDER_SEARCH_POLLS=n: the search coalescer waits n more passes of the event loop (an A/B of extraPolls).
    if (env.DSF_LADDER_SEARCH_POLLS) Object.assign(deps.service.store, { searchStatements: new StatementCoalescer(MAX_COALESCED_STATEMENTS, Number(env.DSF_LADDER_SEARCH_POLLS)) });
    app.post('/_ladder/body', async (req: FastifyRequest, reply: FastifyReply) => {
      body = req.body as string;
      return reply.code(204).send();
    });
    app.post('/_ladder/search-body', async (req: FastifyRequest, reply: FastifyReply) => {
      searchBody = req.body as string;
      return reply.code(204).send();
    });
    // The coalescers' counters (db/turn-batches.ts), for batch statements per request.
    app.get('/_ladder/stats', async (_req, reply) => reply.send({ reads: deps.service.store.currentReads.stats, searches: deps.service.store.searchStatements.stats }));
    // The main thread's time in and out of the event loop's wait so far (ms), for its idle share in a segment.
    app.get('/_ladder/elu', async (_req, reply) => reply.send(performance.eventLoopUtilization()));
    // Collections so far and the young generation's size now (bench/read-costs.ts prints them at the end).
    app.get('/_ladder/gc', async (_req, reply) => reply.send({ ...gc, newSpaceMiB: (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20 }));
    // A search's URL (its query string parsed) and a searchset's bytes, through our app's hooks, without the search.
    app.get('/_ladder/search-fixed/:type', async (_req, reply) => sendJsonText(reply, 200, searchBody));
    // Our app's hooks (identity, scope, log line, metrics) around a fixed answer.
    app.get('/_ladder/fixed', async (_req, reply) => sendJsonText(reply, 200, body));
    // + the request context (authorization) and route parameters.
    app.get<{ Params: Params }>('/_ladder/context/:type/:id', async (req, reply) => {
      await deps.context(req);
      return sendJsonText(reply, 200, body);
    });
    // + the read's service and store call (coalesced statement), its text sent without version headers.
    app.get<{ Params: Params }>('/_ladder/store/:type/:id', async (req, reply) => {
      const ctx = await deps.context(req);
      const r = await deps.service.readJson(ctx, requestDatabase(req, deps.service.store.pool), req.params.type, req.params.id);
      return sendJsonText(reply, 200, r.json ?? body);
    });
  },
});
console.log(`BARE ${typeof bareAddress === 'object' && bareAddress ? bareAddress.port : 0}`);
const stop = async () => {
  await bare.close();
  await server.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
