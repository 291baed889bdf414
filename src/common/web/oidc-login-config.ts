// The browser sign-in's settings (DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW and the provider
// variables), read alike by the FHIR server and the BPE view.
import type { ConfigReader } from '../config-reader.ts';
import type { OidcLoginSettings } from './oidc-login.ts';

export const SESSION_KEY_MIN_LENGTH = 32;

/** The sign-in settings when the authorization code flow is on; problems go to the reader. */
export function readOidcLoginSettings(r: ConfigReader, trustedCas: (name: string) => string[]): OidcLoginSettings | undefined {
  if (!r.bool('DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW', false)) return undefined;
  const realmBaseUrl = r.string('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL');
  const clientId = r.string('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID');
  const clientSecret = r.string('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET');
  const sessionKey = r.string('DSF_SERVER_AUTH_OIDC_SESSION_KEY');
  if (!realmBaseUrl || !/^https:\/\/[^/]+/.test(realmBaseUrl)) r.problems.push('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL (an https:// URL) is required when DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW is true');
  if (!clientId) r.problems.push('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID is required when DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW is true');
  if (!clientSecret) r.problems.push('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET is required when DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW is true');
  if (sessionKey !== undefined && sessionKey.length < SESSION_KEY_MIN_LENGTH) r.problems.push(`DSF_SERVER_AUTH_OIDC_SESSION_KEY: at least ${SESSION_KEY_MIN_LENGTH} characters, got ${sessionKey.length}`);
  return {
    realmBaseUrl: realmBaseUrl ?? '',
    discoveryPath: r.string('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_DISCOVERY_PATH', '/.well-known/openid-configuration'),
    clientId: clientId ?? '',
    clientSecret: clientSecret ?? '',
    trustedCas: trustedCas('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TRUST_SERVER_CERTIFICATE_CAS'),
    connectTimeoutMs: r.durationMs('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_CONNECT', 5_000),
    readTimeoutMs: r.durationMs('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_READ', 30_000),
    sessionTimeoutMs: r.durationMs('DSF_SERVER_AUTH_OIDC_SESSION_TIMEOUT', 30 * 60_000),
    sessionKey,
  };
}
