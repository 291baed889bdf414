// Starts a site's FHIR server: database (external or embedded), migrations, DSF core resources,
// the initial bundle, and the HTTPS listener.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { createPool, ensureDatabase, withDatabase } from '../db/pool.ts';
import { migrate } from '../db/migrate.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import { DEFAULT_MAX_BINARY_BYTES, type FhirServerConfig } from './config.ts';
import { FHIR_MIGRATIONS } from './store/schema.ts';
import { ResourceStore } from './store/resource-store.ts';
import { composeWriteHooks, Interactions, type RequestContext, type WriteHooks } from './rest/interactions.ts';
import { BundleProcessor } from './rest/batch.ts';
import { createFhirApp } from './rest/app.ts';
import { capabilityStatement } from './rest/capability.ts';
import { defaultProfileFor, loadCoreResources } from './conformance/core-resources.ts';
import { readInitBundle, sitesBundle } from './init-bundle.ts';
import { ConformanceCache } from './conformance/conformance-cache.ts';
import { WritePreparation } from './rest/write-preparation.ts';
import { BinaryStore } from './store/binary-store.ts';
import { BinaryInteractions } from './rest/binary-interactions.ts';
import { registerBinaryRoutes } from './rest/binary-routes.ts';

export const SERVER_VERSION = '0.1.0';

export interface RunningFhirServer {
  app: FastifyInstance;
  pool: pg.Pool;
  store: ResourceStore;
  interactions: Interactions;
  config: FhirServerConfig;
  /** The address actually listened on (port 0 resolved). */
  port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this pool instead of opening one from the configuration. */
  pool?: pg.Pool;
  log?: (msg: string) => void;
}

/** The conditional-create criteria that identify a core conformance resource. */
function identityCriteria(r: Record<string, any>): string | undefined {
  if (typeof r.url === 'string' && r.resourceType !== 'Subscription') return new URLSearchParams({ url: r.url, ...(r.version ? { version: r.version } : {}) }).toString();
  if (r.resourceType === 'NamingSystem' && r.name) return new URLSearchParams({ name: r.name }).toString();
  if (r.resourceType === 'Subscription') {
    return new URLSearchParams({ 'criteria:exact': r.criteria, type: r.channel?.type ?? '', payload: r.channel?.payload ?? '' }).toString();
  }
  return undefined;
}

export function coreResourcesBundle(resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r): BundleEntry => {
      const { id: _id, ...rest } = r as Resource & { id?: string };
      return { resource: rest as Resource, request: { method: 'POST', url: r.resourceType, ifNoneExist: identityCriteria(r) } };
    }),
  };
}

export async function startFhirServer(config: FhirServerConfig, opts: StartOptions = {}): Promise<RunningFhirServer> {
  const log = opts.log ?? (() => {});
  let embedded: EmbeddedDatabase | undefined;
  let pool = opts.pool;
  const ownPool = !pool;
  if (!pool) {
    let url = config.dbUrl;
    if (!url) {
      log('starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres(join(config.dataDir, 'postgres'));
      url = withDatabase(embedded.url, 'fhir');
    }
    await ensureDatabase(url);
    pool = createPool(url, 20);
  }
  log('migrating database');
  await migrate(pool, 'fhir', FHIR_MIGRATIONS);

  const store = new ResourceStore(pool, config.baseUrl);
  const localContext: RequestContext = { strict: false };

  // Core resources are loaded without validation (they define it), then every write is validated.
  log('loading DSF core conformance resources');
  await new BundleProcessor(new Interactions(store, config.pageCount)).process({ strict: true }, coreResourcesBundle(loadCoreResources()), 'minimal');
  const conformance = new ConformanceCache();
  await conformance.load(pool);
  const preparation = new WritePreparation(conformance);
  // Write hooks run in this order: validation first; authorization, read access and events add theirs.
  const writeHooks: WriteHooks[] = [preparation.hooks()];
  // Binary content lives in large objects; inline base64 is bounded like request bodies.
  const binaryLimits = { maxBytes: config.maxBinaryBytes ?? DEFAULT_MAX_BINARY_BYTES, inlineBytes: config.maxBodyBytes };
  const interactions = new BinaryInteractions(store, config.pageCount, composeWriteHooks(...writeHooks), new BinaryStore(pool), binaryLimits);
  const bundles = new BundleProcessor(interactions);

  const initBundle = config.initBundle
    ? readInitBundle(config.initBundle, { ...config.env, DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT: config.organizationThumbprint ?? config.env.DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT })
    : config.organizationThumbprint
      ? sitesBundle([{ organizationIdentifier: config.organizationIdentifier, thumbprints: [config.organizationThumbprint], fhirBaseUrl: config.baseUrl }])
      : undefined;
  if (initBundle) {
    log(config.initBundle ? `applying initial bundle ${config.initBundle}` : 'creating the local Organization and Endpoint');
    await bundles.process({ strict: true }, initBundle, 'minimal');
  }

  const capability = capabilityStatement(config.baseUrl, SERVER_VERSION, defaultProfileFor);
  const prefix = new URL(config.baseUrl).pathname.replace(/\/$/, '');
  const app = createFhirApp(
    { interactions, bundles, capability: () => capability, context: async () => localContext, extraRoutes: registerBinaryRoutes },
    {
      prefix,
      maxBodyBytes: config.maxBodyBytes,
      https: {
        cert: config.serverCertificate,
        key: config.serverCertificateKey,
        ca: config.trustedClientCas.length ? config.trustedClientCas : undefined,
        requestCert: true,
        rejectUnauthorized: false,
      },
    },
  );
  await app.listen({ host: config.apiHost, port: config.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.apiPort;
  log(`listening on https://${config.apiHost}:${port}${prefix}`);

  return {
    app,
    pool,
    store,
    interactions,
    config,
    port,
    async close() {
      await app.close();
      if (ownPool) await pool!.end();
      await embedded?.stop();
    },
  };
}
