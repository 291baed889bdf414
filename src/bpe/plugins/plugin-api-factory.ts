// Builds the ProcessPluginApi object each plugin's activities receive: shared clients and look-ups,
// a logger named after the plugin, the plugin's properties.
import {
  jsonMapper,
  ProcessAuthorizationHelper,
  QuestionnaireResponseHelper,
  ReadAccessHelper,
  TaskHelper,
  type ClientConfigProvider,
  type CompressionService,
  type CryptoService,
  type DataLogger,
  type DsfClientProvider,
  type FhirClientProvider,
  type MailService,
  type MimeTypeService,
  type OidcClientProvider,
  type ProcessPluginApi,
  type ProxyConfig,
  type ValidationServiceProvider,
} from '../../plugin-api/index.ts';
import { createProxyConfig } from '../../plugin-api/proxy-config.ts';
import { FhirEndpointProvider } from '../services/endpoint-provider.ts';
import { fhirFormats } from '../services/fhir-formats.ts';
import type { BpeLogger } from '../services/logging.ts';
import type { FhirOrganizationProvider } from '../services/organization-provider.ts';
import { FhirTargetProvider } from '../services/target-provider.ts';
import { FhirPackageValidationServiceProvider } from '../services/validation-service-provider.ts';
import { pluginLabel, type LoadedPlugin } from './loaded-plugin.ts';
import { pluginProperties } from './plugin-properties.ts';

/** What configured connections offer (ConfiguredClients implements all three). */
export type ConnectionServices = ClientConfigProvider & FhirClientProvider & OidcClientProvider;

export interface SharedServices {
  localBaseUrl: string;
  clients: DsfClientProvider;
  organizations: FhirOrganizationProvider;
  mail: MailService;
  logger: BpeLogger;
  dataLogger: DataLogger;
  crypto: CryptoService;
  compression: CompressionService;
  mimeTypes: MimeTypeService;
  /** Defaults: no proxy, no configured connections, validation disabled, an empty environment. */
  proxy?: ProxyConfig;
  connections?: ConnectionServices;
  validation?: ValidationServiceProvider;
  env?: Record<string, string | undefined>;
}

const NO_CONNECTIONS: ConnectionServices = {
  createDefaultSslContext: () => {
    throw new Error('no FHIR server connections configured');
  },
  createDefaultTrustStore: () => {
    throw new Error('no FHIR server connections configured');
  },
  getClientConfig: async () => undefined,
  getById: async () => undefined,
  getOidcClient: () => {
    throw new Error('no OIDC client provider configured');
  },
  getOidcClientFor: () => {
    throw new Error('no OIDC client provider configured');
  },
};

export function createProcessPluginApi(plugin: LoadedPlugin, shared: SharedServices): ProcessPluginApi {
  const local = shared.clients.getLocal();
  const logger = shared.logger.child(pluginLabel(plugin));
  const connections = shared.connections ?? NO_CONNECTIONS;
  // Callers that build a LoadedPlugin by hand may leave the definition out.
  const d: Partial<LoadedPlugin['definition']> = plugin.definition ?? {};
  return {
    processPluginDefinition: Object.freeze({
      name: plugin.name,
      version: plugin.version,
      resourceVersion: plugin.resourceVersion,
      releaseDate: plugin.releaseDate,
      resourceReleaseDate: plugin.resourceReleaseDate,
      draft: plugin.draft,
      title: d.title,
      publisher: d.publisher,
      publisherEmail: d.publisherEmail,
      license: d.license,
    }),
    dsfClientProvider: shared.clients,
    organizationProvider: shared.organizations,
    endpointProvider: new FhirEndpointProvider(local, shared.localBaseUrl, shared.organizations),
    targetProvider: new FhirTargetProvider(local, shared.organizations),
    taskHelper: new TaskHelper(shared.localBaseUrl),
    questionnaireResponseHelper: new QuestionnaireResponseHelper(shared.localBaseUrl),
    readAccessHelper: new ReadAccessHelper(),
    mailService: shared.mail,
    logger,
    dataLogger: shared.dataLogger,
    cryptoService: shared.crypto,
    compressionService: shared.compression,
    mimeTypeService: shared.mimeTypes,
    proxyConfig: shared.proxy ?? createProxyConfig({}),
    fhirClientProvider: connections,
    fhirClientConfigProvider: connections,
    oidcClientProvider: connections,
    processAuthorizationHelper: new ProcessAuthorizationHelper(),
    validationServiceProvider: shared.validation ?? new FhirPackageValidationServiceProvider(false),
    fhirContext: fhirFormats,
    objectMapper: jsonMapper,
    properties: pluginProperties(d.properties, shared.env ?? {}),
  };
}
