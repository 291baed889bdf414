// The demo's local data repositories (`dsf demo --data-repository <patients>`): per data integration centre
// a FHIR server of ours in data repository mode (DSF_FHIR_DATA_REPOSITORY) with a database of its own,
// filled once with the site's synthetic patients; the site's BPE reaches it as the configured connection
// `data-repository`. In the demo all servers share one process, so every site's FHIR server also answers
// the repository types; only the repositories hold patient data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import type { CertificateSet } from './certs.ts';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../common/https-client.ts';
import pg from 'pg';
import { withDatabase } from '../db/pool.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer, type RunningFhirServer } from '../fhir/fhir-server.ts';
import { loadSyntheticData } from '../research-data/repository-bundles.ts';

/** The repositories listen this far above the FHIR servers' ports. */
export const DATA_REPOSITORY_PORT_OFFSET = 4000;
export const DATA_REPOSITORY_CONNECTION = 'data-repository';
/** The research platform the demo adds when data repositories are asked for and no HRP site is given. */
export const DEMO_RESEARCH_PLATFORM = 'Test_HRP';

export interface DemoRepositorySite {
  organization: string;
  port: number;
}

export interface DemoDataRepositories {
  /** DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG of a site with a repository. */
  connectionsConfig(organization: string): string | undefined;
  baseUrl(organization: string): string | undefined;
  stop(): Promise<void>;
}

export interface DemoDataRepositoryOptions {
  sites: readonly DemoRepositorySite[];
  certs: CertificateSet;
  databaseServerUrl: string;
  databasePrefix: string;
  initBundle: string;
  dir: string;
  patients: number;
  /**
   * A database on the same server already holding a filled repository (benchmarks): each repository's
   * database is created as its copy (CREATE DATABASE … TEMPLATE) instead of being loaded.
   */
  template?: string;
  /** Connections of each repository's database pool (DSF_FHIR_DB_POOL_MAX); default the server's. */
  poolMax?: number;
  log: (line: string) => void;
}

/**
 * Gathers the planner's statistics (and sets the visibility map and hint bits) of a freshly filled or
 * copied repository. Without it the first searches run before autovacuum's analyze (up to a minute
 * later, and never for a copy whose row counters start at zero), with plans for empty tables: a
 * cohort count over 10,000 patients then ran past the statement timeout when ten DICs counted at once.
 */
export async function vacuumAnalyze(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, database) });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
  } finally {
    await client.end();
  }
}

/** Creates `database` as a copy of `template` unless it exists. */
async function copyDatabase(serverUrl: string, database: string, template: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) await admin.query(`CREATE DATABASE "${database}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
}

export async function startDemoDataRepositories(o: DemoDataRepositoryOptions): Promise<DemoDataRepositories> {
  const servers: RunningFhirServer[] = [];
  const urls = new Map<string, string>();
  const ca = readFileSync(o.certs.ca.certPath, 'utf8');
  try {
    await Promise.all(
      o.sites.map(async (site) => {
        const c = o.certs.organizations[site.organization]!;
        const baseUrl = `https://localhost:${site.port + DATA_REPOSITORY_PORT_OFFSET}/fhir`;
        const database = `${o.databasePrefix}data_${site.organization.toLowerCase()}`;
        if (o.template) await copyDatabase(o.databaseServerUrl, database, o.template);
        const server = await startFhirServer(
          readFhirServerConfig({
            DEV_DSF_FHIR_SERVER_BASE_URL: baseUrl,
            DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: site.organization,
            DEV_DSF_SERVER_API_HOST: '127.0.0.1',
            DEV_DSF_SERVER_API_PORT: String(site.port + DATA_REPOSITORY_PORT_OFFSET),
            DEV_DSF_SERVER_CERTIFICATE: c.server.certPath,
            DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: c.server.keyPath,
            DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: o.certs.ca.certPath,
            DEV_DSF_FHIR_CLIENT_CERTIFICATE: c.client.certPath,
            DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: c.client.keyPath,
            DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: o.certs.ca.certPath,
            DEV_DSF_FHIR_DB_URL: withDatabase(o.databaseServerUrl, database),
            ...(o.poolMax ? { DSF_FHIR_DB_POOL_MAX: String(o.poolMax) } : {}),
            DEV_DSF_FHIR_SERVER_INIT_BUNDLE: o.initBundle,
            DSF_DATA_DIR: join(o.dir, site.organization, 'data-repository'),
            DSF_FHIR_DATA_REPOSITORY: 'true',
            DSF_LOG_LEVEL: process.env.DSF_LOG_LEVEL ?? 'warn',
          }),
        );
        servers.push(server);
        urls.set(site.organization, baseUrl);
        const http = new HttpsClient({ cert: readFileSync(c.client.certPath, 'utf8'), key: readFileSync(c.client.keyPath, 'utf8'), ca });
        try {
          const client = new HttpFhirClient({ http, baseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 300_000 });
          const existing = (await client.search('Patient', { _summary: 'count' })).total ?? 0;
          if (existing > 0) {
            // A copy starts without row counters, so autovacuum would not analyze it soon.
            if (o.template) await vacuumAnalyze(o.databaseServerUrl, database);
            o.log(`      data repository of ${site.organization} on ${baseUrl}: ${existing} patients (kept)`);
            return;
          }
          const loaded = await loadSyntheticData((bundle: Bundle) => client.postBundle(bundle), { site: site.organization, count: o.patients });
          await vacuumAnalyze(o.databaseServerUrl, database);
          o.log(`      data repository of ${site.organization} on ${baseUrl}: ${loaded.patients} synthetic patients, ${loaded.resources} resources in ${(loaded.ms / 1000).toFixed(1)} s`);
        } finally {
          http.close();
        }
      }),
    );
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  return {
    baseUrl: (organization) => urls.get(organization),
    connectionsConfig(organization) {
      const url = urls.get(organization);
      if (!url) return undefined;
      const c = o.certs.organizations[organization]!;
      return [
        `${DATA_REPOSITORY_CONNECTION}:`,
        `  base-url: ${url}`,
        `  trusted-root-certificates-file: ${o.certs.ca.certPath}`,
        `  cert-auth:`,
        `    certificate-file: ${c.client.certPath}`,
        `    private-key-file: ${c.client.keyPath}`,
      ].join('\n');
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
