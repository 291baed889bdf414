// Builds the ProcessPluginApi object each plugin's activities receive: shared clients and look-ups,
// a logger named after the plugin.
import {
  QuestionnaireResponseHelper,
  ReadAccessHelper,
  TaskHelper,
  type CompressionService,
  type CryptoService,
  type DataLogger,
  type DsfClientProvider,
  type MailService,
  type MimeTypeService,
  type ProcessPluginApi,
} from '../../plugin-api/index.ts';
import { FhirEndpointProvider } from '../services/endpoint-provider.ts';
import type { BpeLogger } from '../services/logging.ts';
import type { FhirOrganizationProvider } from '../services/organization-provider.ts';
import { FhirTargetProvider } from '../services/target-provider.ts';
import { pluginLabel, type LoadedPlugin } from './loaded-plugin.ts';

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
}

export function createProcessPluginApi(plugin: LoadedPlugin, shared: SharedServices): ProcessPluginApi {
  const local = shared.clients.getLocal();
  const logger = shared.logger.child(pluginLabel(plugin));
  return {
    processPluginDefinition: {
      name: plugin.name,
      version: plugin.version,
      resourceVersion: plugin.resourceVersion,
      releaseDate: plugin.releaseDate,
      draft: plugin.draft,
    },
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
  };
}
