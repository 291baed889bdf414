// OIDC bearer tokens (DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN): an `Authorization: Bearer` JWT is
// verified against the keys of the provider named by the realm base URL (discovery document, then its
// jwks_uri), its issuer, expiry and (as the reference) audience = the configured audience, by default
// the client id. The claims a role configuration matches on are extracted here; who the user is
// follows in identity-provider.ts.
import https from 'node:https';
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { FhirError } from '../../common/errors.ts';

export interface OidcSettings {
  /** e.g. https://keycloak.test.com/realms/example */
  realmBaseUrl: string;
  /** Appended to the realm base URL; the reference's default is /.well-known/openid-configuration. */
  discoveryPath: string;
  clientId?: string;
  /** Expected `aud`; undefined means the client id, '' disables the check. */
  audience?: string;
  /** PEM CAs trusted for the provider's HTTPS certificate; empty: the system's CAs. */
  trustedCas: readonly string[];
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export interface VerifiedToken {
  claims: JWTPayload;
  /** The `email` claim, then `<sub>@<issuer host>` as the reference derives one. */
  emails: string[];
  /** realm_access.roles, and resource_access.<client>.roles as `<client>.<role>`. */
  tokenRoles: string[];
  tokenGroups: string[];
  expiresAt?: Date;
  displayName: string;
}

interface Discovery {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

export class OidcBearerVerifier {
  private discovery?: Promise<Discovery>;

  constructor(readonly settings: OidcSettings) {}

  /** Verifies the token or throws 401. */
  async verify(token: string): Promise<VerifiedToken> {
    const { issuer, jwks } = await this.discover();
    const audience = this.settings.audience ?? this.settings.clientId;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, { issuer, ...(audience ? { audience } : {}), requiredClaims: ['exp'] }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw bearerError('The bearer token has expired');
      if (e instanceof joseErrors.JOSEError) throw bearerError(`The bearer token was not accepted (${e.code})`);
      throw e;
    }
    return {
      claims,
      emails: tokenEmails(claims),
      tokenRoles: tokenRoles(claims),
      tokenGroups: stringArray(claims.groups),
      expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined,
      displayName: [claims.given_name, claims.family_name].filter((n) => typeof n === 'string' && n).join(' ') || String(claims.email ?? claims.sub ?? 'OIDC user'),
    };
  }

  /** Loads the discovery document once; a failed attempt is retried by the next token. */
  private discover(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const url = this.settings.realmBaseUrl.replace(/\/$/, '') + this.settings.discoveryPath;
      const doc = JSON.parse((await this.get(url)).body) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new Error(`${url}: no issuer or jwks_uri`);
      const fetchVia = async (u: string) => {
        const r = await this.get(u);
        return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json' } });
      };
      return { issuer: doc.issuer, jwks: createRemoteJWKSet(new URL(doc.jwks_uri), { [customFetch]: fetchVia, timeoutDuration: this.settings.readTimeoutMs }) };
    })().catch((e: Error) => {
      this.discovery = undefined;
      throw new FhirError(401, `The OpenID provider cannot be reached to verify the bearer token: ${e.message}`, 'security', { 'www-authenticate': 'Bearer' });
    });
    return this.discovery;
  }

  /** GET over HTTPS trusting the configured CAs (the provider is never reached over plain HTTP). */
  private get(url: string): Promise<{ status: number; body: string }> {
    if (!url.startsWith('https://')) return Promise.reject(new Error(`${url} is not an https:// URL`));
    const ca = this.settings.trustedCas.length ? [...this.settings.trustedCas] : undefined;
    return new Promise((resolve, reject) => {
      const req = https.get(url, { ca, timeout: this.settings.connectTimeoutMs, headers: { accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.setTimeout(this.settings.readTimeoutMs, () => res.destroy(new Error(`${url}: read timed out`)));
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
          else resolve({ status: 200, body });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: connect timed out`)));
      req.on('error', reject);
    });
  }
}

export function bearerError(message: string): FhirError {
  return new FhirError(401, message, 'login', { 'www-authenticate': 'Bearer error="invalid_token"' });
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function tokenRoles(claims: JWTPayload): string[] {
  const realm = (claims.realm_access ?? {}) as { roles?: unknown };
  const roles = stringArray(realm.roles);
  const resources = claims.resource_access;
  if (resources && typeof resources === 'object') {
    for (const [client, access] of Object.entries(resources as Record<string, { roles?: unknown }>)) {
      for (const role of stringArray(access?.roles)) roles.push(`${client}.${role}`);
    }
  }
  return roles;
}

function tokenEmails(claims: JWTPayload): string[] {
  const out: string[] = [];
  if (typeof claims.email === 'string' && claims.email.includes('@')) out.push(claims.email);
  if (typeof claims.sub === 'string' && claims.sub && typeof claims.iss === 'string') {
    try {
      out.push(`${claims.sub}@${new URL(claims.iss).hostname}`);
    } catch {
      // an issuer that is no URL gives no derived address
    }
  }
  return [...new Set(out)];
}
