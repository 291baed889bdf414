// Variables both servers read with the same meaning (each server is a container of its own in the
// reference, so they share names): the status port, the forward proxy, the OpenID provider and browser sign-in.
import type { ConfigVariable } from './config-catalog.ts';

const v = (name: string, type: ConfigVariable['type'], description: string, more: Partial<ConfigVariable> = {}): ConfigVariable => ({
  name,
  type,
  description,
  reference: name.startsWith('DEV_DSF_'),
  ...more,
});

/** Status port variables: the same names for both servers (as the reference, one server a container). */
export const STATUS_VARIABLES: ConfigVariable[] = [
  v('DEV_DSF_SERVER_STATUS_HOST', 'string', 'Address the status port listens on (plain HTTP, no client certificate).', { default: '127.0.0.1' }),
  v('DEV_DSF_SERVER_STATUS_PORT', 'integer', 'Port of GET /status (200 when the database answers, else 503) and GET /metrics (Prometheus); no status port when unset. The reference requires it (its images use 10000).'),
];

export const PROXY_VARIABLES: ConfigVariable[] = [
  v('DEV_DSF_PROXY_URL', 'url', 'Forward proxy for outgoing HTTPS, e.g. http://proxy.example.org:8080.'),
  v('DEV_DSF_PROXY_USERNAME', 'string', 'User name at the forward proxy.'),
  v('DEV_DSF_PROXY_PASSWORD', 'string', 'Password at the forward proxy.', { secret: true }),
  v('DEV_DSF_PROXY_NOPROXY', 'list', 'Hosts (and host:port) reached without the proxy, comma separated.'),
];

/**
 * The OpenID provider and the browser sign-in (authorization code flow): the FHIR server's pages and the
 * BPE view read the same names (the reference's servers do too). The FHIR server's bearer tokens use the
 * provider settings as well.
 */
export const OIDC_PROVIDER_VARIABLES: ConfigVariable[] = [
  v('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL', 'url', 'Base URL of the OIDC provider (realm); required with bearer tokens or browser sign-in.'),
  v('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_DISCOVERY_PATH', 'string', 'Path of the provider metadata below the realm base URL.', { default: '/.well-known/openid-configuration' }),
  v('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID', 'string', "This server's client id at the OIDC provider; the FHIR server's default token audience."),
  v('DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW', 'boolean', 'Sign-in of local users in the browser by OpenID Connect (authorization code flow with PKCE): the FHIR pages and the BPE view; needs the realm base URL, client id and client secret.', { default: 'false' }),
  v('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET', 'string', "This server's client secret at the OIDC provider (browser sign-in).", { secret: true }),
  v('DSF_SERVER_AUTH_OIDC_SESSION_TIMEOUT', 'duration', 'Lifetime of a browser session after an OIDC sign-in.', { default: 'PT30M' }),
  v(
    'DSF_SERVER_AUTH_OIDC_SESSION_KEY',
    'string',
    'Secret (at least 32 characters) the browser session cookies are encrypted with. Give every process of a site (behind one load balancer) the same value and each accepts the sessions of the others; unset, each process draws a key of its own and a restart signs everyone out.',
    { secret: true },
  ),
  v('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', 'pem', "CA certificates trusted for the OIDC provider's server certificate (PEM files or folders)."),
  v('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_CONNECT', 'duration', 'Connect timeout towards the OIDC provider.', { default: 'PT5S' }),
  v('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_READ', 'duration', 'Read timeout towards the OIDC provider.', { default: 'PT30S' }),
];
