// The services the BPE hands to every activity (the reference's v2 ProcessPluginApi). Contracts only;
// the BPE server implements them.
import type { Endpoint, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import type { FhirClient } from './fhir-client.ts';
import type { QuestionnaireResponseHelper } from './questionnaire-response-helper.ts';
import type { ReadAccessHelper } from './read-access-helper.ts';
import type { TaskHelper } from './task-helper.ts';
import type { Targets } from './targets.ts';
import type { CompressionService } from './services/compression.ts';
import type { CryptoService } from './services/crypto.ts';
import type { DataLogger } from './services/data-logger.ts';
import type { MimeTypeService } from './services/mime-type.ts';

/** FHIR clients presenting the organisation's client certificate. */
export interface DsfClientProvider {
  /** The site's own FHIR server. */
  getLocal(): FhirClient;
  /** Another site's FHIR server by its base URL (Endpoint.address). */
  getByEndpointUrl(baseUrl: string): FhirClient;
  getByEndpoint(endpoint: Endpoint): FhirClient;
}

/** Organisations as the local FHIR server knows them (active ones only). */
export interface OrganizationProvider {
  /** The Organization whose active Endpoint has the local FHIR server's base URL as address. */
  getLocalOrganization(): Promise<Organization | undefined>;
  getLocalOrganizationIdentifierValue(): Promise<string | undefined>;
  getOrganization(identifierValue: string): Promise<Organization | undefined>;
  /** Member organisations of a parent organisation, optionally only those with a role (organization-role code). */
  getOrganizations(parentIdentifierValue: string, memberRoleCode?: string): Promise<Organization[]>;
  /** Every active Organization other than the local one. */
  getRemoteOrganizations(): Promise<Organization[]>;
  /** Organisations that are the parent of an active OrganizationAffiliation. */
  getParentOrganizations(): Promise<Organization[]>;
}

export interface EndpointProvider {
  /** The local FHIR server's base URL. */
  getLocalEndpointAddress(): string;
  getLocalEndpoint(): Promise<Endpoint | undefined>;
  getLocalEndpointIdentifierValue(): Promise<string | undefined>;
  getEndpoint(identifierValue: string): Promise<Endpoint | undefined>;
  getEndpointAddress(identifierValue: string): Promise<string | undefined>;
  /** Endpoints of the members of a parent organisation (through their affiliations), optionally by role. */
  getEndpoints(parentIdentifierValue: string, memberRoleCode?: string): Promise<Endpoint[]>;
  /** Every active Endpoint other than the local one. */
  getRemoteEndpoints(): Promise<Endpoint[]>;
}

/** One affiliation found while building targets; filters decide which become targets. */
export interface TargetCandidate {
  affiliation: OrganizationAffiliation | undefined;
  member: Organization;
  endpoint: Endpoint;
}

export interface TargetsBuilder {
  filter(predicate: (candidate: TargetCandidate) => boolean): TargetsBuilder;
  /** Targets each with a new random correlation key. */
  withCorrelationKey(): Promise<Targets>;
  withoutCorrelationKey(): Promise<Targets>;
}

/** Builds Targets from the members (and their endpoints) of a parent organisation. */
export interface TargetProvider {
  create(parentIdentifierValue: string, memberRoleCode?: string, memberIdentifierValues?: readonly string[]): TargetsBuilder;
  /** Every active remote organisation with its active endpoint(s). */
  createForRemoteOrganizations(): TargetsBuilder;
}

/** E-mail to the configured recipients; without an SMTP server the mail goes to the log. */
export interface MailService {
  send(subject: string, message: string, to?: string | readonly string[]): Promise<void>;
}

/** Messages for the operator's log (no resource contents: use DataLogger for those). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The definition values a running activity may want to know. */
export interface ProcessPluginInfo {
  readonly name: string;
  readonly version: string;
  readonly resourceVersion: string;
  readonly releaseDate: string;
  readonly draft: boolean;
}

export interface ProcessPluginApi {
  readonly processPluginDefinition: ProcessPluginInfo;
  readonly dsfClientProvider: DsfClientProvider;
  readonly organizationProvider: OrganizationProvider;
  readonly endpointProvider: EndpointProvider;
  readonly targetProvider: TargetProvider;
  readonly taskHelper: TaskHelper;
  readonly questionnaireResponseHelper: QuestionnaireResponseHelper;
  readonly readAccessHelper: ReadAccessHelper;
  readonly mailService: MailService;
  readonly logger: Logger;
  /** Resource contents for debugging, written only when the operator enables it (DEV_DSF_LOG_DATA_*). */
  readonly dataLogger: DataLogger;
  readonly cryptoService: CryptoService;
  readonly compressionService: CompressionService;
  readonly mimeTypeService: MimeTypeService;
}
