// Starts a real FHIR server over HTTPS on loopback with its own database and test certificates.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { DestinationStream } from 'pino';
import { generateCertificates, type CertificateSet } from '../../src/cli/certs.ts';
import { freePort } from '../../src/db/embedded.ts';
import { HttpsClient, type HttpResponse } from '../../src/common/https-client.ts';
import { startFhirServer, type RunningFhirServer } from '../../src/fhir/fhir-server.ts';
import type { FhirServerConfig } from '../../src/fhir/config.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { defaultAuthConfig, type AuthConfig } from '../../src/fhir/auth/auth-config.ts';
import { parseRoleConfig } from '../../src/fhir/auth/role-config.ts';
import { sitesBundle } from '../../src/fhir/init-bundle.ts';

let certs: Promise<CertificateSet> | undefined;

/** meta with the read-access tag ALL, which every DSF profile requires. */
export const TAG_ALL = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] };

/** Test PKI shared by the sites of one test file. */
export function testCertificates(): Promise<CertificateSet> {
  certs ??= generateCertificates({
    dir: mkdtempSync(join(tmpdir(), 'dsf-test-certs-')),
    organizations: ['Test_Organization', 'External_Test_Organization', 'Third_Test_Organization'],
    users: [
      { name: 'practitioner', email: 'practitioner@test.org' },
      { name: 'admin', email: 'admin@test.org' },
      { name: 'minimal', email: 'minimal@test.org' },
    ],
  });
  return certs;
}

export interface TestSite {
  server: RunningFhirServer;
  db: TestDatabase;
  baseUrl: string;
  certs: CertificateSet;
  /** A client presenting the local organisation's client certificate. */
  client: FhirTestClient;
  clientFor(org: string): FhirTestClient;
  stop(): Promise<void>;
}

export class FhirTestClient {
  constructor(
    readonly http: HttpsClient,
    readonly baseUrl: string,
  ) {}

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse & { json: any }> {
    const h: Record<string, string> = { accept: 'application/fhir+json', ...headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/fhir+json';
    }
    const url = path.startsWith('https://') ? path : `${this.baseUrl}${path.startsWith('/') ? '' : '/'}${path}`;
    return this.http.request(url, { method, headers: h, body: payload }).then((r) => {
      let json: any;
      try {
        json = r.body ? JSON.parse(r.body) : undefined;
      } catch {
        json = undefined;
      }
      return { ...r, json };
    });
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }
  post(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }
  put(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PUT', path, body, headers);
  }
  delete(path: string, headers?: Record<string, string>) {
    return this.request('DELETE', path, undefined, headers);
  }
  async create(resource: { resourceType: string; [k: string]: any }): Promise<any> {
    const r = await this.post(`/${resource.resourceType}`, resource);
    if (r.status !== 201) throw new Error(`create ${resource.resourceType} failed: ${r.status} ${r.body}`);
    return r.json;
  }
}

/** The test organisations other than the site's own, created as remote Organizations + Endpoints by `remoteOrganizations`. */
export const REMOTE_TEST_ORGANIZATIONS = ['External_Test_Organization', 'Third_Test_Organization'];

export const testOrganizationIdentifier = (org: string) => `${org.toLowerCase().replaceAll('_', '-')}.test`;

export interface TestSiteOptions {
  organization?: string;
  config?: Partial<FhirServerConfig>;
  /** Also create the other test organisations (active, with their client thumbprints and an Endpoint each). */
  remoteOrganizations?: boolean;
  /** Role configuration YAML (DEV_DSF_FHIR_SERVER_ROLECONFIG). */
  roleConfig?: string;
  /** Proxy header, trusted proxy addresses, OIDC settings. */
  auth?: Partial<AuthConfig>;
  /** Where the server logs (pino JSON lines); with logLevel in config to see more than errors. */
  logDestination?: DestinationStream;
  /** Another test PKI than the shared one (e.g. with other users). */
  certificates?: CertificateSet;
  /** Settings that depend on the base URL (known only once the port is chosen), applied after config. */
  configFor?: (baseUrl: string) => Partial<FhirServerConfig>;
  /** The server makes its own pool from the database URL and its limits (pool size, wait), as in production. */
  ownPool?: boolean;
}

export async function startTestSite(opts: TestSiteOptions = {}): Promise<TestSite> {
  const set = opts.certificates ?? (await testCertificates());
  const org = opts.organization ?? 'Test_Organization';
  const db = await createTestDatabase('dsf_fhir');
  const port = await freePort();
  const baseUrl = `https://localhost:${port}/fhir`;
  const orgCerts = set.organizations[org]!;
  const ca = readFileSync(set.ca.certPath, 'utf8');
  const config: FhirServerConfig = {
    baseUrl,
    organizationIdentifier: testOrganizationIdentifier(org),
    apiHost: '127.0.0.1',
    apiPort: port,
    serverCertificate: readFileSync(orgCerts.server.certPath, 'utf8'),
    serverCertificateKey: readFileSync(orgCerts.server.keyPath, 'utf8'),
    trustedClientCas: [ca],
    dbUrl: db.url,
    dataDir: mkdtempSync(join(tmpdir(), 'dsf-test-site-')),
    pageCount: 20,
    maxBodyBytes: 8 * 1024 * 1024,
    organizationThumbprint: orgCerts.client.thumbprint,
    // The site's client towards other sites (reference checks), with its organisation's client certificate.
    client: {
      certificate: readFileSync(orgCerts.client.certPath, 'utf8'),
      privateKey: readFileSync(orgCerts.client.keyPath, 'utf8'),
      trustedServerCas: [ca],
      connectTimeoutMs: 2_000,
      readTimeoutMs: 10_000,
    },
    env: {},
    // Request lines would drown the test output; a 5xx stack still shows.
    logLevel: 'error',
    ...opts.config,
    ...opts.configFor?.(baseUrl),
  };
  if (opts.roleConfig !== undefined || opts.auth) {
    const problems: string[] = [];
    const roleConfig = opts.roleConfig !== undefined ? parseRoleConfig(opts.roleConfig, problems) : undefined;
    if (problems.length) throw new Error(`test role configuration: ${problems.join('; ')}`);
    config.auth = { ...defaultAuthConfig(), ...config.auth, ...opts.auth, ...(roleConfig ? { roleConfig } : {}) };
  }
  const server = await startFhirServer(config, { pool: opts.ownPool ? undefined : db.pool, logDestination: opts.logDestination });
  const clients: HttpsClient[] = [];
  const clientFor = (name: string) => {
    const c = set.organizations[name]?.client ?? set.users[name];
    if (!c) throw new Error(`no certificate for ${name}`);
    const http = new HttpsClient({ cert: readFileSync(c.certPath, 'utf8'), key: readFileSync(c.keyPath, 'utf8'), ca });
    clients.push(http);
    return new FhirTestClient(http, baseUrl);
  };
  const client = clientFor(org);
  if (opts.remoteOrganizations) {
    const remotes = REMOTE_TEST_ORGANIZATIONS.filter((o) => o !== org).map((o) => ({
      organizationIdentifier: testOrganizationIdentifier(o),
      thumbprints: [set.organizations[o]!.client.thumbprint],
      fhirBaseUrl: `https://${testOrganizationIdentifier(o)}/fhir`,
    }));
    const r = await client.post('', sitesBundle(remotes));
    if (r.status !== 200) throw new Error(`creating the remote test organisations failed: ${r.status} ${r.body}`);
  }
  return {
    server,
    db,
    baseUrl,
    certs: set,
    client,
    clientFor,
    async stop() {
      for (const c of clients) c.close();
      await server.close();
      await db.drop();
    },
  };
}
