// Every environment variable the FHIR server reads (`dsf fhir`, and the FHIR half of `dsf site`).
// readFhirServerConfig reads only names listed here; docs/configuration.md is generated from it.
import { ConfigCatalog, type ConfigVariable } from '../common/config-catalog.ts';
import { OIDC_PROVIDER_VARIABLES, STATUS_VARIABLES } from '../common/shared-config-variables.ts';

const v = (name: string, type: ConfigVariable['type'], description: string, more: Partial<ConfigVariable> = {}): ConfigVariable => ({
  name,
  type,
  description,
  reference: name.startsWith('DEV_DSF_'),
  ...more,
});

export const FHIR_VARIABLES = new ConfigCatalog('FHIR server (`dsf fhir`)', [
  v('DEV_DSF_FHIR_SERVER_BASE_URL', 'url', "The server's external base URL (https), as other sites reach it, e.g. https://dsf.example.org/fhir.", { required: true }),
  v('DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE', 'string', "This site's organisation identifier (system http://dsf.dev/sid/organization-identifier).", { required: true }),
  v('DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT', 'string', "SHA-512 thumbprint (128 hex characters) of the organisation's client certificate; computed from DEV_DSF_FHIR_CLIENT_CERTIFICATE when unset. Available as ${DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT} in the initial bundle."),
  v('DEV_DSF_FHIR_SERVER_INIT_BUNDLE', 'file', 'Transaction bundle (JSON or XML) applied at every start, with ${VARIABLE} placeholders; without it the local Organization and Endpoint are created from the settings.'),
  v('DEV_DSF_FHIR_SERVER_PAGE_COUNT', 'integer', 'Default page size of searches (1 to 1000).', { default: '20' }),
  v('DEV_DSF_FHIR_SERVER_ROLECONFIG', 'yaml', 'Role configuration for users and other clients: inline YAML or the path of a .yaml file.'),
  v('DEV_DSF_SERVER_API_HOST', 'string', 'Address the HTTPS API listens on.', { default: '127.0.0.1' }),
  v('DEV_DSF_SERVER_API_PORT', 'integer', 'Port of the HTTPS API.', { default: '8001' }),
  v('DEV_DSF_SERVER_CERTIFICATE', 'pem', 'Server certificate (chain), a PEM file or the PEM itself.', { required: true }),
  v('DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY', 'pem', 'Private key of the server certificate, a PEM file or the PEM itself.', { required: true, secret: true }),
  v('DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS', 'pem', 'CA certificates trusted for client certificates: PEM files, comma separated. Required unless OIDC bearer tokens are the only login.', { required: true }),
  v('DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER', 'string', 'Header in which a reverse proxy passes the client certificate (PEM, URL-encoded).', { default: 'X-ClientCert' }),
  v('DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES', 'list', 'IP addresses of reverse proxies whose client certificate header is believed; from anyone else it is ignored.'),
  ...OIDC_PROVIDER_VARIABLES,
  v('DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN', 'boolean', 'Accept OIDC bearer tokens (users and clients of an identity provider).', { default: 'false' }),
  v('DSF_FHIR_DATA_REPOSITORY', 'boolean', "This server is a site's local data repository: it also serves Condition, Observation and Consent and more Patient search parameters. Reached by the site's BPE only, never by other sites.", { default: 'false' }),
  v('DSF_FHIR_SERVER_UI_BPE_URL', 'url', "URL of the site's BPE view, linked in the web UI's header for administrators."),
  v('DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN_AUDIENCE', 'string', "Audience a bearer token must name; default the client id; '' turns the check off."),
  v('DEV_DSF_FHIR_DB_URL', 'url', 'PostgreSQL database (postgres:// or jdbc:postgresql://); an embedded PostgreSQL under DSF_DATA_DIR when unset.'),
  v('DEV_DSF_FHIR_DB_USER_USERNAME', 'string', 'Database user, put into the database URL.'),
  v('DEV_DSF_FHIR_DB_USER_PASSWORD', 'string', 'Password of the database user.', { secret: true }),
  v('DEV_DSF_FHIR_CLIENT_CERTIFICATE', 'pem', "The organisation's client certificate, used to check references to other sites' servers (and for the thumbprint)."),
  v('DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY', 'pem', 'Private key of the client certificate.', { secret: true }),
  v('DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY_PASSWORD', 'string', 'Password of an encrypted client certificate key.', { secret: true }),
  v('DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', 'pem', "CA certificates trusted for other sites' server certificates (PEM files or folders)."),
  v('DEV_DSF_FHIR_CLIENT_TIMEOUT_CONNECT', 'duration', 'Connect timeout towards other sites.', { default: 'PT2S' }),
  v('DEV_DSF_FHIR_CLIENT_TIMEOUT_READ', 'duration', 'Read timeout towards other sites.', { default: 'PT10S' }),
  ...STATUS_VARIABLES,
  v('DSF_DATA_DIR', 'folder', 'Folder of the embedded PostgreSQL (when no database URL is set).', { default: '.dsf/fhir' }),
  v('DSF_LOG_LEVEL', 'enum', 'Level of the JSON log lines on standard output (a line per request at info).', { default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  v('DSF_FHIR_MAX_BODY_BYTES', 'integer', 'Largest request body (bytes).', { default: String(16 * 1024 * 1024) }),
  v('DSF_FHIR_MAX_BINARY_BYTES', 'integer', 'Largest Binary content (bytes), raw upload or base64.', { default: String(2 * 1024 * 1024 * 1024) }),
  v('DSF_FHIR_WEBSOCKET_PING_INTERVAL_MS', 'integer', 'Interval of websocket ping frames (ms).', { default: '28000' }),
  v('DSF_FHIR_STATEMENT_TIMEOUT_MS', 'integer', 'Longest database statement of a request (ms); 0: none.', { default: '30000' }),
  v('DSF_FHIR_DB_POOL_MAX', 'integer', "Most connections of the server's database pool (1 to 1000); all servers on one PostgreSQL together must stay below its max_connections.", { default: '20' }),
  v('DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS', 'integer', 'Longest wait of a request for a database connection (ms); then 503 with an OperationOutcome.', { default: '10000' }),
  v('DSF_FHIR_WRITE_GROUP_STATEMENTS', 'integer', "Most statements of concurrent creates written together that run at once (1 to 16). With 1 (default) creates arriving meanwhile gather into the next statement: the least database CPU per create. With 2 the next group goes on another connection once it is as large as the last one, overlapping the server's and PostgreSQL's work on machines with cores to spare.", { default: '1' }),
  v('DSF_FHIR_PREPARED_STATEMENTS', 'integer', 'Most named prepared statements each database connection keeps (1 to 10000); the least recently used is deallocated beyond it.', { default: '50' }),
  v('DSF_FHIR_MAX_SEARCH_PARAMETERS', 'integer', 'Most parameters in one search.', { default: '32' }),
  v('DSF_FHIR_MAX_SEARCH_VALUES', 'integer', 'Most comma-separated values over all parameters of one search.', { default: '1000' }),
  v('DSF_FHIR_MAX_PAGE_BYTES', 'integer', 'Most bytes of resources in one search or history page.', { default: String(16 * 1024 * 1024) }),
  v('DSF_FHIR_HEADERS_TIMEOUT_MS', 'integer', "Time a client has to send a request's headers, TLS handshake included (ms).", { default: '10000' }),
  v('DSF_FHIR_REQUEST_TIMEOUT_MS', 'integer', 'Time a client has to send a whole request (ms).', { default: '600000' }),
  v('DSF_FHIR_KEEP_ALIVE_TIMEOUT_MS', 'integer', 'How long an idle keep-alive connection stays open (ms).', { default: '15000' }),
  v('DSF_FHIR_SHUTDOWN_TIMEOUT_MS', 'integer', 'On SIGTERM: longest wait for requests in flight before connections are closed (ms).', { default: '10000' }),
]);

/** Reference variables of the FHIR server that we do not read, and why. */
export const FHIR_NOT_READ = [
  { name: 'DEV_DSF_FHIR_DB_USER_GROUP', why: 'one database user; no separate group and grants' },
  { name: 'DEV_DSF_FHIR_DB_USER_PERMANENT_DELETE_USERNAME / _PASSWORD', why: '$permanent-delete runs with the same database user' },
  { name: 'DEV_DSF_FHIR_SERVER_UI_THEME, DEV_DSF_FHIR_SERVER_STATIC_RESOURCE_CACHE', why: 'the web UI has no themes; static resources are cached' },
  { name: 'DEV_DSF_FHIR_CLIENT_VERBOSE, DEV_DSF_FHIR_DEBUG_LOG_MESSAGE_*', why: 'DSF_LOG_LEVEL=debug' },
  { name: 'DEV_DSF_SERVER_AUTH_OIDC_BACK_CHANNEL_LOGOUT*, DEV_DSF_SERVER_AUTH_OIDC_SESSION_TIMEOUT', why: 'sign-out ends the session here; DSF_SERVER_AUTH_OIDC_SESSION_TIMEOUT sets its lifetime' },
  { name: 'DEV_DSF_SERVER_CONTEXT_PATH', why: 'the path of DEV_DSF_FHIR_SERVER_BASE_URL is the context path' },
];
