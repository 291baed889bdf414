// The BPE without its connection to the FHIR server's events: clients, services, plugin manager and
// the process engine, wired so plugin activities run as engine delegates.
import type pg from 'pg';
import { ProcessEngine, migrateEngine, type EngineHooks, type JobExecutorOptions } from './engine/index.ts';
import type { BpeConfig } from './config.ts';
import { BpeDsfClientProvider } from './client/dsf-client-provider.ts';
import { PluginManager, type PluginDeploymentResult } from './plugins/plugin-manager.ts';
import { migrateBpe } from './schema.ts';
import { FhirOrganizationProvider } from './services/organization-provider.ts';
import { createMailService } from './services/mail-factory.ts';
import type { BpeLogger } from './services/logging.ts';
import type { MailService } from '../plugin-api/index.ts';
import { createCompressionService } from './api-services/compression/compression-service.ts';
import { createCryptoService } from './api-services/crypto/crypto-service.ts';
import { createDataLogger, type ClosableDataLogger } from './api-services/data-logger/data-logger.ts';
import { createMimeTypeService } from './api-services/mime-type/mime-type-service.ts';
import { createConfiguredClients, type ConfiguredClients } from './client/configured-clients.ts';
import { DEFAULT_OIDC_CACHE, DEFAULT_PACKAGE_CACHE, defaultConnectionDefaults } from './config.ts';
import { FhirEndpointProvider } from './services/endpoint-provider.ts';
import { FhirPackageValidationServiceProvider } from './services/validation-service-provider.ts';
import { createProxyConfig } from '../plugin-api/proxy-config.ts';

export interface BpeCore {
  config: BpeConfig;
  pool: pg.Pool;
  clients: BpeDsfClientProvider;
  organizations: FhirOrganizationProvider;
  /** The configured FHIR server connections (getById, client configs, OIDC clients). */
  connections: ConfiguredClients;
  plugins: PluginManager;
  engine: ProcessEngine;
  logger: BpeLogger;
  /** Loads and deploys the plugins (processes, states, FHIR resources). */
  deployPlugins(): Promise<PluginDeploymentResult>;
  close(): void;
}

export interface CoreOptions {
  /** Hooks of the Task bookkeeping (added by the server). */
  hooks?: EngineHooks;
  jobs?: JobExecutorOptions;
  mail?: MailService;
  /** Clients to use (the server creates them first, for its hooks). */
  clients?: BpeDsfClientProvider;
}

export async function createBpeCore(config: BpeConfig, pool: pg.Pool, logger: BpeLogger, options: CoreOptions = {}): Promise<BpeCore> {
  await migrateEngine(pool);
  await migrateBpe(pool);
  const clients = options.clients ?? new BpeDsfClientProvider(config);
  const organizations = new FhirOrganizationProvider(clients.getLocal(), config.fhirServerBaseUrl);
  const crypto = createCryptoService();
  const proxy = config.proxy ?? createProxyConfig({});
  const endpoints = new FhirEndpointProvider(clients.getLocal(), config.fhirServerBaseUrl, organizations);
  const connections = await createConfiguredClients({
    specs: config.clientConnections?.specs ?? [],
    defaults: config.clientConnections?.defaults ?? defaultConnectionDefaults(config.trustedServerCas),
    dsf: { certificatePem: config.clientCertificate, privateKeyPem: config.clientCertificateKey, privateKeyPassword: config.clientCertificateKeyPassword, trustedCas: config.trustedServerCas },
    proxy,
    crypto,
    oidcCache: config.oidcCache ?? DEFAULT_OIDC_CACHE,
    endpointAddress: (identifier) => endpoints.getEndpointAddress(identifier),
    localBaseUrl: config.fhirServerBaseUrl,
    log: logger.child('fhir-connections'),
  });
  clients.attachConfiguredClients(connections);
  const dataLogger: ClosableDataLogger = createDataLogger(config.dataLogger);
  const plugins = new PluginManager(
    pool,
    {
      localBaseUrl: config.fhirServerBaseUrl,
      clients,
      organizations,
      mail: options.mail ?? createMailService(config, logger),
      logger,
      dataLogger,
      crypto,
      compression: createCompressionService(),
      mimeTypes: createMimeTypeService({ warn: (m) => logger.warn(m) }),
      proxy,
      connections,
      validation: new FhirPackageValidationServiceProvider(config.fhirValidationEnabled ?? false, config.fhirPackageCache ?? DEFAULT_PACKAGE_CACHE),
      env: config.env,
    },
    logger.child('plugins'),
  );
  const engine = new ProcessEngine({
    pool,
    delegates: plugins.activities.registry,
    hooks: { afterUserTaskCreated: (task, node) => plugins.activities.afterUserTaskCreated(task, node), ...options.hooks },
    jobs: { workers: config.jobWorkers, ...options.jobs },
  });
  plugins.attach(engine);
  const retrying = config.fhirServerRetryMax < 0 ? clients.getLocal().withRetryForever(config.fhirServerRetrySleepMs) : clients.getLocal().withRetry(config.fhirServerRetryMax, config.fhirServerRetrySleepMs);
  return {
    config,
    pool,
    clients,
    organizations,
    connections,
    plugins,
    engine,
    logger,
    deployPlugins: () =>
      plugins.deploy({
        directories: [config.pluginDirectory, ...config.extraPluginDirectories],
        excluded: config.excluded,
        retired: config.retired,
        env: config.env,
        deploymentClient: retrying,
      }),
    close: () => {
      connections.close();
      clients.close();
      void dataLogger.close();
    },
  };
}
