// Configured connections to FHIR servers (the reference's ClientConfig, ClientConfigProvider,
// FhirClientProvider) and OIDC client-credentials clients (OidcClient, OidcClientProvider). The
// operator lists the connections in DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG (YAML, the reference's
// format); plugins ask for them by id, `#local` (the local DSF FHIR server with the BPE's certificate)
// or `#<endpoint identifier>` (the DSF FHIR server of an active Endpoint with that identifier).
import type { SecureContext } from 'node:tls';
import type { FhirClient } from './fhir-client.ts';
import type { KeyStore } from './services/crypto.ts';

/** The proxy a connection uses (absent when none is configured or the target is a no-proxy URL). */
export interface ClientProxy {
  readonly url: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

export interface CertificateAuthentication {
  /** One key entry: the client certificate (chain) and its private key. */
  readonly keyStore: KeyStore;
  readonly keyStorePassword: string | undefined;
}

export interface BasicAuthentication {
  readonly username: string;
  readonly password: string;
}

export interface BearerAuthentication {
  readonly token: string;
}

/** Client-credentials grant at an OIDC provider; its access tokens are sent as bearer tokens. */
export interface OidcAuthentication {
  /** The provider's base URL (issuer). */
  readonly baseUrl: string;
  /** Path of the discovery document below baseUrl, default /.well-known/openid-configuration. */
  readonly discoveryPath: string;
  readonly startupConnectionTestEnabled: boolean;
  readonly debugLoggingEnabled: boolean;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly trustStore: KeyStore;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Audiences the access token must name (empty: not checked). */
  readonly requiredAudiences: readonly string[];
  /** Whether the token's azp (authorized party) must be the client id. */
  readonly verifyAuthorizedParty: boolean;
  readonly proxy: ClientProxy | undefined;
}

export interface ClientConfig {
  /** The id the connection is known by: the YAML key, `#local` or `#<endpoint identifier>`. */
  readonly fhirServerId: string;
  readonly baseUrl: string;
  readonly startupConnectionTestEnabled: boolean;
  readonly debugLoggingEnabled: boolean;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Trusted root certificates for the server's certificate. */
  readonly trustStore: KeyStore;
  readonly certificateAuthentication: CertificateAuthentication | undefined;
  readonly basicAuthentication: BasicAuthentication | undefined;
  readonly bearerAuthentication: BearerAuthentication | undefined;
  readonly oidcAuthentication: OidcAuthentication | undefined;
  readonly proxy: ClientProxy | undefined;
}

export interface ClientConfigProvider {
  /** A new TLS context trusting the default trust store (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_DEFAULT_TRUST_SERVER_CERTIFICATE_CAS). */
  createDefaultSslContext(): SecureContext;
  /** A copy of the default trust store. */
  createDefaultTrustStore(): KeyStore;
  /** The connection with this id, `#local` or `#<endpoint identifier>`; undefined when there is none. */
  getClientConfig(fhirServerId: string | null | undefined): Promise<ClientConfig | undefined>;
}

/**
 * Clients for configured FHIR servers (reference: a HAPI IGenericClient per id). Here the same
 * FhirClient as DsfClientProvider gives, authenticated as the connection says.
 */
export interface FhirClientProvider {
  getById(fhirServerId: string | null | undefined): Promise<FhirClient | undefined>;
}

/** The provider's discovery document (the parts a client-credentials client uses). */
export interface OidcConfiguration {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly grantTypesSupported: readonly string[];
}

export interface JwksKey {
  readonly kid: string | undefined;
  readonly kty: string;
  readonly alg: string | undefined;
  readonly crv: string | undefined;
  readonly use: string | undefined;
  readonly n: string | undefined;
  readonly e: string | undefined;
  readonly x: string | undefined;
  readonly y: string | undefined;
}

export interface Jwks {
  readonly keys: readonly JwksKey[];
  getKey(kid: string): JwksKey | undefined;
}

/** Thrown when the provider cannot be reached, answers wrongly, or its token does not verify. */
export class OidcClientError extends Error {
  override readonly name = 'OidcClientError';
}

/** Client credentials grant at one OIDC provider (reference OidcClient). */
export interface OidcClient {
  /** The discovery document; its issuer must be the base URL and it must support client_credentials. */
  getConfiguration(): Promise<OidcConfiguration>;
  getJwks(): Promise<Jwks>;
  /** A verified access token (signature, iss, exp/nbf/iat with leeway, audiences, azp), cached until shortly before it expires. */
  getAccessToken(): Promise<string>;
}

export interface OidcClientOptions {
  discoveryPath?: string;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  trustStore?: KeyStore;
  debugLoggingEnabled?: boolean;
  requiredAudiences?: readonly string[];
  verifyAuthorizedParty?: boolean;
}

export interface OidcClientProvider {
  /** A client for this provider and client; unset options take the configured defaults. */
  getOidcClient(baseUrl: string, clientId: string, clientSecret: string, options?: OidcClientOptions): OidcClient;
  /** The client of a connection's oidc-auth. */
  getOidcClientFor(config: OidcAuthentication): OidcClient;
}
