// Client credentials grant at an OIDC provider (the reference's OidcClientJersey with its cache): the
// discovery document (issuer must be the base URL, client_credentials must be supported), the JWKS,
// and access tokens requested with HTTP Basic client authentication and verified before use (kid
// with use=sig in the JWKS, signature, exp/nbf/iat with leeway, required audiences, azp = client id).
// Discovery and JWKS are cached for an hour, tokens until shortly before they expire.
import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { OidcClientError, type Jwks, type JwksKey, type OidcClient, type OidcConfiguration } from '../../plugin-api/index.ts';
import type { FhirHttp } from './http-transport.ts';

export interface OidcClientSettings {
  baseUrl: string;
  discoveryPath: string;
  clientId: string;
  clientSecret: string;
  requiredAudiences: readonly string[];
  verifyAuthorizedParty: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Tolerance for nbf/iat/exp. */
  leewayMs?: number;
  /** How long discovery document and JWKS are reused. */
  resourceCacheMs?: number;
  /** A token is renewed this long before it expires. */
  tokenRenewBeforeMs?: number;
  /** Caching off: every call asks the provider. */
  cache?: boolean;
}

interface Cached<T> {
  until: number;
  value: T;
}

export class HttpOidcClient implements OidcClient {
  private configuration: Cached<OidcConfiguration> | undefined;
  private jwks: Cached<{ jwks: Jwks; raw: JSONWebKeySet }> | undefined;
  private token: Cached<string> | undefined;

  constructor(
    private readonly http: FhirHttp,
    private readonly settings: OidcClientSettings,
  ) {}

  async getConfiguration(): Promise<OidcConfiguration> {
    if (this.cached(this.configuration)) return this.configuration!.value;
    const base = this.settings.baseUrl.replace(/\/$/, '');
    const json = await this.getJson(`${base}${this.settings.discoveryPath}`);
    const configuration: OidcConfiguration = {
      issuer: String(json.issuer ?? ''),
      tokenEndpoint: String(json.token_endpoint ?? ''),
      jwksUri: String(json.jwks_uri ?? ''),
      grantTypesSupported: Array.isArray(json.grant_types_supported) ? json.grant_types_supported.map(String) : [],
    };
    if (configuration.issuer !== base) throw new OidcClientError(`Invalid response: Issuer does not match base-url (${configuration.issuer} not equal to ${base})`);
    this.configuration = { until: Date.now() + (this.settings.resourceCacheMs ?? 3_600_000), value: configuration };
    return configuration;
  }

  async getJwks(): Promise<Jwks> {
    return (await this.jwksWithRaw()).jwks;
  }

  async getAccessToken(): Promise<string> {
    if (this.cached(this.token)) return this.token!.value;
    const configuration = await this.getConfiguration();
    if (!configuration.grantTypesSupported.includes('client_credentials')) {
      throw new OidcClientError(`OIDC provider does not support Client Credentials Grant, supported grant types: [${configuration.grantTypesSupported.join(', ')}]`);
    }
    if (!configuration.tokenEndpoint.startsWith('https://')) throw new OidcClientError("Token endpoint URL from OIDC configuration resource is null or does not start with 'https://'");
    const { jwks, raw } = await this.jwksWithRaw();
    const basic = Buffer.from(`${this.settings.clientId}:${this.settings.clientSecret}`).toString('base64');
    let res;
    try {
      res = await this.http.request(configuration.tokenEndpoint, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: 'grant_type=client_credentials',
        timeoutMs: this.settings.readTimeoutMs,
        connectTimeoutMs: this.settings.connectTimeoutMs,
      });
    } catch (e) {
      throw new OidcClientError(`Token request to ${configuration.tokenEndpoint} failed: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200) throw new OidcClientError(`Unexpected response status code ${res.status}`);
    let accessToken: unknown;
    try {
      accessToken = (JSON.parse(res.body) as { access_token?: unknown }).access_token;
    } catch {
      throw new OidcClientError('Token response is not JSON');
    }
    if (typeof accessToken !== 'string' || !accessToken) throw new OidcClientError('Token response has no access_token');
    const payload = await this.verify(accessToken, jwks, raw);
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : Date.now();
    this.token = { until: expiresAt - (this.settings.tokenRenewBeforeMs ?? 10_000), value: accessToken };
    return accessToken;
  }

  private async verify(token: string, jwks: Jwks, raw: JSONWebKeySet): Promise<JWTPayload> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch (e) {
      throw new OidcClientError('Unable to parse access token', { cause: e });
    }
    if (!kid) throw new OidcClientError('Access token has no kid property');
    const key = jwks.getKey(kid);
    if (!key || key.use !== 'sig') throw new OidcClientError(`Access token key with kid '${kid}' and use 'sig' not in JWKS`);
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(raw), {
        clockTolerance: Math.round((this.settings.leewayMs ?? 10_000) / 1000),
        audience: this.settings.requiredAudiences.length ? [...this.settings.requiredAudiences] : undefined,
      });
      if (this.settings.requiredAudiences.length > 1) {
        const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (!this.settings.requiredAudiences.every((a) => aud.includes(a))) throw new OidcClientError('JWT verification failed: claim contained unexpected value (aud)');
      }
      if (this.settings.verifyAuthorizedParty && payload.azp !== this.settings.clientId) throw new OidcClientError('JWT verification failed: claim contained unexpected value (azp)');
      return payload;
    } catch (e) {
      if (e instanceof OidcClientError) throw e;
      if (e instanceof joseErrors.JWTExpired) throw new OidcClientError('JWT verification failed: token expired', { cause: e });
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new OidcClientError('JWT verification failed: signature invalid', { cause: e });
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw new OidcClientError(`JWT verification failed: claim contained unexpected value (${e.claim})`, { cause: e });
      throw new OidcClientError(`JWT verification failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private async jwksWithRaw(): Promise<{ jwks: Jwks; raw: JSONWebKeySet }> {
    const configuration = await this.getConfiguration();
    if (this.cached(this.jwks)) return this.jwks!.value;
    if (!configuration.jwksUri.startsWith('https://')) throw new OidcClientError("JWKS URL from OIDC configuration resource is null or does not start with 'https://'");
    const json = await this.getJson(configuration.jwksUri);
    const keys = Array.isArray(json.keys) ? (json.keys as Record<string, unknown>[]) : [];
    const list: JwksKey[] = keys.map((k) => ({
      kid: str(k.kid),
      kty: String(k.kty ?? ''),
      alg: str(k.alg),
      crv: str(k.crv),
      use: str(k.use),
      n: str(k.n),
      e: str(k.e),
      x: str(k.x),
      y: str(k.y),
    }));
    const value = { jwks: { keys: list, getKey: (kid: string) => list.find((k) => k.kid === kid) }, raw: { keys } as unknown as JSONWebKeySet };
    this.jwks = { until: Date.now() + (this.settings.resourceCacheMs ?? 3_600_000), value };
    return value;
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    let res;
    try {
      res = await this.http.request(url, { headers: { accept: 'application/json' }, timeoutMs: this.settings.readTimeoutMs, connectTimeoutMs: this.settings.connectTimeoutMs });
    } catch (e) {
      throw new OidcClientError(`${url} not reachable: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200) throw new OidcClientError(`Unexpected response status code ${res.status} from ${url}`);
    try {
      const json = JSON.parse(res.body) as unknown;
      if (json && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new OidcClientError(`Invalid response from ${url}: not a JSON object`);
  }

  private cached<T>(entry: Cached<T> | undefined): boolean {
    return this.settings.cache !== false && entry !== undefined && entry.until > Date.now();
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
