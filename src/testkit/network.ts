// A network of DSF sites for one test: a test PKI, a PostgreSQL server (given, DSF_TEST_DATABASE_URL, or
// embedded), and per site a FHIR server and a BPE as child processes over real TLS, every site knowing the
// others (Organizations, Endpoints, one parent organisation with role affiliations), the chosen plugins
// deployed where asked.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { generateCertificates, type CertificateSet } from '../cli/certs.ts';
import { defaultRolesOf, networkBundle, type NetworkSite } from '../cli/network-bundle.ts';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../common/https-client.ts';
import { freePort } from '../db/embedded.ts';
import { SiteProcess } from './child-process.ts';
import { networkDatabases } from './database.ts';
import { ProcessControl, RunningTestSite, type DataRepository, type TestSite } from './test-site.ts';
import { loadSyntheticData } from '../research-data/repository-bundles.ts';

export interface TestSiteOptions {
  /** Organisation identifier, also the name of the site (letters, digits, '_', '-', '.'). */
  organization: string;
  /** Plugin folders deployed at this site; default: the network's. */
  plugins?: readonly string[];
  /** Environment of this site's BPE on top of the network's (plugin #{...} placeholders, DEV_DSF_BPE_*). */
  env?: Readonly<Record<string, string>>;
  /** organization-role codes under the parent organisation; default TTP for names with TTP, else DIC. */
  roles?: readonly string[];
  /** Start the BPE with the network (default true); start it later with site.bpe.start(). */
  startBpe?: boolean;
  /**
   * A local data repository for this site: another FHIR server of ours (DSF_FHIR_DATA_REPOSITORY, own
   * database) filled with synthetic patients before the BPE starts; the BPE reaches it as the configured
   * connection DATA_REPOSITORY_CONNECTION (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG).
   */
  dataRepository?: DataRepositoryOptions;
}

export interface DataRepositoryOptions {
  /** Synthetic patients generated for this site (see src/research-data/synthetic-patients.ts). */
  patients: number;
  /** Seed of the generator (default 'dsf-ts'); the site's organisation identifier is part of it too. */
  seed?: string;
}

/** Id of the data repository connection in the BPE's client connections configuration. */
export const DATA_REPOSITORY_CONNECTION = 'data-repository';

export interface TestNetworkOptions {
  /** Organisation identifiers, or options per site. */
  sites: readonly (string | TestSiteOptions)[];
  /** Plugin folders (each with its index.ts/.js) deployed at every site that does not choose its own. */
  plugins?: readonly string[];
  /** Environment of every site's BPE. */
  env?: Readonly<Record<string, string>>;
  /** Identifier of the parent organisation (default Test_Consortium). */
  parentOrganization?: string;
  /** postgres:// URL of a server to make the databases on; default DSF_TEST_DATABASE_URL, else embedded. */
  databaseUrl?: string;
  /** Longest wait for one process to be ready (default 120 s). */
  startTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface TestNetwork {
  readonly sites: readonly TestSite[];
  /** The site of an organisation; throws for an unknown one. */
  site(organization: string): TestSite;
  readonly parentOrganization: string;
  /** PEM file of the test CA; the organisations' certificates are in certificates.organizations. */
  readonly certificates: CertificateSet;
  /** Stops every process, drops the databases, removes the work folder. */
  stop(): Promise<void>;
}

const siteOptions = (s: string | TestSiteOptions): TestSiteOptions => (typeof s === 'string' ? { organization: s } : s);

/** Database connections of each test site's FHIR server and BPE (the BPE's four job workers and six more). */
const TEST_SITE_POOL_MAX = 10;

/** The parent's environment without DSF settings of the developer's shell, which would leak into the sites. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DEV_DSF_') && !k.startsWith('DSF_BPE_') && k !== 'DSF_DATA_DIR') out[k] = v;
  return out;
}

export async function startTestNetwork(options: TestNetworkOptions): Promise<TestNetwork> {
  const log = options.log ?? (() => {});
  const sites = options.sites.map(siteOptions);
  if (sites.length === 0) throw new Error('a test network needs at least one site');
  const names = new Set(sites.map((s) => s.organization));
  if (names.size !== sites.length) throw new Error('two sites with the same organisation');
  const parentOrganization = options.parentOrganization ?? 'Test_Consortium';
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'dsf-test-network-'));

  log(`test network in ${workDir}: certificates`);
  const certificates = await generateCertificates({ dir: join(workDir, 'certs'), organizations: sites.map((s) => s.organization) });
  const databases = await networkDatabases(options.databaseUrl ?? process.env.DSF_TEST_DATABASE_URL, workDir, log);
  const ports = await Promise.all(sites.map(() => freePort()));
  const repositoryPorts = await Promise.all(sites.map((s) => (s.dataRepository ? freePort() : Promise.resolve(0))));
  const described: NetworkSite[] = sites.map((s, i) => ({
    organizationIdentifier: s.organization,
    name: s.organization.replaceAll('_', ' '),
    thumbprints: [certificates.organizations[s.organization]!.client.thumbprint],
    fhirBaseUrl: `https://localhost:${ports[i]}/fhir`,
    roles: [...(s.roles ?? defaultRolesOf(s.organization))],
  }));
  const bundleFile = join(workDir, 'network-bundle.json');
  writeFileSync(bundleFile, JSON.stringify(networkBundle(described, parentOrganization), null, 2));

  const ca = readFileSync(certificates.ca.certPath, 'utf8');
  const clients: HttpsClient[] = [];
  const running: RunningTestSite[] = [];
  const base = cleanEnvironment();
  try {
    for (const [i, s] of sites.entries()) {
      const org = certificates.organizations[s.organization]!;
      const dir = join(workDir, s.organization);
      const processDir = join(dir, 'process');
      mkdirSync(processDir, { recursive: true });
      for (const [n, plugin] of (s.plugins ?? options.plugins ?? []).entries()) symlinkSync(resolve(plugin), join(processDir, `${String(n).padStart(2, '0')}-${basename(plugin)}`), 'dir');
      const fhirDb = await databases.create(`${i}_fhir`);
      const bpeDb = await databases.create(`${i}_bpe`);
      const baseUrl = described[i]!.fhirBaseUrl;
      // The FHIR server's pool half a production site's (20): a test network's sites, and test files run
      // side by side, share one PostgreSQL and its max_connections (100 by default); the shell's own setting wins.
      const fhirEnv = (): NodeJS.ProcessEnv => ({
        DSF_FHIR_DB_POOL_MAX: String(TEST_SITE_POOL_MAX),
        ...base,
        DEV_DSF_FHIR_SERVER_BASE_URL: baseUrl,
        DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: s.organization,
        DEV_DSF_SERVER_API_HOST: '127.0.0.1',
        DEV_DSF_SERVER_API_PORT: String(ports[i]),
        DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
        DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
        DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: certificates.ca.certPath,
        DEV_DSF_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
        DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
        DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certificates.ca.certPath,
        DEV_DSF_FHIR_DB_URL: fhirDb,
        DEV_DSF_FHIR_SERVER_INIT_BUNDLE: bundleFile,
        DSF_DATA_DIR: join(dir, 'fhir'),
        DSF_LOG_LEVEL: process.env.DSF_TEST_KIT_FHIR_LOG_LEVEL ?? 'warn',
      });
      let repository: { url: string; control: ProcessControl; options: DataRepositoryOptions } | undefined;
      if (s.dataRepository) {
        const repositoryDb = await databases.create(`${i}_data`);
        const url = `https://localhost:${repositoryPorts[i]}/fhir`;
        const repositoryEnv = (): NodeJS.ProcessEnv => ({
          ...fhirEnv(),
          DEV_DSF_FHIR_SERVER_BASE_URL: url,
          DEV_DSF_SERVER_API_PORT: String(repositoryPorts[i]),
          DEV_DSF_FHIR_DB_URL: repositoryDb,
          DSF_DATA_DIR: join(dir, 'data-repository'),
          DSF_FHIR_DATA_REPOSITORY: 'true',
        });
        repository = { url, control: new ProcessControl(new SiteProcess(`${s.organization} data repository`, 'fhir'), repositoryEnv, startTimeoutMs), options: s.dataRepository };
      }
      const connections = repository
        ? {
            DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: [
              `${DATA_REPOSITORY_CONNECTION}:`,
              `  base-url: ${repository.url}`,
              `  trusted-root-certificates-file: ${certificates.ca.certPath}`,
              `  cert-auth:`,
              `    certificate-file: ${org.client.certPath}`,
              `    private-key-file: ${org.client.keyPath}`,
            ].join('\n'),
          }
        : {};
      const bpeEnv = (): NodeJS.ProcessEnv => ({
        ...connections,
        ...base,
        DEV_DSF_BPE_FHIR_SERVER_BASE_URL: baseUrl,
        DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
        DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
        DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certificates.ca.certPath,
        DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_CONNECT: 'PT2S',
        DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_SLEEP: 'PT0.5S',
        DEV_DSF_BPE_PROCESS_FHIR_SERVER_RETRY_SLEEP: 'PT0.5S',
        DEV_DSF_BPE_DB_URL: bpeDb,
        DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: processDir,
        DSF_BPE_DATA_DIR: join(dir, 'bpe'),
        DSF_BPE_DB_POOL_MAX: String(TEST_SITE_POOL_MAX),
        ...options.env,
        ...s.env,
      });
      const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca });
      clients.push(http);
      const fhir = new HttpFhirClient({ http, baseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 });
      const dataRepository: (DataRepository & { server: ProcessControl }) | undefined = repository && {
        baseUrl: repository.url,
        fhir: new HttpFhirClient({ http, baseUrl: repository.url, connectTimeoutMs: 5_000, readTimeoutMs: 120_000 }),
        server: repository.control,
        patients: repository.options.patients,
        seed: repository.options.seed ?? 'dsf-ts',
      };
      running.push(
        new RunningTestSite(
          s.organization,
          baseUrl,
          new URL(baseUrl).host,
          fhir,
          new ProcessControl(new SiteProcess(`${s.organization} fhir`, 'fhir'), fhirEnv, startTimeoutMs),
          new ProcessControl(new SiteProcess(`${s.organization} bpe`, 'bpe'), bpeEnv, startTimeoutMs),
          s.startBpe ?? true,
          dataRepository,
        ),
      );
    }
    log(`starting ${running.length} FHIR server(s)`);
    await Promise.all(running.map((s) => s.fhirServer.start()));
    const repositories = running.filter((s) => s.dataRepository);
    if (repositories.length) {
      log(`starting and filling ${repositories.length} data repositories`);
      await Promise.all(
        repositories.map(async (s) => {
          const repository = s.dataRepository!;
          await repository.server.start();
          await loadSyntheticData((bundle) => repository.fhir.postBundle(bundle), { site: s.organization, count: repository.patients, seed: repository.seed });
        }),
      );
    }
    log(`starting the BPEs`);
    await Promise.all(running.filter((_, i) => sites[i]!.startBpe ?? true).map((s) => s.bpe.start()));
    // Ready: every BPE has bound its subscriptions and caught up (site-main waits for it).
    log(`test network ready after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    for (const c of clients) c.close();
    await stopAll(running);
    await databases.close().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }

  let stopped = false;
  return {
    sites: running,
    parentOrganization,
    certificates,
    site(organization) {
      const site = running.find((s) => s.organization === organization);
      if (!site) throw new Error(`no site ${organization} in this network (${running.map((s) => s.organization).join(', ')})`);
      return site;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // The test's connections first: a FHIR server's shutdown waits a moment for idle keep-alive connections.
      for (const c of clients) c.close();
      await stopAll(running);
      await databases.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

async function stopAll(sites: RunningTestSite[]): Promise<void> {
  await Promise.all(sites.map((s) => s.bpe.stop()));
  await Promise.all(sites.map((s) => s.fhirServer.stop()));
  await Promise.all(sites.map((s) => s.dataRepository?.server.stop()));
}
