// The configured FHIR server connections of the plugin API (ClientConfigProvider, FhirClientProvider,
// OidcClientProvider, and DsfClientProvider.getById behind them). The YAML's connections, plus `#dsf`:
// the BPE's own certificate and trust store, which `#local` (the local FHIR server) and
// `#<endpoint identifier>` (the address of that active Endpoint) use with their own base URL, as in
// the reference. Clients are made once per id and keep their connections.
import { randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import {
  type ClientConfig,
  type ClientConfigProvider,
  type ClientProxy,
  type CryptoService,
  type FhirClient,
  type FhirClientProvider,
  type KeyStore,
  type OidcAuthentication,
  type OidcClient,
  type OidcClientOptions,
  type OidcClientProvider,
  type ProxyConfig,
} from '../../plugin-api/index.ts';
import { HttpFhirClient } from './http-fhir-client.ts';
import { HttpTransport, type TlsSettings } from './http-transport.ts';
import { HttpOidcClient } from './oidc-client.ts';
import type { ConnectionDefaults, ConnectionSpec, OidcAuthSpec } from './client-connections.ts';

export const DSF_CLIENT_ID = '#dsf';
export const LOCAL_CLIENT_ID = '#local';

export interface OidcCacheSettings {
  enabled: boolean;
  configurationResourceMs: number;
  jwksResourceMs: number;
  accessTokenBeforeExpirationMs: number;
  leewayMs: number;
}

export interface ConfiguredClientsOptions {
  specs: readonly ConnectionSpec[];
  defaults: ConnectionDefaults;
  /** The BPE's own client certificate and trust (the `#dsf` connection). */
  dsf: { certificatePem: string; privateKeyPem: string; privateKeyPassword?: string; trustedCas: string[] | undefined };
  proxy: ProxyConfig;
  crypto: CryptoService;
  oidcCache: OidcCacheSettings;
  /** Address of the active Endpoint with this identifier (for `#<identifier>`). */
  endpointAddress: (identifierValue: string) => Promise<string | undefined>;
  localBaseUrl: string;
  userAgent?: string;
  log?: { info(m: string): void; warn(m: string): void };
}

/** Builds every connection's key stores; all problems at once. */
export async function createConfiguredClients(options: ConfiguredClientsOptions): Promise<ConfiguredClients> {
  const problems: string[] = [];
  const configs = new Map<string, ClientConfig>();
  const proxyFor = (url: string): ClientProxy | undefined => (options.proxy.isEnabled(url) && options.proxy.url ? { url: options.proxy.url, username: options.proxy.username, password: options.proxy.password } : undefined);
  const trustStore = (pems: readonly string[]) => options.crypto.createKeyStoreForTrustedCertificates(pems.map((p) => new X509Certificate(p)));
  const defaultTrustStore = trustStore(options.defaults.trustedCas);

  for (const spec of options.specs) {
    try {
      configs.set(spec.fhirServerId, {
        fhirServerId: spec.fhirServerId,
        baseUrl: spec.baseUrl,
        startupConnectionTestEnabled: spec.startupConnectionTestEnabled,
        debugLoggingEnabled: spec.debugLoggingEnabled,
        connectTimeoutMs: spec.connectTimeoutMs,
        readTimeoutMs: spec.readTimeoutMs,
        trustStore: trustStore(spec.trustedCas),
        certificateAuthentication: spec.certAuth ? await certificateAuthentication(options.crypto, spec.certAuth) : undefined,
        basicAuthentication: spec.basicAuth,
        bearerAuthentication: spec.bearerAuth,
        oidcAuthentication: spec.oidcAuth ? oidcAuthentication(spec.oidcAuth, trustStore(spec.oidcAuth.trustedCas), proxyFor(spec.oidcAuth.baseUrl)) : undefined,
        proxy: proxyFor(spec.baseUrl),
      });
    } catch (e) {
      problems.push(`${spec.fhirServerId}.cert-auth: ${(e as Error).message}`);
    }
  }
  try {
    const password = randomUUID();
    const key = await options.crypto.readPrivateKey(options.dsf.privateKeyPem, options.dsf.privateKeyPassword);
    const chain = await options.crypto.readCertificates(options.dsf.certificatePem);
    configs.set(DSF_CLIENT_ID, {
      fhirServerId: DSF_CLIENT_ID,
      baseUrl: '',
      startupConnectionTestEnabled: false,
      debugLoggingEnabled: options.defaults.enableDebugLogging,
      connectTimeoutMs: options.defaults.connectTimeoutMs,
      readTimeoutMs: options.defaults.readTimeoutMs,
      trustStore: trustStore(options.dsf.trustedCas ?? []),
      certificateAuthentication: { keyStore: options.crypto.createKeyStoreForPrivateKeyAndCertificateChain(key, password, chain), keyStorePassword: password },
      basicAuthentication: undefined,
      bearerAuthentication: undefined,
      oidcAuthentication: undefined,
      proxy: undefined,
    });
  } catch (e) {
    problems.push(`DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: ${(e as Error).message}`);
  }
  if (problems.length) throw new Error(`FHIR server connections (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG) not usable:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return new ConfiguredClients(options, configs, defaultTrustStore, proxyFor);
}

async function certificateAuthentication(crypto: CryptoService, spec: NonNullable<ConnectionSpec['certAuth']>) {
  let keyStore: KeyStore;
  if (spec.p12File) keyStore = await crypto.readKeyStorePkcs12File(spec.p12File, spec.password);
  else {
    const chain = await crypto.readCertificates(spec.certificatePem ?? '');
    const key = await crypto.readPrivateKey(spec.privateKeyPem ?? '', spec.password);
    if (chain.length === 0) throw new Error('no certificates');
    if (!crypto.isClientCertificate(chain[0]!)) throw new Error('not a client certificate');
    if (!crypto.isKeyPair(key, chain[0]!.publicKey)) throw new Error(`private-key not matching public-key from ${chain.length > 1 ? 'first ' : ''}certificate`);
    keyStore = crypto.createKeyStoreForPrivateKeyAndCertificateChain(key, spec.password ?? '', chain);
  }
  const aliases = keyStore.aliases();
  if (aliases.length !== 1) throw new Error(`KeyStore has ${aliases.length} entries [${aliases.join(', ')}], expected 1`);
  if (!keyStore.isKeyEntry(aliases[0]!)) throw new Error(`KeyStore has no key for entry ${aliases[0]}`);
  return { keyStore, keyStorePassword: spec.password };
}

function oidcAuthentication(spec: OidcAuthSpec, trustStore: KeyStore, proxy: ClientProxy | undefined): OidcAuthentication {
  return {
    baseUrl: spec.baseUrl,
    discoveryPath: spec.discoveryPath,
    startupConnectionTestEnabled: spec.startupConnectionTestEnabled,
    debugLoggingEnabled: spec.debugLoggingEnabled,
    connectTimeoutMs: spec.connectTimeoutMs,
    readTimeoutMs: spec.readTimeoutMs,
    trustStore,
    clientId: spec.clientId,
    clientSecret: spec.clientSecret,
    requiredAudiences: [...spec.requiredAudiences],
    verifyAuthorizedParty: spec.verifyAuthorizedParty,
    proxy,
  };
}

/** PEM certificates of a trust store (undefined when it is empty: the system's CAs then). */
export function trustedPems(store: KeyStore): string[] | undefined {
  const pems = store.aliases().flatMap((a) => (store.getCertificate(a) ? [store.getCertificate(a)!.toString()] : []));
  return pems.length ? pems : undefined;
}

/** TLS settings of a connection: its trust store and, with certificate authentication, its key entry. */
export function tlsOf(config: Pick<ClientConfig, 'trustStore' | 'certificateAuthentication'>): TlsSettings {
  const tls: TlsSettings = { ca: trustedPems(config.trustStore) };
  const auth = config.certificateAuthentication;
  if (auth) {
    const alias = auth.keyStore.aliases().find((a) => auth.keyStore.isKeyEntry(a));
    const key: KeyObject | undefined = alias ? auth.keyStore.getKey(alias, auth.keyStorePassword ?? '') : undefined;
    if (alias && key) {
      tls.key = key.export({ type: 'pkcs8', format: 'pem' }) as string;
      tls.cert = (auth.keyStore.getCertificateChain(alias) ?? []).map((c) => c.toString()).join('');
    }
  }
  return tls;
}

export class ConfiguredClients implements ClientConfigProvider, FhirClientProvider, OidcClientProvider {
  private readonly clients = new Map<string, { client: HttpFhirClient; transport: HttpTransport }>();
  private readonly oidcClients = new Map<string, { client: OidcClient; transport: HttpTransport }>();

  constructor(
    private readonly options: ConfiguredClientsOptions,
    private readonly configs: ReadonlyMap<string, ClientConfig>,
    private readonly defaultTrustStore: KeyStore,
    private readonly proxyFor: (url: string) => ClientProxy | undefined,
  ) {}

  /** The configured ids (the YAML's keys). */
  ids(): string[] {
    return [...this.configs.keys()].filter((id) => id !== DSF_CLIENT_ID);
  }

  createDefaultTrustStore(): KeyStore {
    const certs = this.defaultTrustStore.aliases().map((a) => this.defaultTrustStore.getCertificate(a)!);
    return this.options.crypto.createKeyStoreForTrustedCertificates(certs);
  }

  createDefaultSslContext(): SecureContext {
    return this.options.crypto.createSslContext(this.defaultTrustStore);
  }

  async getClientConfig(fhirServerId: string | null | undefined): Promise<ClientConfig | undefined> {
    if (!fhirServerId?.trim()) return undefined;
    if (fhirServerId === LOCAL_CLIENT_ID) return this.dsfConfigFor(this.options.localBaseUrl, fhirServerId);
    if (fhirServerId.startsWith('#')) {
      if (fhirServerId === DSF_CLIENT_ID) return undefined;
      const address = await this.options.endpointAddress(fhirServerId.slice(1));
      return address ? this.dsfConfigFor(address, fhirServerId) : undefined;
    }
    return this.configs.get(fhirServerId);
  }

  async getById(fhirServerId: string | null | undefined): Promise<FhirClient | undefined> {
    const config = await this.getClientConfig(fhirServerId);
    if (!config) return undefined;
    const known = this.clients.get(config.fhirServerId);
    if (known && known.client.baseUrl === config.baseUrl.replace(/\/$/, '')) return known.client;
    known?.transport.close();
    const transport = new HttpTransport({ tls: tlsOf(config), proxy: this.options.proxy, authorization: this.authorizationOf(config), userAgent: this.options.userAgent });
    const client = new HttpFhirClient({ http: transport, baseUrl: config.baseUrl, connectTimeoutMs: config.connectTimeoutMs, readTimeoutMs: config.readTimeoutMs });
    this.clients.set(config.fhirServerId, { client, transport });
    return client;
  }

  getOidcClient(baseUrl: string, clientId: string, clientSecret: string, options: OidcClientOptions = {}): OidcClient {
    const d = this.options.defaults;
    const discovery = options.discoveryPath ?? d.oidcDiscoveryPath;
    return this.getOidcClientFor({
      baseUrl: baseUrl.replace(/\/$/, ''),
      discoveryPath: discovery.startsWith('/') ? discovery : `/${discovery}`,
      startupConnectionTestEnabled: false,
      debugLoggingEnabled: options.debugLoggingEnabled ?? d.enableDebugLogging,
      connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs,
      readTimeoutMs: options.readTimeoutMs ?? d.readTimeoutMs,
      trustStore: options.trustStore ?? this.defaultTrustStore,
      clientId,
      clientSecret,
      requiredAudiences: [...(options.requiredAudiences ?? [])],
      verifyAuthorizedParty: options.verifyAuthorizedParty ?? d.oidcVerifyAuthorizedParty,
      proxy: this.proxyFor(baseUrl),
    });
  }

  getOidcClientFor(config: OidcAuthentication): OidcClient {
    const key = JSON.stringify([config.baseUrl, config.discoveryPath, config.clientId, config.clientSecret, config.requiredAudiences, config.verifyAuthorizedParty, trustedPems(config.trustStore)]);
    const known = this.oidcClients.get(key);
    if (known) return known.client;
    const transport = new HttpTransport({ tls: { ca: trustedPems(config.trustStore) }, proxy: this.options.proxy, userAgent: this.options.userAgent });
    const c = this.options.oidcCache;
    const client = new HttpOidcClient(transport, {
      baseUrl: config.baseUrl,
      discoveryPath: config.discoveryPath,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      requiredAudiences: config.requiredAudiences,
      verifyAuthorizedParty: config.verifyAuthorizedParty,
      connectTimeoutMs: config.connectTimeoutMs,
      readTimeoutMs: config.readTimeoutMs,
      cache: c.enabled,
      resourceCacheMs: Math.min(c.configurationResourceMs, c.jwksResourceMs),
      tokenRenewBeforeMs: c.accessTokenBeforeExpirationMs,
      leewayMs: c.leewayMs,
    });
    this.oidcClients.set(key, { client, transport });
    return client;
  }

  /** The reference's start-up checks: a token from each OIDC provider, /metadata of each connection that asks for it. Failures are logged. */
  async testConnections(): Promise<void> {
    const log = this.options.log;
    for (const config of this.configs.values()) {
      if (config.oidcAuthentication) {
        try {
          await this.getOidcClientFor(config.oidcAuthentication).getAccessToken();
          log?.info(`Testing connection with OIDC provider at ${config.oidcAuthentication.baseUrl} for '${config.fhirServerId}' [OK]`);
        } catch (e) {
          log?.warn(`Testing connection with OIDC provider at ${config.oidcAuthentication.baseUrl} for '${config.fhirServerId}' [Failed] -> ${(e as Error).message}`);
        }
      }
      if (!config.startupConnectionTestEnabled) continue;
      try {
        const statement = await (await this.getById(config.fhirServerId))!.getConformance();
        log?.info(`Testing connection with FHIR server at ${config.baseUrl} for '${config.fhirServerId}' [OK] -> ${statement.software?.name ?? '?'} ${statement.software?.version ?? ''}`.trim());
      } catch (e) {
        log?.warn(`Testing connection with FHIR server at ${config.baseUrl} for '${config.fhirServerId}' [Failed] -> ${(e as Error).message}`);
      }
    }
  }

  close(): void {
    for (const { transport } of this.clients.values()) transport.close();
    for (const { transport } of this.oidcClients.values()) transport.close();
    this.clients.clear();
    this.oidcClients.clear();
  }

  private dsfConfigFor(baseUrl: string, fhirServerId: string): ClientConfig | undefined {
    const dsf = this.configs.get(DSF_CLIENT_ID);
    return dsf ? { ...dsf, fhirServerId, baseUrl: baseUrl.replace(/\/$/, ''), proxy: this.proxyFor(baseUrl) } : undefined;
  }

  private authorizationOf(config: ClientConfig): (() => Promise<string | undefined>) | undefined {
    if (config.basicAuthentication) {
      const value = `Basic ${Buffer.from(`${config.basicAuthentication.username}:${config.basicAuthentication.password}`, 'latin1').toString('base64')}`;
      return async () => value;
    }
    if (config.bearerAuthentication) {
      const value = `Bearer ${config.bearerAuthentication.token}`;
      return async () => value;
    }
    if (config.oidcAuthentication) {
      const oidc = this.getOidcClientFor(config.oidcAuthentication);
      return async () => `Bearer ${await oidc.getAccessToken()}`;
    }
    return undefined;
  }
}
