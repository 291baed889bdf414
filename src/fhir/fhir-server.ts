// Starts a site's FHIR server: database (external or embedded), migrations, DSF core resources,
// the initial bundle, and the HTTPS listener.
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino, type DestinationStream } from 'pino';
import { batchedLogDestination } from '../common/batched-log-destination.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { createPool, ensureDatabase, withDatabase } from '../db/pool.ts';
import { usePreparedStatements } from '../db/prepared-statements.ts';
import { migrate } from '../db/migrate.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import { DEFAULT_LIMITS, DEFAULT_MAX_BINARY_BYTES, type FhirServerConfig } from './config.ts';
import { RequestScopes } from '../db/request-scope.ts';
import { serveDataRepositoryTypes } from './model/resource-types.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from './store/schema.ts';
import { ResourceStore } from './store/resource-store.ts';
import { DEFAULT_WRITE_GROUP_LIMITS } from './store/write-groups.ts';
import { FhirService } from './service/fhir-service.ts';
import type { RequestContext } from './service/request-context.ts';
import { composeWriteHooks, type WriteHooks } from './service/write-hooks.ts';
import { BundleProcessor } from './service/bundle-processor.ts';
import { createFhirApp } from './rest/app.ts';
import type { RouteDeps } from './rest/routes.ts';
import { capabilityStatement, withSupportedProfiles } from './service/capability.ts';
import { loadCoreResources } from './conformance/core-resources.ts';
import { behaviourOf, defaultProfileOf, identityCriteriaOf, uniqueKeysOf } from './types/registry.ts';
import { siteOf } from './types/site.ts';
import { readInitBundle, sitesBundle } from './init-bundle.ts';
import { ConformanceCache } from './conformance/conformance-cache.ts';
import { WritePreparation } from './service/write-preparation.ts';
import { authorizationContext, authorizationHooks } from './auth/authorization.ts';
import { snapshotOperation } from './service/operations/snapshot.ts';
import { permanentDeleteOperation } from './service/operations/permanent-delete.ts';
import { IdentityProvider } from './auth/identity-provider.ts';
import { OidcBearerVerifier } from './auth/oidc-bearer.ts';
import { defaultAuthConfig } from './auth/auth-config.ts';
import type { Identity } from './types/identity.ts';
import { startEventDelivery, type EventDelivery } from './events/event-delivery.ts';
import { BinaryStore } from './store/binary-store.ts';
import { ContentHandling } from './service/content.ts';
import { registerContentRoutes } from './rest/content-routes.ts';
import { registerOperationRoutes } from './rest/operation-routes.ts';
import { ReferenceChecks } from './references/reference-checks.ts';
import { referenceCheckHooks } from './service/reference-check-hooks.ts';
import { startStatusServer, type StatusServer } from '../common/status-server.ts';
import type { Registry } from 'prom-client';
import { createFhirMetrics } from './fhir-metrics.ts';
import { trackConnections } from './rest/connection-drain.ts';
import { useRequestIdentity } from './rest/request-identity.ts';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
import { isStaticAssetUrl } from './ui/static-assets.ts';
import { LOGIN_PATHS, registerLoginRoutes } from './ui/login-routes.ts';
import { crossSiteGuard, csrfGuard } from './ui/cross-site-guard.ts';
import { OidcLogin, SESSION_COOKIE } from '../common/web/oidc-login.ts';
import { cookieValue } from '../common/web/cookies.ts';
import { pageUser } from './ui/ui-context.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, RemoteReferenceClient } from './references/remote-reference-client.ts';

export const SERVER_VERSION = '0.1.0';

export interface RunningFhirServer {
  app: FastifyInstance;
  pool: pg.Pool;
  store: ResourceStore;
  /** The FHIR interactions without HTTP (what routes, bundles and operations call). */
  service: FhirService;
  /** Resolves request identities (also for websockets); its cache is cleared by write hooks. */
  identities: IdentityProvider;
  config: FhirServerConfig;
  /** Subscriptions and websocket event delivery. */
  events: EventDelivery;
  /** The address actually listened on (port 0 resolved). */
  port: number;
  /** Prometheus metrics (served on the status port). */
  metrics: Registry;
  /** The status port's server, when DEV_DSF_SERVER_STATUS_PORT is set. */
  status?: StatusServer;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this pool instead of opening one from the configuration. */
  pool?: pg.Pool;
  /** Start-up progress. */
  log?: (msg: string) => void;
  /** Where the server's log lines (pino, JSON a line) go; standard output when not given. */
  logDestination?: DestinationStream;
  /** More routes under the base path, before the generic ones (bench/read-costs.ts's probes). */
  routes?: (app: FastifyInstance, deps: RouteDeps) => void;
}

/** The caller as request log lines name it: an organisation by its identifier; a user by a pseudonym, not by name or e-mail. */
function callerLabel(identity: Identity | undefined): string | undefined {
  if (!identity) return undefined;
  if (identity.kind === 'organization') return identity.organizationIdentifier;
  const who = identity.thumbprint ?? createHash('sha256').update(identity.email ?? identity.displayName).digest('hex');
  return `user:${who.slice(0, 16)}@${identity.organizationIdentifier}`;
}

export function coreResourcesBundle(resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r): BundleEntry => {
      const { id: _id, ...rest } = r as Resource & { id?: string };
      return { resource: rest as Resource, request: { method: 'POST', url: r.resourceType, ifNoneExist: identityCriteriaOf(r) } };
    }),
  };
}

export async function startFhirServer(config: FhirServerConfig, opts: StartOptions = {}): Promise<RunningFhirServer> {
  const log = opts.log ?? (() => {});
  const logger = pino(
    {
      level: config.logLevel ?? 'info',
      // PostgreSQL's `detail` quotes the row or value an error concerns (resource content).
      serializers: { err: (err: Error) => ({ ...pino.stdSerializers.err(err), detail: undefined }) },
    },
    opts.logDestination ?? batchedLogDestination(1),
  );
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  if (config.dataRepository) serveDataRepositoryTypes();
  let embedded: EmbeddedDatabase | undefined;
  let pool = opts.pool;
  const ownPool = !pool;
  if (!pool) {
    let url = config.dbUrl;
    if (!url) {
      log('starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres(join(config.dataDir, 'postgres'), { log });
      url = withDatabase(embedded.url, 'fhir');
    }
    await ensureDatabase(url);
    pool = createPool(url, limits.databasePoolMax, { waitTimeoutMs: limits.databasePoolWaitTimeoutMs });
  }
  // Statements are prepared once per connection (after the migrations, which are not parameterised).
  usePreparedStatements(pool, { maxPerConnection: limits.preparedStatements });
  log('migrating database');
  await migrate(pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(pool, 'fhir-events', EVENT_MIGRATIONS);

  // Requests reach the database through scopes: statement timeout, cancellation when the client goes.
  const scopes = new RequestScopes(pool, {
    statementTimeoutMs: limits.statementTimeoutMs,
    onCancelError: (err) => logger.warn({ err }, 'cancelling the statement of an abandoned request failed'),
  });
  const store = new ResourceStore(pool, config.baseUrl, {
    uniqueKeys: uniqueKeysOf,
    writeGroups: { ...DEFAULT_WRITE_GROUP_LIMITS, maxInFlight: limits.writeGroupStatements },
    indexWarning: ({ resourceType, id, param, error }) =>
      // Not the message: it may quote the value.
      logger.warn({ resourceType, id, param, error: error.name }, 'a search parameter value could not be indexed'),
  });

  // Content of types with content storage (Binary) lives in large objects; inline base64 is bounded like request bodies.
  const content = new ContentHandling(new BinaryStore(pool), { maxBytes: config.maxBinaryBytes ?? DEFAULT_MAX_BINARY_BYTES, inlineBytes: config.maxBodyBytes });

  // Core resources are loaded without validation (they define it), then every write is validated.
  log('loading DSF core conformance resources');
  await new BundleProcessor(new FhirService(store, content, config.pageCount)).process({ strict: true }, coreResourcesBundle(loadCoreResources()), 'minimal');
  const conformance = new ConformanceCache();
  await conformance.load(pool);
  const preparation = new WritePreparation(conformance);
  store.onSettled((client, committed) => preparation.settled(client, committed));
  const auth = config.auth ?? defaultAuthConfig();
  const oidcLogin = auth.oidcLogin ? new OidcLogin(auth.oidcLogin) : undefined;
  const identities = new IdentityProvider({
    pool,
    localOrganizationIdentifier: config.organizationIdentifier,
    trustedClientCas: config.trustedClientCas,
    roleConfig: auth.roleConfig,
    clientCertificateHeader: auth.clientCertificateHeader,
    trustedProxyAddresses: auth.trustedProxyAddresses,
    oidc: auth.oidc ? new OidcBearerVerifier(auth.oidc) : undefined,
    sessions: oidcLogin,
  });
  // Literal references to other sites with a known Endpoint are checked there, with this site's client certificate.
  const remote = new RemoteReferenceClient(config.client ?? { trustedServerCas: [], connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, readTimeoutMs: DEFAULT_READ_TIMEOUT_MS });
  if (!config.client?.certificate || !config.client.privateKey) log('no client certificate and key configured: references to other sites cannot be checked and are refused');
  const references = new ReferenceChecks({ baseUrl: config.baseUrl, remote, log, uncheckedOnUpdate: (r) => behaviourOf(r.resourceType).uncheckedReferencesOnUpdate?.(r) });
  // Write hooks run in this order, as the reference's layers: the structural check (400), authorization
  // and the Subscription rules (403), default profile and validation (422), then the reference checks
  // (after authorization, before the write). A caller who may not write gets 403 and learns nothing
  // from validation messages.
  const writeHooks: WriteHooks[] = [
    preparation.shapeHooks(),
    authorizationHooks(siteOf(config)),
    preparation.hooks(),
    referenceCheckHooks(references),
    identities.hooks(),
  ];
  const service = new FhirService(store, content, config.pageCount, composeWriteHooks(...writeHooks));
  service.searchLimits = { maxParameters: limits.maxSearchParameters, maxValues: limits.maxSearchValues, maxPageBytes: limits.maxPageBytes };
  const bundles = new BundleProcessor(service, { statementTimeoutMs: limits.statementTimeoutMs });

  const initBundle = config.initBundle
    ? readInitBundle(config.initBundle, { ...config.env, DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT: config.organizationThumbprint ?? config.env.DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT })
    : config.organizationThumbprint
      ? sitesBundle([{ organizationIdentifier: config.organizationIdentifier, thumbprints: [config.organizationThumbprint], fhirBaseUrl: config.baseUrl }])
      : undefined;
  if (initBundle) {
    log(config.initBundle ? `applying initial bundle ${config.initBundle}` : 'creating the local Organization and Endpoint');
    try {
      await bundles.process({ strict: true }, initBundle, 'minimal');
    } catch (e) {
      remote.close();
      throw e;
    }
  }

  log('starting event delivery');
  const events = await startEventDelivery(pool, config.baseUrl, { pingIntervalMs: config.websocketPingIntervalMs, log, observers: [identities] });
  // The other processes are told of a committed write; it is read from the change stream at once when someone here waits for it.
  store.onCommittedWrites((types) => events.committed(types));

  // Operations as data: their routes and the CapabilityStatement's entries are derived from this list.
  const operations = [snapshotOperation(service, (url) => conformance.structureDefinition(url)), permanentDeleteOperation(service)];
  const capability = capabilityStatement(config.baseUrl, SERVER_VERSION, defaultProfileOf, operations);
  const prefix = new URL(config.baseUrl).pathname.replace(/\/$/, '');
  // Every request, /metadata and unknown routes included, is authenticated before anything else runs.
  const contextOf = (identity: Identity): RequestContext => ({ strict: false, identity, ...authorizationContext(identity, config) });
  // Without a promise when the onRequest hook found the identity (every authenticated request).
  const context = (req: FastifyRequest): RequestContext | Promise<RequestContext> => {
    const identity = req.identity;
    return identity ? contextOf(identity) : identities.resolve(req).then(contextOf);
  };
  const uiSite = { baseUrl: config.baseUrl, organization: config.organizationIdentifier, bpeUiUrl: config.bpeUiUrl, oidcLogin: !!oidcLogin };
  // Routes registered before the generic ones: the operations, the websocket, raw content of types with content storage.
  const extraRoutes: ((app: FastifyInstance, deps: RouteDeps) => void)[] = [
    (a, d) => registerOperationRoutes(a, d, operations),
    (a) => events.routes(a, async (req) => context(req)),
    registerContentRoutes,
    (a) => {
      if (oidcLogin) registerLoginRoutes(a, uiSite, oidcLogin);
    },
    (a, d) => opts.routes?.(a, d),
  ];
  const metrics = createFhirMetrics(pool, () => events.manager.sessionCount, () => store.writeGroups.stats);
  // The cross-site guard, then the identity: run in the app's one onRequest hook, after the request scope.
  const guard = crossSiteGuard(config.baseUrl);
  const authenticate = (req: FastifyRequest, done: (err?: Error) => void) => {
    // The pages' static files and the sign-in routes need no identity.
    if (isStaticAssetUrl(req.url, prefix) || (oidcLogin && LOGIN_PATHS.includes(req.url.split('?')[0]!.slice(prefix.length)))) return done();
    // A cached identity without a promise (most requests); resolve() for everything else.
    const cached = identities.resolveCached(req);
    if (cached) {
      req.identity = cached;
      return done();
    }
    identities.resolve(req).then((identity) => {
      req.identity = identity;
      done();
    }, done);
  };
  const app = createFhirApp(
    { service, bundles, capability: () => withSupportedProfiles(capability, conformance.resourceProfiles()), context, extraRoutes: (a, d) => extraRoutes.forEach((register) => register(a, d)) },
    {
      prefix,
      maxBodyBytes: config.maxBodyBytes,
      logger,
      caller: (req) => callerLabel(req.identity ?? undefined),
      onResponse: (req, reply, route, ms) => metrics.request(req.method, route, reply.statusCode, ms),
      onRequest: (req, _reply, done) => {
        const refusal = guard(req);
        if (refusal) return done(refusal);
        authenticate(req, done);
      },
      timeouts: { headersMs: limits.headersTimeoutMs, requestMs: limits.requestTimeoutMs, keepAliveMs: limits.keepAliveTimeoutMs },
      scopes,
      statementTimeoutMs: limits.statementTimeoutMs,
      ui: {
        site: uiSite,
        userOf: (req) => {
          const identity = req.identity;
          return identity ? pageUser(identity, identities.isSession(req)) : undefined;
        },
        csrfTokenOf: (req) => {
          const session = oidcLogin && cookieValue(req.headers.cookie, SESSION_COOKIE);
          return session ? oidcLogin.csrf.forSession(session) : undefined;
        },
      },
      https: {
        cert: config.serverCertificate,
        key: config.serverCertificateKey,
        ca: config.trustedClientCas.length ? config.trustedClientCas : undefined,
        requestCert: true,
        rejectUnauthorized: false,
      },
    },
  );
  useRequestIdentity(app);
  if (oidcLogin) app.addHook('preValidation', csrfGuard(oidcLogin.csrf));
  const connections = trackConnections(app);
  let status: StatusServer | undefined;
  try {
    await app.listen({ host: config.apiHost, port: config.apiPort });
    if (config.statusPort !== undefined) {
      const db = pool;
      status = await startStatusServer({
        host: config.statusHost ?? '127.0.0.1',
        port: config.statusPort,
        registry: metrics.registry,
        status: async () => {
          await db.query('SELECT 1');
          return { ok: true, details: { server: 'fhir', baseUrl: config.baseUrl, organization: config.organizationIdentifier, websocketClients: events.manager.sessionCount } };
        },
      });
      log(`status port ${status.url}/status and /metrics`);
    }
  } catch (e) {
    await app.close().catch(() => {});
    await events.stop(); // its LISTEN connection would keep the process alive
    remote.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.apiPort;
  log(`listening on https://${config.apiHost}:${port}${prefix}`);

  return {
    app,
    pool,
    store,
    service,
    identities,
    config,
    events,
    port,
    metrics: metrics.registry,
    status,
    async close() {
      // Graceful: websockets told the server goes away (1001), requests in flight answered, then the rest.
      events.manager.closeAll(1001, 'Server shutting down');
      const { forced } = await connections.drain(config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
      if (forced) logger.warn({ connections: forced }, 'connections still open at the end of the shutdown timeout were closed');
      await app.close();
      await status?.close();
      await events.stop();
      remote.close();
      if (ownPool) await pool!.end();
      await embedded?.stop();
    },
  };
}
