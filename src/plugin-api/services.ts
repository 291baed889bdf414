// The services the BPE hands to every activity (the reference's v2 ProcessPluginApi). Contracts only;
// the BPE server implements them.
import type { Coding, Endpoint, Identifier, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import type { ClientConfigProvider, FhirClientProvider, OidcClientProvider } from './client-config.ts';
import type { FhirClient } from './fhir-client.ts';
import type { FhirFormats } from './fhir-formats.ts';
import type { JsonMapper } from './json-values.ts';
import type { License } from './license.ts';
import type { PluginProperties } from './plugin-hooks.ts';
import type { ProcessAuthorizationHelper } from './process-authorization.ts';
import type { ProxyConfig } from './proxy-config.ts';
import type { ValidationServiceProvider } from './validation.ts';
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
  /**
   * A configured connection (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG) by id, `#local` for the local
   * FHIR server, or `#<endpoint identifier>` for the DSF FHIR server of that active Endpoint; undefined
   * when there is no such connection.
   */
  getById(fhirServerId: string | null | undefined): Promise<FhirClient | undefined>;
}

/**
 * An organisation (or endpoint) identifier: its value (system http://dsf.dev/sid/organization-identifier
 * or .../endpoint-identifier), or an Identifier with system and value.
 */
export type IdentifierOrValue = string | Identifier;
/** An organization-role code (system http://dsf.dev/fhir/CodeSystem/organization-role) or a Coding. */
export type CodeOrCoding = string | Coding;

/**
 * Organisations as the local FHIR server knows them (active ones only). As the reference: a missing
 * (null/undefined) identifier, or a role given as null, finds nothing.
 */
export interface OrganizationProvider {
  /** The Organization whose active Endpoint has the local FHIR server's base URL as address. */
  getLocalOrganization(): Promise<Organization | undefined>;
  getLocalOrganizationIdentifier(): Promise<Identifier | undefined>;
  getLocalOrganizationIdentifierValue(): Promise<string | undefined>;
  getOrganization(identifier: IdentifierOrValue | null | undefined): Promise<Organization | undefined>;
  /** Member organisations of a parent organisation; with a role argument only those with that role (null: none). */
  getOrganizations(parentIdentifier: IdentifierOrValue | null | undefined, memberRole?: CodeOrCoding | null): Promise<Organization[]>;
  /** Every active member Organization (profile organization) other than the local one. */
  getRemoteOrganizations(): Promise<Organization[]>;
  /** Every active parent Organization (profile organization-parent). */
  getParentOrganizations(): Promise<Organization[]>;
}

export interface EndpointProvider {
  /** The local FHIR server's base URL. */
  getLocalEndpointAddress(): string;
  getLocalEndpoint(): Promise<Endpoint | undefined>;
  getLocalEndpointIdentifier(): Promise<Identifier | undefined>;
  getLocalEndpointIdentifierValue(): Promise<string | undefined>;
  /** By endpoint identifier; or, with three arguments, the endpoint of a member's affiliation with a parent in a role. */
  getEndpoint(endpointIdentifier: IdentifierOrValue | null | undefined): Promise<Endpoint | undefined>;
  getEndpoint(parentIdentifier: IdentifierOrValue | null | undefined, memberIdentifier: IdentifierOrValue | null | undefined, memberRole: CodeOrCoding | null | undefined): Promise<Endpoint | undefined>;
  getEndpointAddress(endpointIdentifier: IdentifierOrValue | null | undefined): Promise<string | undefined>;
  getEndpointAddress(parentIdentifier: IdentifierOrValue | null | undefined, memberIdentifier: IdentifierOrValue | null | undefined, memberRole: CodeOrCoding | null | undefined): Promise<string | undefined>;
  /** Endpoints of the members of a parent organisation (through their affiliations), optionally by role (null: none). */
  getEndpoints(parentIdentifier: IdentifierOrValue | null | undefined, memberRole?: CodeOrCoding | null): Promise<Endpoint[]>;
  /** Every active Endpoint other than the local one. */
  getRemoteEndpoints(): Promise<Endpoint[]>;
}

/** One affiliation found while building targets; filters decide which become targets. */
export interface TargetCandidate {
  affiliation: OrganizationAffiliation | undefined;
  member: Organization;
  endpoint: Endpoint;
}

/** A filter as in the reference: (affiliation, member, endpoint). */
export type TargetFilter3 = (affiliation: OrganizationAffiliation | undefined, member: Organization, endpoint: Endpoint) => boolean;

export interface TargetsBuilder {
  /** Only candidates the predicate accepts (null or undefined: all). */
  filter(predicate: ((candidate: TargetCandidate) => boolean) | null | undefined): TargetsBuilder;
  /** The reference's form: a predicate of three arguments (affiliation, member, endpoint). */
  filter(predicate: TargetFilter3): TargetsBuilder;
  /** Targets each with a new random correlation key. */
  withCorrelationKey(): Promise<Targets>;
  withoutCorrelationKey(): Promise<Targets>;
}

/** Builds Targets from the members (and their endpoints) of a parent organisation. */
export interface TargetProvider {
  /**
   * Members of the parent, optionally only with the role, optionally only these members. As the
   * reference, a parent, role or member list given as null is an error (TypeError).
   */
  create(parentIdentifier: IdentifierOrValue, memberRole?: CodeOrCoding | null, memberIdentifiers?: readonly IdentifierOrValue[] | null): TargetsBuilder;
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
  readonly resourceReleaseDate: string;
  readonly draft: boolean;
  readonly title?: string;
  readonly publisher?: string;
  readonly publisherEmail?: string;
  readonly license?: License;
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
  /** The forward proxy (DEV_DSF_PROXY_*) and its no-proxy rules. */
  readonly proxyConfig: ProxyConfig;
  /** Configured FHIR server connections as clients. */
  readonly fhirClientProvider: FhirClientProvider;
  /** Configured FHIR server connections as settings. */
  readonly fhirClientConfigProvider: ClientConfigProvider;
  readonly oidcClientProvider: OidcClientProvider;
  readonly processAuthorizationHelper: ProcessAuthorizationHelper;
  /** Validation against FHIR packages; getValidationService answers undefined when the operator disabled it. */
  readonly validationServiceProvider: ValidationServiceProvider;
  /** FHIR JSON and XML (the reference's FhirContext). */
  readonly fhirContext: FhirFormats;
  /** JSON keeping Dates and byte arrays (the reference's ObjectMapper). */
  readonly objectMapper: JsonMapper;
  /** The plugin's declared properties (definition.properties) with their values. */
  readonly properties: PluginProperties;
}
