// One demo site's servers: its FHIR server and its BPE (with the shipped plugins and the site's own plugin
// folder, and its HTTPS server with the status JSON and the BPE view), configured as `dsf demo` configures every site. Shared by the
// demo network (demo-network.ts) and by a site added to a running demo (demo-add-site.ts).
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CertificateFiles, OrganizationCertificates } from './certs.ts';
import { defaultRolesOf } from './network-bundle.ts';
import type { BpeWebServer } from '../bpe/web/bpe-web-server.ts';
import { readBpeConfig } from '../bpe/config.ts';
import { startBpeServer, type RunningBpe } from '../bpe/bpe-server.ts';
import { BpeLogger, type LogLevel } from '../bpe/services/logging.ts';
import { withDatabase } from '../db/pool.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer, type RunningFhirServer } from '../fhir/fhir-server.ts';

/** The plugins the project ships; every demo site deploys them. */
export const SHIPPED_PLUGINS = fileURLToPath(new URL('../../plugins', import.meta.url));

/** The status ports (DEV_DSF_SERVER_STATUS_PORT) of the FHIR servers and the BPEs, this far above the FHIR port. */
export const FHIR_STATUS_PORT_OFFSET = 2000;
export const BPE_STATUS_PORT_OFFSET = 3000;

/** The BPE's HTTPS server (DEV_DSF_BPE_SERVER_BASE_URL) and its web view. */
export const bpeBaseUrl = (site: { bpePort: number }) => `https://localhost:${site.bpePort}/bpe`;
export const bpeUiUrl = (site: { bpePort: number }) => `${bpeBaseUrl(site)}/ui`;

export interface DemoSiteSpec {
  /** Folder and database name part (the organisation identifier). */
  key: string;
  organizationIdentifier: string;
  fhirBaseUrl: string;
  port: number;
  bpePort: number;
}

export interface DemoSiteContext {
  /** The demo's data folder. */
  dir: string;
  ca: CertificateFiles;
  certificates: OrganizationCertificates;
  /** postgres:// URL of the server holding the demo's databases. */
  databaseUrl: string;
  databasePrefix: string;
  initBundleFile: string;
  roleConfigFile: string;
  /** The BPE's role configuration (DEV_DSF_BPE_SERVER_ROLECONFIG): who may use its web view. */
  bpeRoleConfigFile: string;
  /** DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG, e.g. the site's local data repository. */
  clientConnectionsConfig?: string;
  /** Organisation that may run updateAllowList (DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION unless set). */
  allowListOrganization: string;
  bpeConsoleLevel: LogLevel;
  /** Connections of each FHIR server's and BPE's database pool (sized to the server's max_connections); default the servers'. */
  databasePools?: { fhir: number; bpe: number };
  log: (line: string) => void;
}

export function startDemoFhirServer(site: DemoSiteSpec, ctx: DemoSiteContext): Promise<RunningFhirServer> {
  const c = ctx.certificates;
  const config = readFhirServerConfig({
    DEV_DSF_FHIR_SERVER_BASE_URL: site.fhirBaseUrl,
    DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: site.organizationIdentifier,
    DEV_DSF_SERVER_API_HOST: '127.0.0.1',
    DEV_DSF_SERVER_API_PORT: String(site.port),
    DEV_DSF_SERVER_CERTIFICATE: c.server.certPath,
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: c.server.keyPath,
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: ctx.ca.certPath,
    DEV_DSF_FHIR_CLIENT_CERTIFICATE: c.client.certPath,
    DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: c.client.keyPath,
    DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: ctx.ca.certPath,
    DEV_DSF_FHIR_DB_URL: withDatabase(ctx.databaseUrl, `${ctx.databasePrefix}fhir_${site.key.toLowerCase()}`),
    ...(ctx.databasePools ? { DSF_FHIR_DB_POOL_MAX: String(ctx.databasePools.fhir) } : {}),
    DEV_DSF_FHIR_SERVER_INIT_BUNDLE: ctx.initBundleFile,
    DEV_DSF_FHIR_SERVER_ROLECONFIG: ctx.roleConfigFile,
    DEV_DSF_SERVER_STATUS_PORT: String(site.port + FHIR_STATUS_PORT_OFFSET),
    DSF_FHIR_SERVER_UI_BPE_URL: bpeUiUrl(site),
    DSF_DATA_DIR: join(ctx.dir, site.key),
    // Many servers' request lines would bury the demo's own output; DSF_LOG_LEVEL=info shows them.
    DSF_LOG_LEVEL: process.env.DSF_LOG_LEVEL ?? 'warn',
  });
  return startFhirServer(config);
}

export interface RunningDemoBpe {
  bpe: RunningBpe;
  /** The BPE's HTTPS server (also closed by bpe.stop()). */
  status: BpeWebServer;
}

/** Starts the BPE with its HTTPS server (status JSON, BPE view) and waits until it is connected to its FHIR server. */
export async function startDemoBpe(site: DemoSiteSpec, ctx: DemoSiteContext): Promise<RunningDemoBpe> {
  const c = ctx.certificates;
  const processDir = join(ctx.dir, site.key, 'process');
  mkdirSync(processDir, { recursive: true });
  mkdirSync(join(ctx.dir, 'logs'), { recursive: true });
  const config = readBpeConfig({
    DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION: ctx.allowListOrganization,
    ...dataSharingDemoKeys(ctx.dir, defaultRolesOf(site.organizationIdentifier)),
    ...process.env, // plugin placeholders, e.g. DEV_DSF_BPE_PING_PONG_TIMEOUT
    ...(ctx.clientConnectionsConfig ? { DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: ctx.clientConnectionsConfig } : {}),
    DEV_DSF_BPE_FHIR_SERVER_BASE_URL: site.fhirBaseUrl,
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: c.client.certPath,
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: c.client.keyPath,
    DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: ctx.ca.certPath,
    DEV_DSF_BPE_DB_URL: withDatabase(ctx.databaseUrl, `${ctx.databasePrefix}bpe_${site.key.toLowerCase()}`),
    ...(ctx.databasePools ? { DSF_BPE_DB_POOL_MAX: String(ctx.databasePools.bpe) } : {}),
    // The site's own plugin folder (empty at first) and the shipped plugins.
    DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: processDir,
    DSF_BPE_PROCESS_PLUGIN_DIRECTORIES: SHIPPED_PLUGINS,
    DSF_BPE_DATA_DIR: join(ctx.dir, site.key, 'bpe'),
    DEV_DSF_SERVER_STATUS_PORT: String(site.port + BPE_STATUS_PORT_OFFSET),
    DEV_DSF_BPE_SERVER_ROLECONFIG: ctx.bpeRoleConfigFile,
    // The BPE's HTTPS server with the site's server certificate; OpenID Connect sign-in to the view when
    // the demo's environment configures it (DEV_DSF_SERVER_AUTH_OIDC_*).
    DEV_DSF_BPE_SERVER_BASE_URL: bpeBaseUrl(site),
    DSF_BPE_SERVER_API_HOST: '127.0.0.1',
    DSF_BPE_SERVER_API_PORT: String(site.bpePort),
    DEV_DSF_SERVER_CERTIFICATE: c.server.certPath,
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: c.server.keyPath,
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: ctx.ca.certPath,
  });
  const bpe = await startBpeServer(config, { logger: siteLogger(join(ctx.dir, 'logs', `${site.key}-bpe.log`), site.key, ctx.bpeConsoleLevel, ctx.log) });
  try {
    await bpe.connected();
    const status = bpe.web!;
    return { bpe, status };
  } catch (e) {
    await bpe.stop();
    throw e;
  }
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Every line to the site's log file; from `consoleLevel` up also to the console, marked with the site. */
function siteLogger(file: string, site: string, consoleLevel: LogLevel, log: (line: string) => void): BpeLogger {
  return new BpeLogger((level, message) => {
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
    appendFileSync(file, `${line}\n`);
    if (ORDER[level] >= ORDER[consoleLevel]) log(`${site} ${line}`);
  });
}

/**
 * The data-sharing plugin's secrets for a demo: the record linkage key at the DICs only, the pseudonym key
 * at the TTP only; derived from the demo folder, so demo values, not secrets (the environment overrides them).
 */
function dataSharingDemoKeys(dir: string, roles: readonly string[]): Record<string, string> {
  const derive = (purpose: string) => createHash('sha256').update(`dsf-ts demo ${purpose} ${dir}`).digest('hex');
  return {
    ...(roles.includes('DIC') ? { DEV_DSF_DATA_SHARING_LINKAGE_KEY: derive('record linkage key') } : {}),
    ...(roles.includes('TTP') ? { DEV_DSF_DATA_SHARING_PSEUDONYM_KEY: derive('pseudonym key') } : {}),
  };
}
