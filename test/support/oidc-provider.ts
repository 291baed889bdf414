// A real OpenID provider (npm oidc-provider) over HTTPS on loopback for the bearer-token tests. Each
// registered client gets JWT access tokens by the client-credentials grant; the claims a test wants
// in a client's tokens (email, realm_access, resource_access, groups) are given per client.
import https from 'node:https';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from '../../src/db/embedded.ts';

export interface TestOidcProvider {
  /** Issuer and realm base URL, https://localhost:<port> */
  issuer: string;
  /** The audience tokens get unless another resource is asked for. */
  audience: string;
  /** Requests a token for the client by the client-credentials grant (real HTTP). */
  token(clientId: string, opts?: { resource?: string }): Promise<string>;
  /** Signs a token with the provider's own key, e.g. one that has already expired. */
  sign(claims: Record<string, unknown>, expiresAt: Date): Promise<string>;
  /** The secret of a registered client. */
  clientSecret(clientId: string): string;
  close(): Promise<void>;
}

export async function startTestOidcProvider(opts: {
  certPem: string;
  keyPem: string;
  caPem: string;
  audience: string;
  clients: Record<string, Record<string, unknown>>;
  /** Clients that authenticate at the token endpoint with HTTP Basic (client_secret_basic) instead of the form. */
  basicAuthClients?: string[];
  /**
   * Clients signing users in by the authorization-code flow (client id -> redirect URI). The provider's
   * development login form then takes any account name; the account's e-mail is the name given.
   */
  loginClients?: Record<string, string>;
}): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `https://localhost:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const secret = (id: string) => `${id}-secret-0123456789abcdef0123456789abcdef`;
  const resourceAudience = (resource: string) => (resource === 'https://fhir.test' ? opts.audience : new URL(resource).hostname);

  const provider = new Provider(issuer, {
    clients: Object.keys(opts.clients).map((client_id) => ({
      client_id,
      client_secret: secret(client_id),
      grant_types: ['client_credentials'],
      redirect_uris: [] as string[],
      response_types: [] as string[],
      token_endpoint_auth_method: opts.basicAuthClients?.includes(client_id) ? 'client_secret_basic' : 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    })).concat(
      Object.entries(opts.loginClients ?? {}).map(([client_id, redirect]) => ({
        client_id,
        client_secret: secret(client_id),
        grant_types: ['authorization_code'],
        redirect_uris: [redirect],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      })),
    ),
    jwks: { keys: [jwk] },
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, email: id, email_verified: true, name: `User ${id}` }) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: !!opts.loginClients },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://fhir.test',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'fhir',
          audience: resourceAudience(resource),
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => opts.clients[token.clientId ?? ''] ?? {},
    cookies: { keys: ['test-cookie-key-0123456789'] },
    ttl: { ClientCredentials: 300 },
  });
  const server = https.createServer({ cert: opts.certPem, key: opts.keyPem }, provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    issuer,
    audience: opts.audience,
    async token(clientId, tokenOpts = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret(clientId), scope: 'fhir' });
      if (tokenOpts.resource) body.set('resource', tokenOpts.resource);
      const text = await new Promise<string>((resolve, reject) => {
        const req = https.request(`${issuer}/token`, { method: 'POST', ca: opts.caPem, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`token: HTTP ${res.statusCode} ${Buffer.concat(chunks)}`))));
        });
        req.on('error', reject);
        req.end(body.toString());
      });
      return JSON.parse(text).access_token as string;
    },
    async sign(claims, expiresAt) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(opts.audience)
        .setIssuedAt(Math.floor(expiresAt.getTime() / 1000) - 300)
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(privateKey);
    },
    clientSecret: secret,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
