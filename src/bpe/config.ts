// The BPE server's settings, read from the reference's DEV_DSF_BPE_* variable names (DSF_BPE_* for
// settings the reference does not have). Every variable may be given as <NAME>_FILE; every problem
// is reported at once.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigReader } from '../common/config-reader.ts';
import { BPE_VARIABLES, DATA_LOGGER_VARIABLES, DEFAULT_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH, DEFAULT_TASK_SUBSCRIPTION_SEARCH } from './config-variables.ts';
import { BpeRoleConfig } from './ui/bpe-role-config.ts';
import type { OidcLoginSettings } from '../common/web/oidc-login.ts';
import { readOidcLoginSettings } from '../common/web/oidc-login-config.ts';
import { dataLoggerConfigFromEnv, type DataLoggerConfig } from './api-services/data-logger/data-logger-config.ts';
import { createProxyConfig, type ProxyConfig } from '../plugin-api/proxy-config.ts';
import { parseClientConnections, readPemCertificates, type ConnectionDefaults, type ConnectionSpec } from './client/client-connections.ts';
import type { OidcCacheSettings } from './client/configured-clients.ts';
import { homedir } from 'node:os';
import { isIP } from 'node:net';

export { DEFAULT_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH, DEFAULT_TASK_SUBSCRIPTION_SEARCH };

export interface ProcessIdAndVersion {
  processId: string;
  version: string;
}

export interface MailConfig {
  host?: string;
  port: number;
  useSmtps: boolean;
  username?: string;
  password?: string;
  fromAddress?: string;
  toAddresses: string[];
  toAddressesCc: string[];
  replyToAddresses: string[];
  /** PEM CAs trusted for SMTPS (default: the system's). */
  trustedCas?: string[];
  /** PKCS#12 key store whose key signs every mail (S/MIME), and its password. */
  smimeP12KeyStore?: string;
  smimeP12KeyStorePassword?: string;
  sendTestMailOnStartup?: boolean;
  /** Mail every ERROR log line with the lines before it. */
  sendMailOnErrorLogEvent?: boolean;
  mailOnErrorLogEventBufferSize?: number;
  /** Named in those mails: where the full log is. */
  mailOnErrorLogEventDebugLogLocation?: string;
  /** Rate limit of those mails: at most this many per interval, the rest in one summary. */
  mailOnErrorMaxPerInterval?: number;
  mailOnErrorIntervalMs?: number;
  /** At shutdown: how long to wait for the error mails still queued (the held-back summary included). */
  mailOnErrorShutdownWaitMs?: number;
}

export interface BpeConfig {
  /** The local FHIR server, e.g. https://dsf.example.org/fhir */
  fhirServerBaseUrl: string;
  /** PEM client certificate (chain) and key of the organisation. */
  clientCertificate: string;
  clientCertificateKey: string;
  clientCertificateKeyPassword?: string;
  /** PEM CAs trusted for server certificates (local and remote FHIR servers); undefined: the system's. */
  trustedServerCas?: string[];
  localConnectTimeoutMs: number;
  localReadTimeoutMs: number;
  remoteConnectTimeoutMs: number;
  remoteReadTimeoutMs: number;
  taskSubscriptionSearch: string;
  questionnaireResponseSubscriptionSearch: string;
  /** Attempts to find the Subscriptions: -1 forever. */
  subscriptionRetryMax: number;
  subscriptionRetrySleepMs: number;
  /** Requests of the plugin deployment to the local FHIR server: -1 retries forever. */
  fhirServerRetryMax: number;
  fhirServerRetrySleepMs: number;
  /** How far before the last seen change a catch-up starts (writers commit out of timestamp order). */
  catchUpOverlapMs: number;
  pluginDirectory: string;
  /** DEV_DSF_BPE_SERVER_ROLECONFIG: who may use the BPE's web view (role ADMIN); inline YAML or a .yaml file. */
  roleConfig?: BpeRoleConfig;
  /** Browser sign-in to the BPE view by OpenID Connect (DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW). */
  oidcLogin?: OidcLoginSettings;
  /** Further plugin folders (e.g. those the project ships). */
  extraPluginDirectories: string[];
  excluded: ProcessIdAndVersion[];
  retired: ProcessIdAndVersion[];
  /** postgres:// URL; undefined starts an embedded PostgreSQL under dataDir. */
  dbUrl?: string;
  /** Most connections of the BPE's database pool (DSF_BPE_DB_POOL_MAX; default 10, or jobWorkers + JOB_POOL_HEADROOM when more). */
  dbPoolMax?: number;
  /** Jobs the process engine runs at once (DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE; default 4), each on a connection of the pool. */
  jobWorkers?: number;
  /** Longest wait for a database connection before the work fails (DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS; default 30 s). */
  dbPoolWaitTimeoutMs?: number;
  dataDir: string;
  mail: MailConfig;
  /** The plugins' DataLogger (DEV_DSF_LOG_DATA_*): off unless enabled. */
  dataLogger: DataLoggerConfig;
  /** The environment (for #{...} placeholders in plugins). */
  env: Record<string, string | undefined>;
  /** The forward proxy (DEV_DSF_PROXY_URL, _USERNAME, _PASSWORD, _NOPROXY); none when absent. */
  proxy?: ProxyConfig;
  /** FHIR server connections for plugins (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG and its _DEFAULT_* variables). */
  clientConnections?: { specs: ConnectionSpec[]; defaults: ConnectionDefaults };
  /** Caching of the OIDC client-credentials clients (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_*). */
  oidcCache?: OidcCacheSettings;
  /** DEV_DSF_BPE_PROCESS_FHIR_VALIDATION_ENABLED: plugins get a ValidationService (default false). */
  fhirValidationEnabled?: boolean;
  /** DSF_BPE_FHIR_PACKAGE_CACHE: the FHIR package cache the validation reads (default ~/.fhir/packages). */
  fhirPackageCache?: string;
  /** The status port (plain HTTP: /status, /metrics); none when no port is set. */
  statusHost?: string;
  statusPort?: number;
  /** On stop (SIGTERM): longest wait for running jobs. */
  shutdownTimeoutMs?: number;
  /** The BPE's HTTPS server (status JSON and the BPE view); none unless DEV_DSF_BPE_SERVER_BASE_URL is set. */
  web?: BpeWebServerConfig;
}

export interface BpeWebServerConfig {
  /** External base URL, e.g. https://bpe.example.org/bpe; the view is <baseUrl>/ui. */
  baseUrl: string;
  host: string;
  port: number;
  /** PEM server certificate (chain) and key. */
  serverCertificate: string;
  serverCertificateKey: string;
  /** PEM CAs whose client certificates are accepted (asked for, not required). */
  trustedClientCas: string[];
  /** Behind a reverse proxy: the header with the client certificate, believed only from these addresses. */
  clientCertificateHeader: string;
  trustedProxyAddresses: string[];
  /** Time a client has for the TLS handshake and its headers, for a whole request, and an idle keep-alive connection stays open (ms). */
  timeouts?: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
}

/** The BPE's HTTPS server's timeouts when DSF_BPE_SERVER_*_TIMEOUT_MS are unset (its requests are small: no uploads). */
export const DEFAULT_BPE_WEB_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 15_000 };

/** Where HL7's tools keep FHIR packages. */
export const DEFAULT_PACKAGE_CACHE = join(homedir(), '.fhir', 'packages');
/** At shutdown the queued error mails get this long (DSF_BPE_MAIL_ON_ERROR_SHUTDOWN_WAIT). */
export const DEFAULT_ERROR_MAIL_SHUTDOWN_WAIT_MS = 10_000;

export const DEFAULT_OIDC_CACHE: OidcCacheSettings = { enabled: true, configurationResourceMs: 3_600_000, jwksResourceMs: 3_600_000, accessTokenBeforeExpirationMs: 10_000, leewayMs: 10_000 };

/** Defaults of the connections YAML when the variables are not set (the reference's defaults). */
export function defaultConnectionDefaults(trustedCas: string[] = []): ConnectionDefaults {
  return { testConnectionOnStartup: false, enableDebugLogging: false, connectTimeoutMs: 2_000, readTimeoutMs: 600_000, trustedCas, oidcDiscoveryPath: '/.well-known/openid-configuration', oidcVerifyAuthorizedParty: true };
}

function readClientConnections(r: ConfigReader, trustedServerCas: string[] | undefined): { specs: ConnectionSpec[]; defaults: ConnectionDefaults } {
  const prefix = 'DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_DEFAULT_';
  const casName = `${prefix}TRUST_SERVER_CERTIFICATE_CAS`;
  const casPath = r.string(casName);
  let trustedCas: string[] = trustedServerCas ?? [];
  if (casPath !== undefined) {
    try {
      trustedCas = casPath.includes('-----BEGIN') ? (casPath.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) : readPemCertificates(casPath);
      if (trustedCas.length === 0) r.problems.push(`${casName}: no certificates in ${casPath}`);
    } catch (e) {
      r.problems.push(`${casName}: cannot read ${casPath}: ${(e as Error).message}`);
    }
  }
  const discovery = r.string(`${prefix}OIDC_DISCOVERY_PATH`, '/.well-known/openid-configuration');
  const defaults: ConnectionDefaults = {
    testConnectionOnStartup: r.bool(`${prefix}TEST_CONNECTION_ON_STARTUP`, false),
    enableDebugLogging: r.bool(`${prefix}ENABLE_DEBUG_LOGGING`, false),
    connectTimeoutMs: r.durationMs(`${prefix}TIMEOUT_CONNECT`, 2_000),
    readTimeoutMs: r.durationMs(`${prefix}TIMEOUT_READ`, 600_000),
    trustedCas,
    oidcDiscoveryPath: discovery.startsWith('/') ? discovery : `/${discovery}`,
    oidcVerifyAuthorizedParty: r.bool(`${prefix}OIDC_VERIFY_AUTHORIZED_PARTY`, true),
  };
  const parsed = parseClientConnections(r.string('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG'), defaults);
  r.problems.push(...parsed.problems.map((p) => `DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: ${p}`));
  return { specs: parsed.specs, defaults };
}

/** PEM given inline, or a file, or a folder of .pem/.crt files. */
export function readPems(reader: ConfigReader, name: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return [value];
  const out: string[] = [];
  for (const path of value.split(/[,\s]+/).filter(Boolean)) {
    try {
      if (existsSync(path) && statSync(path).isDirectory()) {
        for (const f of readdirSync(path).sort()) if (/\.(pem|crt)$/i.test(f)) out.push(readFileSync(join(path, f), 'utf8'));
      } else out.push(readFileSync(path, 'utf8'));
    } catch (e) {
      reader.problems.push(`${name}: cannot read ${path}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** processId|version entries, comma or space separated. */
function processList(reader: ConfigReader, name: string): ProcessIdAndVersion[] {
  const out: ProcessIdAndVersion[] = [];
  for (const entry of reader.list(name)) {
    const m = /^([A-Za-z0-9-]+_[A-Za-z0-9-]+)\|(\d+\.\d+)$/.exec(entry);
    if (!m) reader.problems.push(`${name}: '${entry}' is not processId|version (e.g. dsfdev_ping|1.0)`);
    else out.push({ processId: m[1]!, version: m[2]! });
  }
  return out;
}

function readDataLoggerConfig(r: ConfigReader): DataLoggerConfig {
  // Through the reader, so *_FILE works for these too.
  const env = Object.fromEntries(DATA_LOGGER_VARIABLES.map((v) => [v.name, r.raw(v.name)]));
  try {
    return dataLoggerConfigFromEnv(env);
  } catch (e) {
    r.problems.push(...(e as Error).message.split('\n').slice(1).map((l) => l.trim()));
    return dataLoggerConfigFromEnv({});
  }
}

/** The role configuration is inline YAML or, if the value names one, a .yaml file. */
/** Connections of the pool beyond the job workers' by default: Task and QuestionnaireResponse handling, failure hooks, the web view, metrics. */
export const JOB_POOL_HEADROOM = 6;
/** Fewest connections left beside the job workers in a pool sized explicitly. */
const JOB_POOL_MIN_HEADROOM = 2;

/**
 * The job workers and the pool they take their connections from, sized together: an unset pool grows
 * with the workers; an explicitly small pool (the demo shares one PostgreSQL among many servers) lowers
 * the default number of workers, and refuses an explicit number that would leave it too few connections.
 */
function readJobWorkersAndPool(r: ConfigReader): { jobWorkers: number; dbPoolMax: number } {
  const workersSet = r.raw('DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE') !== undefined;
  const poolSet = r.raw('DSF_BPE_DB_POOL_MAX') !== undefined;
  let jobWorkers = r.int('DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE', 4, 1, 500);
  const dbPoolMax = r.int('DSF_BPE_DB_POOL_MAX', Math.max(10, jobWorkers + JOB_POOL_HEADROOM), 2, 1000);
  if (poolSet && dbPoolMax - jobWorkers < JOB_POOL_MIN_HEADROOM) {
    if (workersSet) {
      r.problems.push(
        `DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE (${jobWorkers}) must leave at least ${JOB_POOL_MIN_HEADROOM} of the DSF_BPE_DB_POOL_MAX (${dbPoolMax}) database connections to the rest of the BPE`,
      );
    } else jobWorkers = Math.max(1, dbPoolMax - JOB_POOL_MIN_HEADROOM);
  }
  return { jobWorkers, dbPoolMax };
}

function roleConfigText(r: ConfigReader): string | undefined {
  const v = r.string('DEV_DSF_BPE_SERVER_ROLECONFIG');
  if (v === undefined || v.includes('\n') || !/\.ya?ml$/i.test(v.trim())) return v;
  try {
    return readFileSync(v.trim(), 'utf8');
  } catch (e) {
    r.problems.push(`DEV_DSF_BPE_SERVER_ROLECONFIG: cannot read ${v.trim()}: ${(e as Error).message}`);
    return undefined;
  }
}

/** The HTTPS server when DEV_DSF_BPE_SERVER_BASE_URL is set; DSF_BPE_SERVER_API_* win over the shared DEV_DSF_SERVER_API_* (for `dsf site`). */
function webServer(r: ConfigReader): BpeWebServerConfig | undefined {
  const baseUrl = r.string('DEV_DSF_BPE_SERVER_BASE_URL')?.replace(/\/$/, '');
  if (baseUrl === undefined) return undefined;
  if (!/^https:\/\/[^/]+/.test(baseUrl)) r.problems.push(`DEV_DSF_BPE_SERVER_BASE_URL must be an https:// URL, got '${baseUrl}'`);
  const pem = (name: string) => readPems(r, name, r.string(name)) ?? [];
  const cfg: BpeWebServerConfig = {
    baseUrl,
    host: r.raw('DSF_BPE_SERVER_API_HOST') !== undefined ? r.string('DSF_BPE_SERVER_API_HOST', '127.0.0.1') : r.string('DEV_DSF_SERVER_API_HOST', '127.0.0.1'),
    port: r.raw('DSF_BPE_SERVER_API_PORT') !== undefined ? r.int('DSF_BPE_SERVER_API_PORT', 8002, 0, 65535) : r.int('DEV_DSF_SERVER_API_PORT', 8002, 0, 65535),
    serverCertificate: pem('DEV_DSF_SERVER_CERTIFICATE').join('\n'),
    serverCertificateKey: pem('DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY').join('\n'),
    trustedClientCas: pem('DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS'),
    clientCertificateHeader: r.string('DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER', 'X-ClientCert'),
    trustedProxyAddresses: r.list('DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES'),
    timeouts: {
      headersTimeoutMs: r.int('DSF_BPE_SERVER_HEADERS_TIMEOUT_MS', DEFAULT_BPE_WEB_TIMEOUTS.headersTimeoutMs, 100),
      requestTimeoutMs: r.int('DSF_BPE_SERVER_REQUEST_TIMEOUT_MS', DEFAULT_BPE_WEB_TIMEOUTS.requestTimeoutMs, 100),
      keepAliveTimeoutMs: r.int('DSF_BPE_SERVER_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_BPE_WEB_TIMEOUTS.keepAliveTimeoutMs, 100),
    },
  };
  if (cfg.timeouts!.requestTimeoutMs < cfg.timeouts!.headersTimeoutMs) r.problems.push('DSF_BPE_SERVER_REQUEST_TIMEOUT_MS must not be shorter than DSF_BPE_SERVER_HEADERS_TIMEOUT_MS');
  for (const a of cfg.trustedProxyAddresses) if (!isIP(a)) r.problems.push(`DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: '${a}' is not an IP address`);
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(cfg.clientCertificateHeader)) r.problems.push(`DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER: '${cfg.clientCertificateHeader}' is not a header name`);
  for (const [name, value] of [
    ['DEV_DSF_SERVER_CERTIFICATE', cfg.serverCertificate],
    ['DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY', cfg.serverCertificateKey],
    ['DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS', cfg.trustedClientCas.join('')],
  ] as const) {
    if (!value) r.problems.push(`${name} (PEM file or content) is required when DEV_DSF_BPE_SERVER_BASE_URL is set`);
  }
  return cfg;
}

function statusPort(r: ConfigReader): number | undefined {
  for (const name of ['DSF_BPE_SERVER_STATUS_PORT', 'DEV_DSF_SERVER_STATUS_PORT']) if (r.raw(name) !== undefined) return r.int(name, 0, 0, 65535);
  return undefined;
}

export function readBpeConfig(env: Record<string, string | undefined> = process.env, r = new ConfigReader(env, BPE_VARIABLES)): BpeConfig {
  const fhirServerBaseUrl = r.required('DEV_DSF_BPE_FHIR_SERVER_BASE_URL').replace(/\/$/, '');
  if (fhirServerBaseUrl && !/^https:\/\/[^/]+/.test(fhirServerBaseUrl)) {
    r.problems.push(`DEV_DSF_BPE_FHIR_SERVER_BASE_URL must be an https:// URL, got '${fhirServerBaseUrl}'`);
  }
  let db = r.string('DEV_DSF_BPE_DB_URL');
  if (db?.startsWith('jdbc:')) db = db.slice(5);
  const user = r.string('DEV_DSF_BPE_DB_USER_USERNAME');
  const password = r.string('DEV_DSF_BPE_DB_USER_PASSWORD');
  if (db && (user || password)) {
    try {
      const u = new URL(db);
      if (user) u.username = encodeURIComponent(user);
      if (password) u.password = encodeURIComponent(password);
      db = u.toString();
    } catch {
      r.problems.push(`DEV_DSF_BPE_DB_URL is not a URL: '${db}'`);
    }
  }
  const pem = (name: string) => readPems(r, name, r.string(name))?.join('\n');
  const clientCertificate = pem('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE');
  const clientCertificateKey = pem('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY');
  if (!clientCertificate) r.problems.push('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE (PEM file or content) is required');
  if (!clientCertificateKey) r.problems.push('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY (PEM file or content) is required');
  const cfg: BpeConfig = {
    fhirServerBaseUrl,
    clientCertificate: clientCertificate ?? '',
    clientCertificateKey: clientCertificateKey ?? '',
    clientCertificateKeyPassword: r.string('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY_PASSWORD'),
    trustedServerCas: readPems(r, 'DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', r.string('DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS')),
    localConnectTimeoutMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_CONNECT', 2_000),
    localReadTimeoutMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ', 60_000),
    remoteConnectTimeoutMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_CONNECT', 5_000),
    remoteReadTimeoutMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_READ', 60_000),
    taskSubscriptionSearch: r.string('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_SEARCH_PARAMETER', DEFAULT_TASK_SUBSCRIPTION_SEARCH),
    questionnaireResponseSubscriptionSearch: r.string('DEV_DSF_BPE_FHIR_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH_PARAMETER', DEFAULT_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH),
    subscriptionRetryMax: r.int('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_MAX', -1, -1),
    subscriptionRetrySleepMs: r.durationMs('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_SLEEP', 5_000),
    fhirServerRetryMax: r.int('DEV_DSF_BPE_PROCESS_FHIR_SERVER_RETRY_MAX', -1, -1),
    fhirServerRetrySleepMs: r.durationMs('DEV_DSF_BPE_PROCESS_FHIR_SERVER_RETRY_SLEEP', 5_000),
    catchUpOverlapMs: r.durationMs('DSF_BPE_CATCH_UP_OVERLAP', 60_000),
    pluginDirectory: r.string('DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY', 'process'),
    roleConfig: BpeRoleConfig.parse(roleConfigText(r), r.problems),
    oidcLogin: readOidcLoginSettings(r, (name) => readPems(r, name, r.string(name)) ?? []),
    extraPluginDirectories: r.list('DSF_BPE_PROCESS_PLUGIN_DIRECTORIES'),
    excluded: processList(r, 'DEV_DSF_BPE_PROCESS_EXCLUDED'),
    retired: processList(r, 'DEV_DSF_BPE_PROCESS_RETIRED'),
    dbUrl: db,
    ...readJobWorkersAndPool(r),
    dbPoolWaitTimeoutMs: r.int('DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS', 30_000, 100),
    dataDir: r.string('DSF_BPE_DATA_DIR', join('.dsf', 'bpe')),
    mail: {
      host: r.string('DEV_DSF_BPE_MAIL_HOST'),
      port: r.int('DEV_DSF_BPE_MAIL_PORT', 0, 0, 65535),
      useSmtps: r.bool('DEV_DSF_BPE_MAIL_USESMTPS', false),
      username: r.string('DEV_DSF_BPE_MAIL_USERNAME'),
      password: r.string('DEV_DSF_BPE_MAIL_PASSWORD'),
      fromAddress: r.string('DEV_DSF_BPE_MAIL_FROMADDRESS'),
      toAddresses: r.list('DEV_DSF_BPE_MAIL_TOADDRESSES'),
      toAddressesCc: r.list('DEV_DSF_BPE_MAIL_TOADDRESSESCC'),
      replyToAddresses: r.list('DEV_DSF_BPE_MAIL_REPLYTOADDRESSES'),
      trustedCas: readPems(r, 'DEV_DSF_BPE_MAIL_TRUST_SERVER_CERTIFICATE_CAS', r.string('DEV_DSF_BPE_MAIL_TRUST_SERVER_CERTIFICATE_CAS')),
      smimeP12KeyStore: r.string('DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE'),
      smimeP12KeyStorePassword: r.string('DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE_PASSWORD'),
      sendTestMailOnStartup: r.bool('DEV_DSF_BPE_MAIL_SENDTESTMAILONSTARTUP', false),
      sendMailOnErrorLogEvent: r.bool('DEV_DSF_BPE_MAIL_SENDMAILONERRORLOGEVENT', false),
      mailOnErrorLogEventBufferSize: r.int('DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTBUFFERSIZE', 4, 1, 1000),
      mailOnErrorLogEventDebugLogLocation: r.string('DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTDEBUGLOGLOCATION', 'the BPE log'),
      mailOnErrorMaxPerInterval: r.int('DSF_BPE_MAIL_ON_ERROR_MAX_PER_INTERVAL', 12, 0, 10_000),
      mailOnErrorIntervalMs: r.durationMs('DSF_BPE_MAIL_ON_ERROR_INTERVAL', 3_600_000),
      mailOnErrorShutdownWaitMs: r.durationMs('DSF_BPE_MAIL_ON_ERROR_SHUTDOWN_WAIT', DEFAULT_ERROR_MAIL_SHUTDOWN_WAIT_MS),
    },
    dataLogger: readDataLoggerConfig(r),
    env,
    proxy: createProxyConfig({
      url: r.string('DEV_DSF_PROXY_URL'),
      username: r.string('DEV_DSF_PROXY_USERNAME'),
      password: r.string('DEV_DSF_PROXY_PASSWORD'),
      noProxy: r.list('DEV_DSF_PROXY_NOPROXY'),
    }),
    oidcCache: {
      enabled: r.bool('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_CACHE', true),
      configurationResourceMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_CACHE_TIMEOUT_CONFIGURATION_RESOURCE', 3_600_000),
      jwksResourceMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_CACHE_TIMEOUT_JWKS_RESOURCE', 3_600_000),
      accessTokenBeforeExpirationMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_CACHE_TIMEOUT_ACCESS_TOKEN', 10_000),
      leewayMs: r.durationMs('DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_OIDC_TIME_VALIDATION_LEEWAY', 10_000),
    },
    fhirValidationEnabled: r.bool('DEV_DSF_BPE_PROCESS_FHIR_VALIDATION_ENABLED', false),
    fhirPackageCache: r.string('DSF_BPE_FHIR_PACKAGE_CACHE', DEFAULT_PACKAGE_CACHE),
    statusHost: r.string('DEV_DSF_SERVER_STATUS_HOST', '127.0.0.1'),
    // DSF_BPE_SERVER_STATUS_PORT: for `dsf site`, where the FHIR server has DEV_DSF_SERVER_STATUS_PORT.
    statusPort: statusPort(r),
    shutdownTimeoutMs: r.int('DSF_BPE_SHUTDOWN_TIMEOUT_MS', 30_000, 0),
    web: webServer(r),
  };
  cfg.clientConnections = readClientConnections(r, cfg.trustedServerCas);
  const proxyUrl = r.string('DEV_DSF_PROXY_URL');
  if (proxyUrl && !cfg.proxy!.url) r.problems.push(`DEV_DSF_PROXY_URL: '${proxyUrl}' is not an http(s) URL with a host`);
  if (cfg.mail.host && !cfg.mail.fromAddress) r.problems.push('DEV_DSF_BPE_MAIL_FROMADDRESS is required when DEV_DSF_BPE_MAIL_HOST is set');
  if (cfg.mail.smimeP12KeyStore && !existsSync(cfg.mail.smimeP12KeyStore)) r.problems.push(`DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE: no file ${cfg.mail.smimeP12KeyStore}`);
  if (cfg.mail.host && cfg.mail.toAddresses.length === 0) r.problems.push('DEV_DSF_BPE_MAIL_TOADDRESSES is required when DEV_DSF_BPE_MAIL_HOST is set');
  for (const e of cfg.excluded) {
    if (cfg.retired.some((x) => x.processId === e.processId && x.version === e.version)) r.problems.push(`${e.processId}|${e.version} is both excluded and retired`);
  }
  r.check();
  return cfg;
}
