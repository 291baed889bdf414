// Every environment variable the BPE reads (`dsf bpe`, and the BPE half of `dsf site`). readBpeConfig
// reads only names listed here; docs/configuration.md is generated from it.
import { ConfigCatalog, type ConfigVariable } from '../common/config-catalog.ts';
import { OIDC_PROVIDER_VARIABLES, PROXY_VARIABLES, STATUS_VARIABLES } from '../common/shared-config-variables.ts';

export const DEFAULT_TASK_SUBSCRIPTION_SEARCH = '?criteria:exact=Task%3Fstatus%3Drequested&status=active&type=websocket&payload=application/fhir%2Bjson';
export const DEFAULT_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH =
  '?criteria:exact=QuestionnaireResponse%3Fstatus%3Dcompleted&status=active&type=websocket&payload=application/fhir%2Bjson';

const v = (name: string, type: ConfigVariable['type'], description: string, more: Partial<ConfigVariable> = {}): ConfigVariable => ({
  name,
  type,
  description,
  reference: name.startsWith('DEV_DSF_'),
  ...more,
});

const CONNECTIONS = 'DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG';
const DEFAULTS = `${CONNECTIONS}_DEFAULT_`;
const OIDC = `${CONNECTIONS}_OIDC_`;
const STYLES = ['TEXT', 'TEXT_MDC', 'JSON_ECS'];

export const DATA_LOGGER_VARIABLES: ConfigVariable[] = (['FILE', 'CONSOLE_OUT', 'CONSOLE_ERR'] as const).flatMap((part) => [
  v(`DEV_DSF_LOG_DATA_${part}_ENABLED`, 'boolean', `Write the plugins' DataLogger lines to ${part === 'FILE' ? 'log/bpe-data.log' : part === 'CONSOLE_OUT' ? 'standard output' : 'standard error'}.`, { default: 'false' }),
  v(`DEV_DSF_LOG_DATA_${part}_STYLE`, 'enum', `Format of those lines.`, { default: 'TEXT', values: STYLES }),
]);

export const BPE_VARIABLES = new ConfigCatalog('BPE (`dsf bpe`)', [
  v('DEV_DSF_BPE_FHIR_SERVER_BASE_URL', 'url', "The local FHIR server's base URL (https). In `dsf site` taken from DEV_DSF_FHIR_SERVER_BASE_URL when unset.", { required: true }),
  v('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE', 'pem', "The organisation's client certificate (chain) for all FHIR servers: PEM file(s) or the PEM itself.", { required: true }),
  v('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY', 'pem', 'Private key of the client certificate.', { required: true, secret: true }),
  v('DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY_PASSWORD', 'string', 'Password of an encrypted client certificate key.', { secret: true }),
  v('DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', 'pem', 'CA certificates trusted for FHIR server certificates (PEM files or folders); the system CAs when unset.'),
  v('DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_CONNECT', 'duration', 'Connect timeout towards the local FHIR server.', { default: 'PT2S' }),
  v('DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ', 'duration', 'Read timeout towards the local FHIR server.', { default: 'PT60S' }),
  v('DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_CONNECT', 'duration', "Connect timeout towards other sites' FHIR servers.", { default: 'PT5S' }),
  v('DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_READ', 'duration', "Read timeout towards other sites' FHIR servers.", { default: 'PT60S' }),
  v('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_SEARCH_PARAMETER', 'string', 'Search that finds the Subscription for requested Tasks.', { default: DEFAULT_TASK_SUBSCRIPTION_SEARCH }),
  v('DEV_DSF_BPE_FHIR_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH_PARAMETER', 'string', 'Search that finds the Subscription for completed QuestionnaireResponses.', {
    default: DEFAULT_QUESTIONNAIRE_RESPONSE_SUBSCRIPTION_SEARCH,
  }),
  v('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_MAX', 'integer', 'Attempts to find the Subscriptions at start; -1: forever.', { default: '-1' }),
  v('DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_SLEEP', 'duration', 'Pause between those attempts.', { default: 'PT5S' }),
  v('DEV_DSF_BPE_PROCESS_FHIR_SERVER_RETRY_MAX', 'integer', "Retries of the plugin deployment's requests to the local FHIR server; -1: forever.", { default: '-1' }),
  v('DEV_DSF_BPE_PROCESS_FHIR_SERVER_RETRY_SLEEP', 'duration', 'Pause between those retries.', { default: 'PT5S' }),
  v('DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY', 'folder', 'Folder of the process plugins (one folder each, or .tgz/.jar files).', { default: 'process' }),
  v('DSF_BPE_PROCESS_PLUGIN_DIRECTORIES', 'list', 'Further plugin folders, comma separated (e.g. the plugins shipped with this project).'),
  v('DEV_DSF_BPE_PROCESS_EXCLUDED', 'process-list', 'Processes not deployed: processId|version, comma separated (e.g. dsfdev_ping|1.0).'),
  v('DEV_DSF_BPE_PROCESS_RETIRED', 'process-list', 'Processes kept for running instances but not started any more: processId|version.'),
  v(
    'DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE',
    'integer',
    'Jobs (async continuations, timers) the process engine runs at once (1 to 500), each in its own transaction on a connection of the database pool; two jobs of one process instance never run at once. Must leave at least 2 of DSF_BPE_DB_POOL_MAX; unset with a smaller pool: that pool size - 2, at least 1.',
    { default: '4' },
  ),
  v('DEV_DSF_BPE_PROCESS_FHIR_VALIDATION_ENABLED', 'boolean', "Give plugins a ValidationService for FHIR resources (reads the FHIR package cache).", { default: 'false' }),
  v('DSF_BPE_FHIR_PACKAGE_CACHE', 'folder', 'FHIR package cache read by the ValidationService.', { default: '~/.fhir/packages' }),
  v('DEV_DSF_BPE_DB_URL', 'url', 'PostgreSQL database (postgres:// or jdbc:postgresql://); an embedded PostgreSQL under DSF_BPE_DATA_DIR when unset.'),
  v('DSF_BPE_DB_POOL_MAX', 'integer', "Most connections of the BPE's database pool (2 to 1000); all servers on one PostgreSQL together must stay below its max_connections. Unset: 10, or DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE + 6 when that is more.", { default: '10' }),
  v('DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS', 'integer', 'Longest wait for a database connection (ms); then the work fails with an error naming the pool instead of waiting on.', { default: '30000' }),
  v('DEV_DSF_BPE_DB_USER_USERNAME', 'string', 'Database user, put into the database URL.'),
  v('DEV_DSF_BPE_DB_USER_PASSWORD', 'string', 'Password of the database user.', { secret: true }),
  v('DSF_BPE_DATA_DIR', 'folder', 'Folder of the embedded PostgreSQL (when no database URL is set).', { default: '.dsf/bpe' }),
  v('DSF_BPE_CATCH_UP_OVERLAP', 'duration', 'How far before the last seen change the catch-up after a reconnect starts (writers commit out of timestamp order).', { default: 'PT60S' }),
  v('DEV_DSF_BPE_SERVER_BASE_URL', 'url', "The BPE's external base URL (https), e.g. https://bpe.example.org/bpe. When set, the BPE serves HTTPS: GET <base> and <base>/status (JSON, trusted client certificate) and the BPE view under <base>/ui."),
  v('DEV_DSF_SERVER_API_HOST', 'string', "Address the BPE's HTTPS server listens on (with DEV_DSF_BPE_SERVER_BASE_URL).", { default: '127.0.0.1' }),
  v('DEV_DSF_SERVER_API_PORT', 'integer', "Port of the BPE's HTTPS server (with DEV_DSF_BPE_SERVER_BASE_URL).", { default: '8002' }),
  v('DSF_BPE_SERVER_API_HOST', 'string', "The BPE's HTTPS address when it differs from DEV_DSF_SERVER_API_HOST (in `dsf site`, where the FHIR server has that one)."),
  v('DSF_BPE_SERVER_API_PORT', 'integer', "The BPE's HTTPS port when it differs from DEV_DSF_SERVER_API_PORT (needed in `dsf site`, where the FHIR server has that one)."),
  v('DEV_DSF_SERVER_CERTIFICATE', 'pem', "Server certificate (chain) of the BPE's HTTPS server, a PEM file or the PEM itself; required with DEV_DSF_BPE_SERVER_BASE_URL."),
  v('DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY', 'pem', 'Private key of that server certificate.', { secret: true }),
  v('DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS', 'pem', "CA certificates trusted for client certificates at the BPE's HTTPS server (PEM files or folders); required with DEV_DSF_BPE_SERVER_BASE_URL. A certificate is asked for, not required: browsers without one may sign in by OpenID Connect."),
  v('DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER', 'string', "Header in which a reverse proxy passes the client certificate to the BPE's HTTPS server (PEM, URL-encoded).", { default: 'X-ClientCert' }),
  v('DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES', 'list', "IP addresses of reverse proxies whose client certificate header the BPE's HTTPS server believes (the certificate must still chain to a trusted CA); from anyone else it is ignored."),
  v('DSF_BPE_SERVER_HEADERS_TIMEOUT_MS', 'integer', "Time a client of the BPE's HTTPS server has for the TLS handshake and its request headers (ms).", { default: '10000' }),
  v('DSF_BPE_SERVER_REQUEST_TIMEOUT_MS', 'integer', "Time a client of the BPE's HTTPS server has to send a whole request (ms).", { default: '30000' }),
  v('DSF_BPE_SERVER_KEEP_ALIVE_TIMEOUT_MS', 'integer', "How long an idle keep-alive connection to the BPE's HTTPS server stays open (ms).", { default: '15000' }),
  v('DEV_DSF_BPE_SERVER_ROLECONFIG', 'yaml', "Who may use the BPE view (rules matching users by certificate thumbprint, e-mail or token role/group, with dsf-role ADMIN): inline YAML or the path of a .yaml file."),
  v('DEV_DSF_BPE_MAIL_HOST', 'string', 'SMTP server; without it mails are written to the log only.'),
  v('DEV_DSF_BPE_MAIL_PORT', 'integer', 'SMTP port; 0: 25, or 465 with SMTPS.', { default: '0' }),
  v('DEV_DSF_BPE_MAIL_USESMTPS', 'boolean', 'Connect with TLS from the start (SMTPS).', { default: 'false' }),
  v('DEV_DSF_BPE_MAIL_USERNAME', 'string', 'SMTP login (AUTH PLAIN).'),
  v('DEV_DSF_BPE_MAIL_PASSWORD', 'string', 'SMTP password.', { secret: true }),
  v('DEV_DSF_BPE_MAIL_FROMADDRESS', 'string', 'Sender address; required with a mail host.'),
  v('DEV_DSF_BPE_MAIL_TOADDRESSES', 'list', 'Default recipients, comma separated; required with a mail host.'),
  v('DEV_DSF_BPE_MAIL_TOADDRESSESCC', 'list', 'Default Cc recipients.'),
  v('DEV_DSF_BPE_MAIL_REPLYTOADDRESSES', 'list', 'Reply-To addresses.'),
  v('DEV_DSF_BPE_MAIL_TRUST_SERVER_CERTIFICATE_CAS', 'pem', "CA certificates trusted for the SMTP server's certificate; the system CAs when unset."),
  v('DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE', 'file', 'PKCS#12 key store whose private key signs every mail (S/MIME, SHA-256), read at start.'),
  v('DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE_PASSWORD', 'string', 'Password of that key store.', { secret: true }),
  v('DEV_DSF_BPE_MAIL_SENDTESTMAILONSTARTUP', 'boolean', 'Send a test mail to the default recipients at start.', { default: 'false' }),
  v('DEV_DSF_BPE_MAIL_SENDMAILONERRORLOGEVENT', 'boolean', 'Mail every ERROR line of the BPE log (plugins included) with the lines before it.', { default: 'false' }),
  v('DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTBUFFERSIZE', 'integer', 'How many log lines such a mail holds (the error and those before it).', { default: '4' }),
  v('DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTDEBUGLOGLOCATION', 'string', 'Where the full log is, named in such mails.', { default: 'the BPE log' }),
  v('DSF_BPE_MAIL_ON_ERROR_MAX_PER_INTERVAL', 'integer', 'At most this many error mails per interval; later errors of the interval are counted (identical ones folded) and mailed as one summary when it ends.', { default: '12' }),
  v('DSF_BPE_MAIL_ON_ERROR_INTERVAL', 'duration', 'The interval of that limit, opened by the first error.', { default: 'PT1H' }),
  v('DSF_BPE_MAIL_ON_ERROR_SHUTDOWN_WAIT', 'duration', 'At shutdown the errors held back by that limit are mailed as a summary; the shutdown waits at most this long for the SMTP server to take the queued mails.', { default: 'PT10S' }),
  v(CONNECTIONS, 'yaml', 'FHIR server connections for plugins (getById): YAML, inline or a file.'),
  v(`${DEFAULTS}TEST_CONNECTION_ON_STARTUP`, 'boolean', 'Test each configured connection at start (failures are logged).', { default: 'false' }),
  v(`${DEFAULTS}ENABLE_DEBUG_LOGGING`, 'boolean', "Log the configured connections' requests at debug.", { default: 'false' }),
  v(`${DEFAULTS}TIMEOUT_CONNECT`, 'duration', 'Default connect timeout of configured connections.', { default: 'PT2S' }),
  v(`${DEFAULTS}TIMEOUT_READ`, 'duration', 'Default read timeout of configured connections.', { default: 'PT10M' }),
  v(`${DEFAULTS}TRUST_SERVER_CERTIFICATE_CAS`, 'pem', 'Default trusted CAs of configured connections; those of DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS when unset.'),
  v(`${DEFAULTS}OIDC_DISCOVERY_PATH`, 'string', 'Default OIDC discovery path of configured connections.', { default: '/.well-known/openid-configuration' }),
  v(`${DEFAULTS}OIDC_VERIFY_AUTHORIZED_PARTY`, 'boolean', "Check the access token's azp claim against the client id.", { default: 'true' }),
  v(`${OIDC}CACHE`, 'boolean', 'Cache OIDC provider metadata, keys and access tokens.', { default: 'true' }),
  v(`${OIDC}CACHE_TIMEOUT_CONFIGURATION_RESOURCE`, 'duration', 'How long provider metadata is cached.', { default: 'PT1H' }),
  v(`${OIDC}CACHE_TIMEOUT_JWKS_RESOURCE`, 'duration', 'How long provider keys are cached.', { default: 'PT1H' }),
  v(`${OIDC}CACHE_TIMEOUT_ACCESS_TOKEN`, 'duration', 'An access token is renewed this long before it expires.', { default: 'PT10S' }),
  v(`${OIDC}TIME_VALIDATION_LEEWAY`, 'duration', 'Clock leeway when checking token times.', { default: 'PT10S' }),
  ...PROXY_VARIABLES,
  ...DATA_LOGGER_VARIABLES,
  ...STATUS_VARIABLES,
  ...OIDC_PROVIDER_VARIABLES,
  v('DSF_BPE_SERVER_STATUS_PORT', 'integer', "The BPE's status port when it differs from DEV_DSF_SERVER_STATUS_PORT (needed in `dsf site`, where the FHIR server has that one)."),
  v('DSF_BPE_SHUTDOWN_TIMEOUT_MS', 'integer', 'On SIGTERM: longest wait for the Task being handled and the running job to finish (ms); what still runs then is rolled back and runs again after the restart.', { default: '30000' }),
]);

/** Reference variables of the BPE that we do not read, and why. */
export const BPE_NOT_READ = [
  { name: 'DEV_DSF_BPE_DB_USER_ENGINE_USERNAME / _PASSWORD', why: 'the engine shares the database user' },
  { name: 'DEV_DSF_BPE_SERVER_UI_THEME, DEV_DSF_BPE_SERVER_STATIC_RESOURCE_CACHE', why: 'no themes; static files are read once per process' },
  { name: 'DEV_DSF_BPE_PROCESS_PLUGIN_EXPLODED, DEV_DSF_BPE_PROCESS_API_*', why: 'Java class loading; plugins are ES modules here' },
  {
    name: 'DEV_DSF_BPE_PROCESS_ENGINE_MAXPOOLSIZE, _QUEUESIZE',
    why: 'no queue of taken jobs: a job is taken only when one of the COREPOOLSIZE workers is free (and stays locked in its transaction), so there is no full queue for extra workers to drain',
  },
  { name: 'DEV_DSF_BPE_PROCESS_THREADS', why: 'each connector hands its Tasks and QuestionnaireResponses to the engine one at a time (short commands); the slow work runs in jobs, as many at once as COREPOOLSIZE' },
  { name: 'DEV_DSF_BPE_FHIR_CLIENT_LOCAL_VERBOSE, _REMOTE_VERBOSE, DEV_DSF_BPE_DEBUG_LOG_MESSAGE_*', why: 'log levels' },
  { name: 'DEV_DSF_BPE_MAIL_CLIENT_CERTIFICATE*', why: 'no client certificate towards the SMTP server' },
  { name: 'DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTDEBUGLOGLOCATION default /opt/bpe/log/bpe.log', why: 'read, with the default "the BPE log": there is no fixed log file here' },
];
