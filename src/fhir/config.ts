// The FHIR server's settings, read from the reference's environment variable names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigReader } from '../common/config-reader.ts';
import { FHIR_VARIABLES } from './config-variables.ts';
import { thumbprintSha512 } from '../common/x509.ts';
import { readAuthConfig, trustedCas, type AuthConfig } from './auth/auth-config.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, type RemoteClientSettings } from './references/remote-reference-client.ts';

export const DEFAULT_MAX_BINARY_BYTES = 2 * 1024 * 1024 * 1024;

/** Limits that keep one client from starving the others; each has a DSF_FHIR_* variable (the reference has none). */
export interface FhirServerLimits {
  /** Longest a database statement of a request may run (DSF_FHIR_STATEMENT_TIMEOUT_MS); 0: none. */
  statementTimeoutMs: number;
  /** Most parameters in one search, conditional criteria included (DSF_FHIR_MAX_SEARCH_PARAMETERS). */
  maxSearchParameters: number;
  /** Most comma-separated values over all parameters of one search (DSF_FHIR_MAX_SEARCH_VALUES). */
  maxSearchValues: number;
  /** Most bytes of resources in one search or history page (DSF_FHIR_MAX_PAGE_BYTES); the page ends early beyond. */
  maxPageBytes: number;
  /** Time a client has to send a request's headers, TLS handshake included (DSF_FHIR_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (DSF_FHIR_REQUEST_TIMEOUT_MS); raw Binary uploads must fit. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (DSF_FHIR_KEEP_ALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
  /**
   * Most prepared statements each database connection keeps (DSF_FHIR_PREPARED_STATEMENTS): a remote
   * organisation's read or search statement holds 260-390 KiB of PostgreSQL memory with its plan.
   */
  preparedStatements: number;
  /** Most database connections of the server's pool (DSF_FHIR_DB_POOL_MAX). */
  databasePoolMax: number;
  /** Longest wait of a request for a database connection before 503 (DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS). */
  databasePoolWaitTimeoutMs: number;
  /** Most statements of creates written together running at once (DSF_FHIR_WRITE_GROUP_STATEMENTS; store/write-groups.ts). */
  writeGroupStatements: number;
}

export const DEFAULT_LIMITS: FhirServerLimits = {
  statementTimeoutMs: 30_000,
  maxSearchParameters: 32,
  maxSearchValues: 1000,
  maxPageBytes: 16 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 600_000,
  keepAliveTimeoutMs: 15_000,
  preparedStatements: 50,
  databasePoolMax: 20,
  databasePoolWaitTimeoutMs: 10_000,
  writeGroupStatements: 1,
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface FhirServerConfig {
  baseUrl: string;
  organizationIdentifier: string;
  apiHost: string;
  apiPort: number;
  /** PEM server certificate (chain) and key for HTTPS. */
  serverCertificate: string;
  serverCertificateKey: string;
  /** PEM CA certificates trusted for client certificates. */
  trustedClientCas: string[];
  /** postgres:// URL; undefined starts an embedded PostgreSQL under dataDir. */
  dbUrl?: string;
  dataDir: string;
  pageCount: number;
  /** DSF_FHIR_SERVER_UI_BPE_URL: the BPE view's URL, linked in the pages' header for administrators. */
  bpeUiUrl?: string;
  initBundle?: string;
  /** Thumbprint of the local organisation's client certificate (from the certificate unless set). */
  organizationThumbprint?: string;
  maxBodyBytes: number;
  /** Interval of websocket ping frames (DSF_FHIR_WEBSOCKET_PING_INTERVAL_MS, default 28 s as the reference). */
  websocketPingIntervalMs?: number;
  /** Largest Binary content (raw upload or base64 data); default 2 GiB. */
  maxBinaryBytes?: number;
  /** The environment the configuration was read from (for ${...} placeholders in the initial bundle). */
  env: Record<string, string | undefined>;
  /** Proxy certificate header, role configuration, OIDC (see auth/auth-config.ts); defaults when absent. */
  auth?: AuthConfig;
  /** This site's client towards other DSF FHIR servers (reference checks); without it they cannot be checked. */
  client?: RemoteClientSettings;
  /** Timeouts and sizes (DEFAULT_LIMITS for what is not given). */
  limits?: Partial<FhirServerLimits>;
  /** DSF_LOG_LEVEL (default info); request lines at info, 5xx with their stack at error. */
  logLevel?: LogLevel;
  /** The status port (plain HTTP: /status, /metrics); none when the port is not set. */
  statusHost?: string;
  statusPort?: number;
  /** On close (SIGTERM): longest wait for requests in flight before their connections are closed. */
  shutdownTimeoutMs?: number;
  /**
   * DSF_FHIR_DATA_REPOSITORY (default false): this server is a site's local data repository and also serves
   * Condition, Observation and Consent (and more Patient search parameters). Not reachable by other sites.
   */
  dataRepository?: boolean;
}

/** Reads a PEM given inline or as a file path. */
function pem(reader: ConfigReader, name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (e) {
    reader.problems.push(`${name}: cannot read ${value}: ${(e as Error).message}`);
    return undefined;
  }
}

function logLevel(r: ConfigReader): LogLevel {
  const v = r.string('DSF_LOG_LEVEL', 'info').toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  r.problems.push(`DSF_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`);
  return 'info';
}

export function readFhirServerConfig(env: Record<string, string | undefined> = process.env, r = new ConfigReader(env, FHIR_VARIABLES)): FhirServerConfig {
  const baseUrl = r.required('DEV_DSF_FHIR_SERVER_BASE_URL').replace(/\/$/, '');
  if (baseUrl && !/^https:\/\/[^/]+/.test(baseUrl)) r.problems.push(`DEV_DSF_FHIR_SERVER_BASE_URL must be an https:// URL, got '${baseUrl}'`);
  let db = r.string('DEV_DSF_FHIR_DB_URL');
  if (db && db.startsWith('jdbc:')) db = db.slice(5);
  const password = r.string('DEV_DSF_FHIR_DB_USER_PASSWORD');
  const user = r.string('DEV_DSF_FHIR_DB_USER_USERNAME');
  if (db && (password || user)) {
    const u = new URL(db);
    if (user) u.username = encodeURIComponent(user);
    if (password) u.password = encodeURIComponent(password);
    db = u.toString();
  }
  const cfg: FhirServerConfig = {
    baseUrl,
    organizationIdentifier: r.required('DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE'),
    apiHost: r.string('DEV_DSF_SERVER_API_HOST', '127.0.0.1'),
    apiPort: r.int('DEV_DSF_SERVER_API_PORT', 8001, 0, 65535),
    serverCertificate: pem(r, 'DEV_DSF_SERVER_CERTIFICATE', r.string('DEV_DSF_SERVER_CERTIFICATE')) ?? '',
    serverCertificateKey: pem(r, 'DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY', r.string('DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY')) ?? '',
    trustedClientCas: r.list('DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS').map((f) => pem(r, 'DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS', f) ?? ''),
    dbUrl: db,
    dataDir: r.string('DSF_DATA_DIR', join('.dsf', 'fhir')),
    pageCount: r.int('DEV_DSF_FHIR_SERVER_PAGE_COUNT', 20, 1, 1000),
    bpeUiUrl: r.string('DSF_FHIR_SERVER_UI_BPE_URL'),
    initBundle: r.string('DEV_DSF_FHIR_SERVER_INIT_BUNDLE'),
    organizationThumbprint: r.string('DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT'),
    maxBodyBytes: r.int('DSF_FHIR_MAX_BODY_BYTES', 16 * 1024 * 1024, 1024),
    websocketPingIntervalMs: r.int('DSF_FHIR_WEBSOCKET_PING_INTERVAL_MS', 28_000, 100),
    maxBinaryBytes: r.int('DSF_FHIR_MAX_BINARY_BYTES', DEFAULT_MAX_BINARY_BYTES, 0),
    env,
    auth: readAuthConfig(r, env),
    limits: {
      statementTimeoutMs: r.int('DSF_FHIR_STATEMENT_TIMEOUT_MS', DEFAULT_LIMITS.statementTimeoutMs, 0),
      maxSearchParameters: r.int('DSF_FHIR_MAX_SEARCH_PARAMETERS', DEFAULT_LIMITS.maxSearchParameters, 1),
      maxSearchValues: r.int('DSF_FHIR_MAX_SEARCH_VALUES', DEFAULT_LIMITS.maxSearchValues, 1, 10_000),
      maxPageBytes: r.int('DSF_FHIR_MAX_PAGE_BYTES', DEFAULT_LIMITS.maxPageBytes, 1024),
      headersTimeoutMs: r.int('DSF_FHIR_HEADERS_TIMEOUT_MS', DEFAULT_LIMITS.headersTimeoutMs, 100),
      requestTimeoutMs: r.int('DSF_FHIR_REQUEST_TIMEOUT_MS', DEFAULT_LIMITS.requestTimeoutMs, 100),
      keepAliveTimeoutMs: r.int('DSF_FHIR_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_LIMITS.keepAliveTimeoutMs, 100),
      preparedStatements: r.int('DSF_FHIR_PREPARED_STATEMENTS', DEFAULT_LIMITS.preparedStatements, 1, 10_000),
      databasePoolMax: r.int('DSF_FHIR_DB_POOL_MAX', DEFAULT_LIMITS.databasePoolMax, 1, 1000),
      databasePoolWaitTimeoutMs: r.int('DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS', DEFAULT_LIMITS.databasePoolWaitTimeoutMs, 100),
      writeGroupStatements: r.int('DSF_FHIR_WRITE_GROUP_STATEMENTS', DEFAULT_LIMITS.writeGroupStatements, 1, 16),
    },
    logLevel: logLevel(r),
    statusHost: r.string('DEV_DSF_SERVER_STATUS_HOST', '127.0.0.1'),
    statusPort: r.raw('DEV_DSF_SERVER_STATUS_PORT') === undefined ? undefined : r.int('DEV_DSF_SERVER_STATUS_PORT', 0, 0, 65535),
    shutdownTimeoutMs: r.int('DSF_FHIR_SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    dataRepository: r.bool('DSF_FHIR_DATA_REPOSITORY', false),
  };
  if (cfg.limits!.requestTimeoutMs! < cfg.limits!.headersTimeoutMs!) r.problems.push('DSF_FHIR_REQUEST_TIMEOUT_MS must not be shorter than DSF_FHIR_HEADERS_TIMEOUT_MS');
  const clientCert = pem(r, 'DEV_DSF_FHIR_CLIENT_CERTIFICATE', r.string('DEV_DSF_FHIR_CLIENT_CERTIFICATE'));
  if (!cfg.organizationThumbprint && clientCert) cfg.organizationThumbprint = thumbprintSha512(clientCert);
  const clientKey = pem(r, 'DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY', r.string('DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY'));
  if (clientKey && !clientCert) r.problems.push('DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY is set, but DEV_DSF_FHIR_CLIENT_CERTIFICATE is not');
  cfg.client = {
    certificate: clientCert,
    privateKey: clientKey,
    privateKeyPassword: r.string('DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY_PASSWORD'),
    trustedServerCas: trustedCas(r, 'DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS'),
    connectTimeoutMs: r.durationMs('DEV_DSF_FHIR_CLIENT_TIMEOUT_CONNECT', DEFAULT_CONNECT_TIMEOUT_MS),
    readTimeoutMs: r.durationMs('DEV_DSF_FHIR_CLIENT_TIMEOUT_READ', DEFAULT_READ_TIMEOUT_MS),
  };
  if (cfg.organizationThumbprint && !/^[a-f0-9]{128}$/.test(cfg.organizationThumbprint)) {
    r.problems.push('DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT must be 128 lowercase hex characters (SHA-512)');
  }
  if (cfg.trustedClientCas.length === 0 && !cfg.auth?.oidc) {
    r.problems.push('DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS is required: without trusted CAs no client certificate is accepted');
  }
  if (!cfg.serverCertificate) r.problems.push('DEV_DSF_SERVER_CERTIFICATE (PEM file or content) is required for HTTPS');
  if (!cfg.serverCertificateKey) r.problems.push('DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY (PEM file or content) is required for HTTPS');
  r.check();
  return cfg;
}
