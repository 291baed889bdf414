// FHIR clients presenting the organisation's client certificate: one for the local FHIR server (local
// timeouts) and one per remote base URL (remote timeouts), sharing keep-alive connections and using
// the forward proxy for targets that are not no-proxy URLs. Configured connections (getById) come
// from the ConfiguredClients attached once they are built.
import type { Endpoint } from '@medplum/fhirtypes';
import type { FhirClient } from '../../plugin-api/fhir-client.ts';
import type { ProxyConfig } from '../../plugin-api/proxy-config.ts';
import type { DsfClientProvider } from '../../plugin-api/services.ts';
import type { BpeConfig } from '../config.ts';
import type { FhirClientProvider } from '../../plugin-api/client-config.ts';
import { HttpFhirClient, type FhirRequestObserver } from './http-fhir-client.ts';
import { HttpTransport } from './http-transport.ts';

export type ClientSettings = Pick<
  BpeConfig,
  | 'fhirServerBaseUrl'
  | 'clientCertificate'
  | 'clientCertificateKey'
  | 'clientCertificateKeyPassword'
  | 'trustedServerCas'
  | 'localConnectTimeoutMs'
  | 'localReadTimeoutMs'
  | 'remoteConnectTimeoutMs'
  | 'remoteReadTimeoutMs'
> & { proxy?: ProxyConfig };

export class BpeDsfClientProvider implements DsfClientProvider {
  readonly http: HttpTransport;
  private readonly local: HttpFhirClient;
  private readonly remotes = new Map<string, FhirClient>();
  private configured: FhirClientProvider | undefined;

  /** Sees the requests to remote FHIR servers (Task send metrics, trace headers); set before the first use. */
  remoteObserver: FhirRequestObserver | undefined;

  constructor(private readonly settings: ClientSettings) {
    this.http = new HttpTransport({
      tls: {
        cert: settings.clientCertificate,
        key: settings.clientCertificateKey,
        passphrase: settings.clientCertificateKeyPassword,
        ca: settings.trustedServerCas?.length ? settings.trustedServerCas : undefined,
      },
      proxy: settings.proxy,
    });
    this.local = new HttpFhirClient({
      http: this.http,
      baseUrl: settings.fhirServerBaseUrl,
      connectTimeoutMs: settings.localConnectTimeoutMs,
      readTimeoutMs: settings.localReadTimeoutMs,
    });
  }

  /** The configured connections getById answers from. */
  attachConfiguredClients(configured: FhirClientProvider): void {
    this.configured = configured;
  }

  getLocal(): FhirClient {
    return this.local;
  }

  getByEndpointUrl(baseUrl: string): FhirClient {
    if (!baseUrl) throw new TypeError('webserviceUrl empty');
    const key = baseUrl.replace(/\/$/, '');
    if (key === this.local.baseUrl) return this.local;
    let client = this.remotes.get(key);
    if (!client) {
      client = new HttpFhirClient({ http: this.http, baseUrl: key, connectTimeoutMs: this.settings.remoteConnectTimeoutMs, readTimeoutMs: this.settings.remoteReadTimeoutMs, observer: this.remoteObserver });
      this.remotes.set(key, client);
    }
    return client;
  }

  getByEndpoint(endpoint: Endpoint): FhirClient {
    if (!endpoint.address) throw new Error(`Endpoint ${endpoint.id ?? ''} has no address`);
    return this.getByEndpointUrl(endpoint.address);
  }

  async getById(fhirServerId: string | null | undefined): Promise<FhirClient | undefined> {
    return this.configured?.getById(fhirServerId);
  }

  close(): void {
    this.http.close();
  }
}
