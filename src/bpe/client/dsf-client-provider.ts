// FHIR clients presenting the organisation's client certificate: one for the local FHIR server (local
// timeouts) and one per remote base URL (remote timeouts), sharing keep-alive connections.
import type { Endpoint } from '@medplum/fhirtypes';
import { HttpsClient } from '../../common/https-client.ts';
import type { FhirClient } from '../../plugin-api/fhir-client.ts';
import type { DsfClientProvider } from '../../plugin-api/services.ts';
import type { BpeConfig } from '../config.ts';
import { HttpFhirClient } from './http-fhir-client.ts';

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
>;

export class BpeDsfClientProvider implements DsfClientProvider {
  readonly http: HttpsClient;
  private readonly local: HttpFhirClient;
  private readonly remotes = new Map<string, FhirClient>();

  constructor(private readonly settings: ClientSettings) {
    this.http = new HttpsClient({
      cert: settings.clientCertificate,
      key: settings.clientCertificateKey,
      passphrase: settings.clientCertificateKeyPassword,
      ca: settings.trustedServerCas?.length ? settings.trustedServerCas : undefined,
    });
    this.local = new HttpFhirClient({
      http: this.http,
      baseUrl: settings.fhirServerBaseUrl,
      connectTimeoutMs: settings.localConnectTimeoutMs,
      readTimeoutMs: settings.localReadTimeoutMs,
    });
  }

  getLocal(): FhirClient {
    return this.local;
  }

  getByEndpointUrl(baseUrl: string): FhirClient {
    const key = baseUrl.replace(/\/$/, '');
    if (key === this.local.baseUrl) return this.local;
    let client = this.remotes.get(key);
    if (!client) {
      client = new HttpFhirClient({ http: this.http, baseUrl: key, connectTimeoutMs: this.settings.remoteConnectTimeoutMs, readTimeoutMs: this.settings.remoteReadTimeoutMs });
      this.remotes.set(key, client);
    }
    return client;
  }

  getByEndpoint(endpoint: Endpoint): FhirClient {
    if (!endpoint.address) throw new Error(`Endpoint ${endpoint.id ?? ''} has no address`);
    return this.getByEndpointUrl(endpoint.address);
  }

  close(): void {
    this.http.close();
  }
}
