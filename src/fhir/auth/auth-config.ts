// Authentication settings of the FHIR server, read with the reference's variable names where it has
// them. DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES is ours: the reference trusts the header from
// whoever reaches its plain-HTTP port (its proxy); we accept it only from the listed addresses.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ConfigReader } from '../../common/config-reader.ts';
import { parseRoleConfig, RoleConfig } from './role-config.ts';
import type { OidcSettings } from './oidc-bearer.ts';
import type { OidcLoginSettings } from '../../common/web/oidc-login.ts';
import { readOidcLoginSettings } from '../../common/web/oidc-login-config.ts';

export interface AuthConfig {
  /** DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER (X-ClientCert) */
  clientCertificateHeader: string;
  /** DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: peers whose certificate header is believed. */
  trustedProxyAddresses: string[];
  /** DEV_DSF_FHIR_SERVER_ROLECONFIG */
  roleConfig: RoleConfig;
  /** Set when DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN is true. */
  oidc?: OidcSettings;
  /** Set when DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW is true: browser sign-in of local users. */
  oidcLogin?: OidcLoginSettings;
}

export function defaultAuthConfig(): AuthConfig {
  return { clientCertificateHeader: 'X-ClientCert', trustedProxyAddresses: [], roleConfig: RoleConfig.empty() };
}

export function readAuthConfig(r: ConfigReader, env: Record<string, string | undefined>): AuthConfig {
  const trustedProxyAddresses = r.list('DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES');
  for (const a of trustedProxyAddresses) if (!isIP(a)) r.problems.push(`DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: '${a}' is not an IP address`);
  const header = r.string('DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER', 'X-ClientCert');
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) r.problems.push(`DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER: '${header}' is not a header name`);

  const config: AuthConfig = {
    clientCertificateHeader: header,
    trustedProxyAddresses,
    roleConfig: parseRoleConfig(roleConfigText(r), r.problems),
  };

  if (r.bool('DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN', false)) {
    const realmBaseUrl = r.string('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL');
    if (!realmBaseUrl) r.problems.push('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL is required when DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN is true');
    else if (!/^https:\/\/[^/]+/.test(realmBaseUrl)) r.problems.push(`DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL must be an https:// URL, got '${realmBaseUrl}'`);
    // An explicitly empty audience (the reference: "set blank string e.g. ''") disables the check.
    const audienceRaw = env.DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN_AUDIENCE;
    const audience = audienceRaw !== undefined && (audienceRaw.trim() === '' || audienceRaw.trim() === "''") ? '' : r.string('DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN_AUDIENCE');
    config.oidc = {
      realmBaseUrl: realmBaseUrl ?? '',
      discoveryPath: r.string('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_DISCOVERY_PATH', '/.well-known/openid-configuration'),
      clientId: r.string('DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID'),
      audience,
      trustedCas: trustedCas(r, 'DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TRUST_SERVER_CERTIFICATE_CAS'),
      connectTimeoutMs: r.durationMs('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_CONNECT', 5_000),
      readTimeoutMs: r.durationMs('DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TIMEOUT_READ', 30_000),
    };
  }
  config.oidcLogin = readOidcLoginSettings(r, (name) => trustedCas(r, name));
  return config;
}

/** The role configuration is inline YAML (as in the reference) or, if it names one, a file. */
function roleConfigText(r: ConfigReader): string | undefined {
  const v = r.string('DEV_DSF_FHIR_SERVER_ROLECONFIG');
  if (v === undefined) return undefined;
  const single = v.trim();
  if (!single.includes('\n') && /\.ya?ml$/i.test(single)) {
    try {
      return readFileSync(single, 'utf8');
    } catch (e) {
      r.problems.push(`DEV_DSF_FHIR_SERVER_ROLECONFIG: cannot read ${single}: ${(e as Error).message}`);
      return undefined;
    }
  }
  return v;
}

/** PEM CAs from a variable: inline PEM, or comma/space separated PEM files or folders of them. */
export function trustedCas(r: ConfigReader, name: string): string[] {
  const raw = r.string(name);
  if (raw === undefined) return [];
  if (raw.includes('-----BEGIN')) return [raw];
  return raw.split(/[,\s]+/).filter(Boolean).flatMap((v) => pemFiles(r, name, v));
}

/** Inline PEM, a PEM file, or a folder of *.crt / *.pem files (as the reference's CA settings). */
function pemFiles(r: ConfigReader, name: string, value: string): string[] {
  if (value.includes('-----BEGIN')) return [value];
  try {
    if (existsSync(value) && statSync(value).isDirectory()) {
      return readdirSync(value)
        .filter((f) => /\.(crt|pem)$/i.test(f))
        .sort()
        .map((f) => readFileSync(join(value, f), 'utf8'));
    }
    return [readFileSync(value, 'utf8')];
  } catch (e) {
    r.problems.push(`${name}: cannot read ${value}: ${(e as Error).message}`);
    return [];
  }
}
