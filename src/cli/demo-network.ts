// `dsf demo` (npm start): a network of DSF sites on loopback in one process. One embedded PostgreSQL holds
// two databases per site (FHIR server, BPE); a test CA and certificates are generated on first run; every
// site's initial bundle makes it know all the others and gives them roles under one parent organisation
// (network-bundle.ts). Each site runs its FHIR server and its BPE with the plugins shipped in plugins/
// (ping-pong, hello-world, allow-list, feasibility, data-sharing; the TTP manages the allow list), and has three local
// users (demo-users.ts). A second start reuses the data. demo-add-site.ts adds a site to a running demo.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { generateCertificates } from './certs.ts';
import type { BpeStatusServer } from './bpe-status-server.ts';
import { BPE_STATUS_PORT_OFFSET, FHIR_STATUS_PORT_OFFSET, SHIPPED_PLUGINS, startDemoBpe, startDemoFhirServer, type DemoSiteContext } from './demo-site.ts';
import { DEMO_USER_PKCS12_PASSWORD, demoBpeRoleConfig, demoRoleConfig, demoUsers, type DemoUser } from './demo-users.ts';
import { defaultRolesOf, networkBundle, type NetworkSite } from './network-bundle.ts';
import type { RunningBpe } from '../bpe/bpe-server.ts';
import type { LogLevel } from '../bpe/services/logging.ts';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../common/https-client.ts';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../db/embedded.ts';
import { withDatabase } from '../db/pool.ts';
import type { RunningFhirServer } from '../fhir/fhir-server.ts';
import { findDraftTask, requestedTaskFrom } from '../plugin-api/draft-tasks.ts';
import { DATA_REPOSITORY_PORT_OFFSET, DEMO_RESEARCH_PLATFORM, startDemoDataRepositories, type DemoDataRepositories } from './demo-data-repositories.ts';

export { SHIPPED_PLUGINS };
export const DEMO_PARENT_ORGANIZATION = 'Test_Consortium';
export const START_PING_DRAFT = 'http://dsf.dev/bpe/Process/ping/1.0/task-start-ping';
export const FEASIBILITY_REQUEST_DRAFT = 'http://dsf-ts.dev/bpe/Process/feasibilityRequest/0.1/task-feasibility-request';
export const DATA_SHARING_REQUEST_DRAFT = 'http://dsf-ts.dev/bpe/Process/dataSharingRequest/0.1/task-data-sharing-request';
/** The BPE status endpoints listen this far above the FHIR servers' ports. */
export const BPE_PORT_OFFSET = 1000;
export { FHIR_STATUS_PORT_OFFSET, BPE_STATUS_PORT_OFFSET };

export interface DemoOptions {
  dir: string;
  organizations: string[];
  basePort: number;
  /** postgres:// URL of an external server; default: embedded PostgreSQL under dir. */
  databaseUrl?: string;
  /** Put before each site's database names (fhir_<site>, bpe_<site>), so several networks can share one server. */
  databasePrefix?: string;
  log: (line: string) => void;
  /** Least level of BPE log lines shown in the console (all go to <dir>/logs/<site>-bpe.log). */
  bpeConsoleLevel?: LogLevel;
  /**
   * Synthetic patients in each DIC's local data repository (demo-data-repositories.ts); none when 0 or
   * absent. A research platform (Test_HRP) is added when no site has the role HRP.
   */
  dataRepositoryPatients?: number;
  /** A filled repository database to copy for each DIC instead of loading (benchmarks). */
  dataRepositoryTemplate?: string;
}

export interface NetworkUser {
  name: string;
  email: string;
  /** What the user is (practitioner, DSF_ADMIN, minimal), as in the reference's integration tests. */
  plays: string;
  cert: string;
  key: string;
  /** PKCS#12 with key, certificate and CA; password in NetworkFile.userPkcs12Password. */
  p12?: string;
}

export interface NetworkSiteFile {
  organization: string;
  fhirBaseUrl: string;
  /** The BPE's status endpoint (JSON; client certificate of the demo CA). */
  bpeBaseUrl: string;
  /** The status ports (plain HTTP /status and /metrics) of the FHIR server and the BPE. */
  fhirStatusUrl?: string;
  bpeStatusUrl?: string;
  roles: string[];
  clientCert: string;
  clientKey: string;
  serverCert: string;
  thumbprint: string;
  roleConfig: string;
  users: NetworkUser[];
}

export interface NetworkFile {
  ca: string;
  userPkcs12Password: string;
  parentOrganization: string;
  /** The organisation that runs updateAllowList (DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION of every site). */
  allowListOrganization?: string;
  /** The PostgreSQL server holding the sites' databases (a site added later puts its own there). */
  databaseUrl?: string;
  databasePrefix?: string;
  sites: NetworkSiteFile[];
}

export interface RunningDemo {
  network: NetworkFile;
  networkFile: string;
  stop(): Promise<void>;
}

export const DEFAULT_DEMO_ORGANIZATIONS = ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'];

/** N sites: N-1 data integration centres and a trusted third party (one site: a DIC). */
export function demoOrganizations(sites: number): string[] {
  if (!Number.isInteger(sites) || sites < 1 || sites >= BPE_PORT_OFFSET) throw new Error(`--sites must be a whole number from 1 to ${BPE_PORT_OFFSET - 1}`);
  if (sites === 1) return ['Test_DIC_1'];
  return [...Array.from({ length: sites - 1 }, (_, i) => `Test_DIC_${i + 1}`), 'Test_TTP'];
}

/** The servers' own pool sizes (DSF_FHIR_DB_POOL_MAX, DSF_BPE_DB_POOL_MAX defaults). */
const FHIR_POOL_DEFAULT = 20;
const BPE_POOL_DEFAULT = 10;
/** Connections outside the pools: administration, statement cancellation, the demo's own checks. */
const SPARE_CONNECTIONS = 10;

/**
 * Pool sizes such that all of the demo's servers together stay below the PostgreSQL server's
 * max_connections (else connections beyond it fail with "too many clients"): a FHIR server's pool
 * twice a BPE's, as by default, each at most its default and at least 2. Every FHIR server also keeps
 * one connection of its own for LISTEN (events).
 */
export function demoPoolSizes(maxConnections: number, reserved: number, fhirServers: number, bpes: number): { fhir: number; bpe: number } {
  const budget = maxConnections - reserved - SPARE_CONNECTIONS - fhirServers;
  const share = budget / (2 * fhirServers + bpes);
  return { fhir: Math.max(2, Math.min(FHIR_POOL_DEFAULT, Math.floor(2 * share))), bpe: Math.max(2, Math.min(BPE_POOL_DEFAULT, Math.floor(share))) };
}

async function poolSizesFor(serverUrl: string, fhirServers: number, bpes: number): Promise<{ fhir: number; bpe: number; maxConnections: number }> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ max: number; reserved: number }>(
      "SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved",
    );
    const { max, reserved } = rows[0]!;
    return { ...demoPoolSizes(max, reserved, fhirServers, bpes), maxConnections: max };
  } finally {
    await admin.end();
  }
}

/** A base port whose FHIR ports (base … base+n-1) and BPE ports (+1000) are all free now (for tests and benchmarks). */
export async function findFreeBasePort(sites: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + DATA_REPOSITORY_PORT_OFFSET + sites > 65535) continue;
    const ports = Array.from({ length: sites }, (_, i) => [0, BPE_PORT_OFFSET, FHIR_STATUS_PORT_OFFSET, BPE_STATUS_PORT_OFFSET, DATA_REPOSITORY_PORT_OFFSET].map((o) => base + o + i)).flat();
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no free range of ports for ${sites} sites`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
/** A path as short as it can be for copy-paste: relative below the working folder, else absolute. */
const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

export async function startDemoNetwork(opts: DemoOptions): Promise<RunningDemo> {
  const dir = resolve(opts.dir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const log = opts.log;
  const research = (opts.dataRepositoryPatients ?? 0) > 0;
  if (research && !opts.organizations.some((o) => defaultRolesOf(o).includes('HRP'))) opts = { ...opts, organizations: [...opts.organizations, DEMO_RESEARCH_PLATFORM] };
  const n = opts.organizations.length;
  const started = Date.now();
  const step = (i: number, text: string) => log(`[${i}/5] ${text}`);

  step(1, `certificates in ${join(dir, 'certs')}`);
  const users = new Map<string, DemoUser[]>(opts.organizations.map((org) => [org, demoUsers(org)]));
  const certs = await generateCertificates({
    dir: join(dir, 'certs'),
    organizations: opts.organizations,
    users: [...users.values()].flat().map((u) => ({ name: u.name, email: u.email })),
    userPkcs12Password: DEMO_USER_PKCS12_PASSWORD,
  });

  let serverUrl = opts.databaseUrl;
  let stopDb = async () => {};
  if (!serverUrl) {
    step(2, `starting embedded PostgreSQL in ${join(dir, 'postgres')}`);
    const db = await startEmbeddedPostgres(join(dir, 'postgres'), { log: (l) => log(`      ${l}`) });
    serverUrl = db.url;
    stopDb = db.stop;
  } else step(2, `using PostgreSQL at ${new URL(serverUrl).host}`);

  const repositoryCount = research ? opts.organizations.filter((o) => defaultRolesOf(o).includes('DIC')).length : 0;
  const databasePools = await poolSizesFor(serverUrl, n + repositoryCount, n);
  log(`      database pools: ${databasePools.fhir} connections per FHIR server, ${databasePools.bpe} per BPE (PostgreSQL max_connections ${databasePools.maxConnections})`);

  const sites: (NetworkSite & { key: string; port: number; bpePort: number })[] = opts.organizations.map((org, i) => ({
    key: org,
    organizationIdentifier: org,
    name: org.replaceAll('_', ' '),
    thumbprints: [certs.organizations[org]!.client.thumbprint],
    fhirBaseUrl: `https://localhost:${opts.basePort + i}/fhir`,
    roles: defaultRolesOf(org),
    port: opts.basePort + i,
    bpePort: opts.basePort + BPE_PORT_OFFSET + i,
  }));
  const bundleFile = join(dir, 'network-bundle.json');
  writeFileSync(bundleFile, JSON.stringify(networkBundle(sites, DEMO_PARENT_ORGANIZATION), null, 2));
  // The reference's role configuration format (DEV_DSF_FHIR_SERVER_ROLECONFIG), one file per site.
  const roleConfigFile = (key: string) => join(dir, `${key}-role-config.yaml`);
  // The BPE's role configuration (DEV_DSF_BPE_SERVER_ROLECONFIG): its web view is for the site's admin user.
  const bpeRoleConfigFile = (key: string) => join(dir, `${key}-bpe-role-config.yaml`);
  for (const site of sites) {
    const siteUsers = users.get(site.key)!.map((u) => ({ ...u, thumbprint: certs.users[u.name]!.thumbprint }));
    writeFileSync(roleConfigFile(site.key), demoRoleConfig(siteUsers));
    writeFileSync(bpeRoleConfigFile(site.key), demoBpeRoleConfig(siteUsers));
  }

  const allowListOrganization = process.env.DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION ?? allowListOrganizationOf(sites);
  const siteContext = (key: string): DemoSiteContext => ({
    dir,
    ca: certs.ca,
    certificates: certs.organizations[key]!,
    databaseUrl: serverUrl,
    databasePrefix: opts.databasePrefix ?? '',
    initBundleFile: bundleFile,
    roleConfigFile: roleConfigFile(key),
    bpeRoleConfigFile: bpeRoleConfigFile(key),
    clientConnectionsConfig: repositories?.connectionsConfig(key),
    allowListOrganization,
    bpeConsoleLevel: opts.bpeConsoleLevel ?? 'warn',
    databasePools,
    log,
  });
  const fhirServers: RunningFhirServer[] = [];
  const bpes: RunningBpe[] = [];
  const statusServers: BpeStatusServer[] = [];
  let repositories: DemoDataRepositories | undefined;
  const stopAll = async () => {
    await Promise.all(statusServers.map((s) => s.close()));
    await Promise.all(bpes.map((b) => b.stop()));
    await Promise.all(fhirServers.map((r) => r.close()));
    await repositories?.stop();
    await stopDb();
  };
  try {
    step(3, `starting ${n} FHIR server(s)`);
    let ready = 0;
    await Promise.all(
      sites.map(async (site) => {
        fhirServers.push(await startDemoFhirServer(site, siteContext(site.key)));
        log(`      ${String(++ready).padStart(String(n).length)}/${n} FHIR server of ${site.organizationIdentifier} on ${site.fhirBaseUrl}`);
      }),
    );

    if (research) {
      const dics = sites.filter((s) => s.roles.includes('DIC'));
      log(`      starting ${dics.length} local data repositories (${opts.dataRepositoryPatients} synthetic patients each on first start)`);
      repositories = await startDemoDataRepositories({
        sites: dics.map((s) => ({ organization: s.organizationIdentifier, port: s.port })),
        certs,
        databaseServerUrl: serverUrl,
        databasePrefix: opts.databasePrefix ?? '',
        initBundle: bundleFile,
        dir,
        patients: opts.dataRepositoryPatients!,
        template: opts.dataRepositoryTemplate,
        poolMax: databasePools.fhir,
        log,
      });
    }

    step(4, `starting ${n} BPE(s) with the plugins in ${rel(SHIPPED_PLUGINS)}`);
    ready = 0;
    await Promise.all(
      sites.map(async (site) => {
        const { bpe, status } = await startDemoBpe(site, siteContext(site.key));
        bpes.push(bpe);
        statusServers.push(status);
        const processes = bpe.deployment.states.filter((s) => s.newState === 'ACTIVE').length;
        log(`      ${String(++ready).padStart(String(n).length)}/${n} BPE of ${site.organizationIdentifier}: ${processes} processes active, connected`);
      }),
    );
  } catch (e) {
    await stopAll();
    throw e;
  }

  const network: NetworkFile = {
    ca: certs.ca.certPath,
    userPkcs12Password: DEMO_USER_PKCS12_PASSWORD,
    parentOrganization: DEMO_PARENT_ORGANIZATION,
    allowListOrganization,
    databaseUrl: serverUrl,
    databasePrefix: opts.databasePrefix ?? '',
    sites: sites.map((s) => ({
      organization: s.organizationIdentifier,
      fhirBaseUrl: s.fhirBaseUrl,
      bpeBaseUrl: `https://localhost:${s.bpePort}/bpe`,
      fhirStatusUrl: `http://127.0.0.1:${s.port + FHIR_STATUS_PORT_OFFSET}`,
      bpeStatusUrl: `http://127.0.0.1:${s.port + BPE_STATUS_PORT_OFFSET}`,
      roles: s.roles,
      clientCert: certs.organizations[s.key]!.client.certPath,
      clientKey: certs.organizations[s.key]!.client.keyPath,
      serverCert: certs.organizations[s.key]!.server.certPath,
      thumbprint: certs.organizations[s.key]!.client.thumbprint,
      roleConfig: roleConfigFile(s.key),
      users: users.get(s.key)!.map((u) => {
        const c = certs.users[u.name]!;
        return { name: u.name, email: u.email, plays: u.plays, cert: c.certPath, key: c.keyPath, p12: c.p12Path };
      }),
    })),
  };
  const networkFile = join(dir, 'network.json');
  writeFileSync(networkFile, JSON.stringify(network, null, 2));
  const pingFiles = await writeStartPingTasks(network, join(dir, 'tasks'));
  step(5, `network ready in ${((Date.now() - started) / 1000).toFixed(1)} s, resident memory ${mib(process.memoryUsage().rss)} (${networkFile})`);
  for (const s of network.sites) {
    log(`  ${s.organization.padEnd(12)} FHIR ${s.fhirBaseUrl}   BPE ${s.bpeBaseUrl}   roles ${s.roles.join(', ')} in ${network.parentOrganization}`);
    log(`    web UI   ${s.fhirBaseUrl}/Task?status=draft   process engine view ${s.bpeBaseUrl}/ui (admin only)`);
    for (const u of s.users) log(`    user ${u.name.padEnd(24)} ${u.plays} (${rel(u.p12 ?? u.cert)})`);
  }
  log('');
  log(`Sign in to a web UI: import a user's .p12 file into the browser's certificates (password '${network.userPkcs12Password}'),`);
  log(`trust the demo CA ${rel(network.ca)} (or accept the warning), open the web UI link and choose that certificate.`);
  if (/^true$/i.test(process.env.DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW ?? '')) {
    log(`The process engine views also sign in by OpenID Connect (DEV_DSF_SERVER_AUTH_OIDC_*): register each <BPE>/ui/login/callback at the provider; an account with a site admin's e-mail is an ADMIN.`);
  }
  const first = network.sites[0]!;
  log('');
  log(`Ping every other site from ${first.organization} (and wait for the pongs):`);
  log(`  npx dsf start-process --network ${rel(networkFile)} --site ${first.organization} --draft ${START_PING_DRAFT}`);
  log('or with curl:');
  log(
    `  curl --cacert ${rel(network.ca)} --cert ${rel(first.clientCert)} --key ${rel(first.clientKey)} -H 'Content-Type: application/fhir+json' --data @${rel(pingFiles[0]!)} ${first.fhirBaseUrl}/Task`,
  );
  const hrp = network.sites.find((s) => s.roles.includes('HRP'));
  if (research && hrp) {
    log('');
    log(`Feasibility (diabetes with HbA1c >= 6.5 %) from ${hrp.organization} to every DIC's data repository:`);
    log(`  npx dsf start-process --network ${rel(networkFile)} --site ${hrp.organization} --draft ${FEASIBILITY_REQUEST_DRAFT}`);
    log(`Data sharing (committee decision, consent, record linkage at the TTP, encrypted to the DMS ${hrp.organization}):`);
    log(`  npx dsf start-process --network ${rel(networkFile)} --site ${hrp.organization} --draft ${DATA_SHARING_REQUEST_DRAFT}`);
    log(`  then decide as ${hrp.organization}-committee (UAC_USER) in the web UI: ${hrp.fhirBaseUrl}/QuestionnaireResponse?status=in-progress`);
  }
  log(`BPE logs: ${rel(join(dir, 'logs'))}/<site>-bpe.log`);

  return { network, networkFile, stop: stopAll };
}

/** A requested start-ping Task per site, made from the site's deployed draft, for curl --data @file. */
async function writeStartPingTasks(network: NetworkFile, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const ca = readFileSync(network.ca, 'utf8');
  const out: string[] = [];
  for (const site of network.sites) {
    const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca });
    try {
      const client = new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 30_000 });
      const file = join(dir, `${site.organization}-start-ping.json`);
      writeFileSync(file, JSON.stringify(requestedTaskFrom(await findDraftTask(client, START_PING_DRAFT)), null, 2));
      out.push(file);
    } finally {
      http.close();
    }
  }
  return out;
}

/** The site that manages the allow list: the trusted third party if there is one, else the first site. */
export function allowListOrganizationOf(sites: readonly { organizationIdentifier: string; roles: string[] }[]): string {
  return (sites.find((s) => s.roles.includes('TTP')) ?? sites[0]!).organizationIdentifier;
}
