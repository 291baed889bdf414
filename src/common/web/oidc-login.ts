// Sign-in of local users in the browser by OpenID Connect (DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW):
// the authorization-code flow with PKCE (S256), state and nonce kept in a short-lived encrypted cookie;
// the ID token verified against the provider's keys (issuer, audience = client id, nonce, expiry); then a
// session cookie (HttpOnly, Secure, SameSite=Lax, encrypted, expiring with the session timeout) holds the
// claims the role configuration matches on: nothing is kept on the server, so every process that has the
// key accepts the session (DSF_SERVER_AUTH_OIDC_SESSION_KEY; without it a key of this process only). Used
// by the FHIR server's pages (identity-provider.ts, as for bearer tokens) and by the BPE view.
import https from 'node:https';
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, customFetch, EncryptJWT, jwtDecrypt, jwtVerify, type JWTPayload } from 'jose';
import { CsrfTokens } from './csrf-token.ts';

export interface OidcLoginSettings {
  realmBaseUrl: string;
  discoveryPath: string;
  clientId: string;
  clientSecret: string;
  /** PEM CAs trusted for the provider's HTTPS certificate; empty: the system's. */
  trustedCas: readonly string[];
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Longest session (default 30 minutes, as the reference). */
  sessionTimeoutMs?: number;
  /** Secret the cookies are encrypted with, shared by the site's processes; unset: a random key of this process. */
  sessionKey?: string;
}

/** What a session remembers of the signed-in user. */
export interface SessionClaims {
  sub: string;
  emails: string[];
  name: string;
  tokenRoles: string[];
  tokenGroups: string[];
  expiresAt: Date;
}

interface Provider {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint?: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

export const SESSION_COOKIE = 'dsf_session';
export const LOGIN_COOKIE = 'dsf_login';
/** How long a sign-in may take at the provider (the dsf_login cookie and its content). */
export const LOGIN_TTL_S = 600;

const base64url = (b: Buffer) => b.toString('base64url');

export class OidcLogin {
  private provider?: Promise<Provider>;
  /** The cookies' encryption key: from the shared secret, or random (a restart then signs everyone out). */
  private readonly key: Uint8Array;
  /** The sessions' CSRF tokens (csrf-token.ts), under a key of their own derived like the cookie key. */
  readonly csrf: CsrfTokens;

  constructor(readonly settings: OidcLoginSettings) {
    this.key = settings.sessionKey ? new Uint8Array(hkdfSync('sha256', settings.sessionKey, 'dsf-oidc-session', 'A256GCM cookie key', 32)) : randomBytes(32);
    this.csrf = new CsrfTokens(new Uint8Array(hkdfSync('sha256', this.key, 'dsf-oidc-session', 'CSRF token key', 32)));
  }

  get sessionTimeoutMs(): number {
    return this.settings.sessionTimeoutMs ?? 30 * 60_000;
  }

  /** The provider's authorization URL for a new sign-in, and the cookie value that remembers it. */
  async start(redirectUri: string, returnTo: string): Promise<{ location: string; cookie: string }> {
    const p = await this.discover();
    const verifier = base64url(randomBytes(32));
    const state = base64url(randomBytes(16));
    const nonce = base64url(randomBytes(16));
    const cookie = await this.encrypt({ state, verifier, nonce, returnTo }, LOGIN_TTL_S);
    const url = new URL(p.authorizationEndpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      state,
      nonce,
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    }).toString();
    return { location: url.toString(), cookie };
  }

  /** Completes a sign-in: checks state, redeems the code, verifies the ID token; the session cookie value and where to go. */
  async finish(loginCookie: string | undefined, query: URLSearchParams, redirectUri: string): Promise<{ session: string; returnTo: string; claims: SessionClaims }> {
    if (query.get('error')) throw new LoginError(`The sign-in was refused: ${query.get('error_description') ?? query.get('error')}`);
    const login = loginCookie ? await this.decrypt(loginCookie) : undefined;
    if (!login || typeof login.state !== 'string' || login.state !== query.get('state')) throw new LoginError('The sign-in expired or was started elsewhere; please sign in again');
    const code = query.get('code');
    if (!code) throw new LoginError('The provider sent no authorization code');
    const p = await this.discover();
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: String(login.verifier) });
    const basic = Buffer.from(`${encodeURIComponent(this.settings.clientId)}:${encodeURIComponent(this.settings.clientSecret)}`).toString('base64');
    const answer = await this.request(p.tokenEndpoint, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` } });
    if (answer.status !== 200) throw new LoginError(`The provider did not redeem the authorization code (HTTP ${answer.status})`);
    const tokens = JSON.parse(answer.body) as { id_token?: unknown; access_token?: unknown };
    if (typeof tokens.id_token !== 'string') throw new LoginError('The provider sent no ID token');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(tokens.id_token, p.jwks, { issuer: p.issuer, audience: this.settings.clientId, requiredClaims: ['exp', 'sub'] }));
    } catch (e) {
      throw new LoginError(`The ID token was not accepted (${(e as { code?: string }).code ?? (e as Error).message})`);
    }
    if (claims.nonce !== login.nonce) throw new LoginError('The ID token does not belong to this sign-in (nonce)');
    // Roles and groups may sit in the access token (Keycloak): read them only from a token the provider signed.
    let access: JWTPayload = {};
    if (typeof tokens.access_token === 'string' && tokens.access_token.split('.').length === 3) {
      access = await jwtVerify(tokens.access_token, p.jwks, { issuer: p.issuer }).then((r) => r.payload, () => ({}));
    }
    const session: SessionClaims = {
      sub: String(claims.sub),
      emails: sessionEmails(claims, p.issuer),
      name: [claims.given_name, claims.family_name].filter((n) => typeof n === 'string' && n).join(' ') || String(claims.name ?? claims.email ?? claims.sub),
      tokenRoles: [...new Set([...roles(claims), ...roles(access)])],
      tokenGroups: [...new Set([...strings(claims.groups), ...strings(access.groups)])],
      expiresAt: new Date(Date.now() + this.sessionTimeoutMs),
    };
    const value = await this.encrypt({ ...session, expiresAt: session.expiresAt.toISOString() }, Math.floor(this.sessionTimeoutMs / 1000));
    return { session: value, returnTo: typeof login.returnTo === 'string' ? login.returnTo : '', claims: session };
  }

  /** The session in a cookie value, or undefined (expired, forged, encrypted with another key). */
  async session(value: string | undefined): Promise<SessionClaims | undefined> {
    if (!value) return undefined;
    const c = await this.decrypt(value);
    if (!c || typeof c.sub !== 'string') return undefined;
    return { sub: c.sub, emails: strings(c.emails), name: String(c.name ?? c.sub), tokenRoles: strings(c.tokenRoles), tokenGroups: strings(c.tokenGroups), expiresAt: new Date(String(c.expiresAt)) };
  }

  async endSessionUrl(): Promise<string | undefined> {
    return (await this.discover().catch(() => undefined))?.endSessionEndpoint;
  }

  private async encrypt(payload: Record<string, unknown>, ttlSeconds: number): Promise<string> {
    return new EncryptJWT(payload).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).encrypt(this.key);
  }

  private async decrypt(value: string): Promise<JWTPayload | undefined> {
    try {
      return (await jwtDecrypt(value, this.key)).payload;
    } catch {
      return undefined;
    }
  }

  private discover(): Promise<Provider> {
    this.provider ??= (async () => {
      const url = this.settings.realmBaseUrl.replace(/\/$/, '') + this.settings.discoveryPath;
      const r = await this.request(url);
      if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
      const doc = JSON.parse(r.body) as Record<string, unknown>;
      for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri']) if (typeof doc[k] !== 'string') throw new Error(`${url}: no ${k}`);
      const fetchVia = async (u: string) => {
        const j = await this.request(u);
        return new Response(j.body, { status: j.status, headers: { 'content-type': 'application/json' } });
      };
      return {
        issuer: doc.issuer as string,
        authorizationEndpoint: doc.authorization_endpoint as string,
        tokenEndpoint: doc.token_endpoint as string,
        endSessionEndpoint: typeof doc.end_session_endpoint === 'string' ? doc.end_session_endpoint : undefined,
        jwks: createRemoteJWKSet(new URL(doc.jwks_uri as string), { [customFetch]: fetchVia, timeoutDuration: this.settings.readTimeoutMs }),
      };
    })().catch((e: Error) => {
      this.provider = undefined;
      throw new LoginError(`The OpenID provider cannot be reached: ${e.message}`);
    });
    return this.provider;
  }

  /** HTTPS only, trusting the configured CAs. */
  private request(url: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
    if (!url.startsWith('https://')) return Promise.reject(new Error(`${url} is not an https:// URL`));
    const ca = this.settings.trustedCas.length ? [...this.settings.trustedCas] : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: opts.method ?? 'GET', ca, timeout: this.settings.connectTimeoutMs, headers: { accept: 'application/json', ...opts.headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.setTimeout(this.settings.readTimeoutMs, () => res.destroy(new Error(`${url}: read timed out`)));
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: connect timed out`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }
}

export class LoginError extends Error {}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function roles(claims: JWTPayload): string[] {
  const out = strings((claims.realm_access as { roles?: unknown } | undefined)?.roles);
  const resources = claims.resource_access;
  if (resources && typeof resources === 'object') {
    for (const [client, access] of Object.entries(resources as Record<string, { roles?: unknown }>)) for (const r of strings(access?.roles)) out.push(`${client}.${r}`);
  }
  return out;
}

function sessionEmails(claims: JWTPayload, issuer: string): string[] {
  const out: string[] = [];
  if (typeof claims.email === 'string' && claims.email.includes('@')) out.push(claims.email);
  if (typeof claims.sub === 'string') {
    try {
      out.push(`${claims.sub}@${new URL(issuer).hostname}`);
    } catch {
      // an issuer that is no URL gives no derived address
    }
  }
  return [...new Set(out)];
}
