// Configured FHIR server connections (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG, the reference's YAML):
// every problem of a bad configuration at once; certificate, basic, bearer and OIDC client-credentials
// authentication against real servers on loopback (our FHIR server, a data server that checks the
// Authorization header, a real OpenID provider); `#local` and `#<endpoint identifier>`; the proxy
// rules of DEV_DSF_PROXY_*.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { parseClientConnections } from '../../../src/bpe/client/client-connections.ts';
import { createConfiguredClients, type ConfiguredClients } from '../../../src/bpe/client/configured-clients.ts';
import { DEFAULT_OIDC_CACHE, defaultConnectionDefaults, readBpeConfig } from '../../../src/bpe/config.ts';
import { createCryptoService } from '../../../src/bpe/api-services/crypto/crypto-service.ts';
import { createProxyConfig, OidcClientError } from '../../../src/plugin-api/index.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { startTestOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.ts';
import { startAsyncDataServer, type AsyncDataServer } from '../support/async-data-server.ts';

let site: TestSite;
let data: AsyncDataServer;
let oidc: TestOidcProvider;
let connections: ConfiguredClients;
const dir = mkdtempSync(join(tmpdir(), 'dsf-connections-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const logs: string[] = [];

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  const certs = site.certs;
  const server = certs.organizations['Test_Organization']!.server;
  const [certPem, keyPem, caPem] = [readFileSync(server.certPath, 'utf8'), readFileSync(server.keyPath, 'utf8'), readFileSync(certs.ca.certPath, 'utf8')];
  oidc = await startTestOidcProvider({ certPem, keyPem, caPem, audience: 'data-server', clients: { 'bpe-client': { azp: 'bpe-client' } }, basicAuthClients: ['bpe-client'] });
  data = await startAsyncDataServer({
    certPem,
    keyPem,
    requireAuthorization: (value) => {
      if (value === `Basic ${Buffer.from('data-user:data-password').toString('base64')}` || value === 'Bearer static-token') return true;
      if (!value?.startsWith('Bearer ')) return false;
      const claims = decodeJwt(value.slice(7));
      return claims.iss === oidc.issuer && claims.aud === 'data-server';
    },
  });
  const user = certs.users['practitioner']!;
  const yaml = `
data-basic:
  base-url: '${data.baseUrl}/'
  test-connection-on-startup: yes
  basic-auth:
    username: data-user
    password-file: '${file('basic-password', 'data-password\n')}'
data-bearer:
  base-url: '${data.baseUrl}'
  read-timeout: PT30S
  bearer-auth:
    token-file: '${file('token', 'static-token')}'
data-oidc:
  base-url: '${data.baseUrl}'
  oidc-auth:
    base-url: '${oidc.issuer}'
    client-id: bpe-client
    client-secret-file: '${file('client-secret', oidc.clientSecret('bpe-client'))}'
    required-audience: data-server
data-none:
  base-url: '${data.baseUrl}'
  test-connection-on-startup: yes
practitioner:
  base-url: '${site.baseUrl}'
  connect-timeout: PT5S
  cert-auth:
    certificate-file: '${user.certPath}'
    private-key-file: '${user.keyPath}'
via-proxy:
  base-url: http://via.proxy/fhir
`;
  const defaults = defaultConnectionDefaults([caPem]);
  const parsed = parseClientConnections(yaml, defaults);
  assert.deepEqual(parsed.problems, []);
  const organization = certs.organizations['Test_Organization']!.client;
  connections = await createConfiguredClients({
    specs: parsed.specs,
    defaults,
    dsf: { certificatePem: readFileSync(organization.certPath, 'utf8'), privateKeyPem: readFileSync(organization.keyPath, 'utf8'), trustedCas: [caPem] },
    proxy: createProxyConfig({ url: 'http://proxy.test:8080', username: 'proxy_username', password: 'proxy_password', noProxy: ['localhost', 'noproxy.test:443'] }),
    crypto: createCryptoService(),
    oidcCache: DEFAULT_OIDC_CACHE,
    endpointAddress: async (id) => (await site.client.get(`/Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|${id}&status=active`)).json.entry?.[0]?.resource?.address,
    localBaseUrl: site.baseUrl,
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
  });
});
after(async () => {
  connections.close();
  await data.close();
  await oidc.close();
  await site.stop();
});

test('a bad connections YAML: every problem at once, each naming the entry and the property', () => {
  const defaults = defaultConnectionDefaults([]);
  const { specs, problems } = parseClientConnections(
    `
ok:
  base-url: https://ok.test/fhir
empty:
no-url:
  connect-timeout: PT1S
bad:
  base-url: https://bad.test/fhir
  read-timeout: P30D
  connect-timeout: soon
  trusted-root-certificates-file: /nonexistent/ca.pem
  cert-auth:
    p12-file: '${file('empty.p12', '')}'
    certificate-file: '${file('cert.pem', 'x')}'
    password: secret
    password-file: '${file('two-lines', 'a\nb\n')}'
  basic-auth:
    username: someone
  bearer-auth:
    token: '  '
  oidc-auth:
    client-secret: s
    required-audience: ['', a]
`,
    defaults,
  );
  assert.deepEqual(specs.map((s) => s.fhirServerId), ['ok']);
  for (const expected of [
    'empty: not configured',
    'no-url.base-url: not defined or blank',
    'bad.read-timeout: too large, max. P24DT20H31M23.647S',
    "bad.connect-timeout: 'soon' is not an ISO-8601 duration",
    "bad.trusted-root-certificates-file: file '/nonexistent/ca.pem' not readable",
    'bad.cert-auth.p12-file: file empty',
    'bad.cert-auth.private-key-file: not defined or blank',
    'bad.cert-auth.p12-file, bad.cert-auth.certificate-file: defined',
    'bad.cert-auth.password-file: more than one line',
    'bad.cert-auth.password, bad.cert-auth.password-file: defined',
    'bad.basic-auth.password, bad.basic-auth.password-file: not defined',
    'bad.bearer-auth.token: blank',
    'bad.oidc-auth.base-url: not defined or blank',
    'bad.oidc-auth.client-id: not defined or blank',
    'bad.oidc-auth.required-audience: value at index 0 not defined or blank',
  ]) {
    assert.ok(problems.includes(expected), `missing problem '${expected}' in:\n${problems.join('\n')}`);
  }
  // Through the BPE configuration the problems stop the start, all of them listed.
  assert.throws(
    () => readBpeConfig({ DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://fhir.test/fhir', DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: 'x-----BEGIN', DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: 'x-----BEGIN', DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: 'a:\nb:\n  base-url: " "', DEV_DSF_PROXY_URL: 'ftp://proxy' }),
    (e) => /a: not configured/.test((e as Error).message) && /b\.base-url: not defined or blank/.test((e as Error).message) && /DEV_DSF_PROXY_URL/.test((e as Error).message),
  );
});

test('client configs: YAML entries with defaults and proxy, #local and #<endpoint identifier> with the BPE certificate', async () => {
  const basic = (await connections.getClientConfig('data-basic'))!;
  assert.equal(basic.baseUrl, data.baseUrl, 'trailing slash removed');
  assert.equal(basic.startupConnectionTestEnabled, true);
  assert.equal(basic.readTimeoutMs, 600_000);
  assert.equal(basic.connectTimeoutMs, 2_000);
  assert.equal(basic.trustStore.aliases().length, 1);
  assert.deepEqual(basic.basicAuthentication, { username: 'data-user', password: 'data-password' });
  assert.equal(basic.proxy, undefined, 'localhost is a no-proxy host');
  assert.equal((await connections.getClientConfig('data-bearer'))!.readTimeoutMs, 30_000);
  const practitioner = (await connections.getClientConfig('practitioner'))!;
  assert.equal(practitioner.connectTimeoutMs, 5_000);
  assert.equal(practitioner.certificateAuthentication!.keyStore.aliases().length, 1);
  const proxied = (await connections.getClientConfig('via-proxy'))!;
  assert.deepEqual(proxied.proxy, { url: 'http://proxy.test:8080', username: 'proxy_username', password: 'proxy_password' });
  assert.equal(proxied.certificateAuthentication, undefined);

  const local = (await connections.getClientConfig('#local'))!;
  assert.equal(local.fhirServerId, '#local');
  assert.equal(local.baseUrl, site.baseUrl);
  assert.equal(local.startupConnectionTestEnabled, false);
  assert.ok(local.certificateAuthentication?.keyStorePassword);
  assert.equal(local.certificateAuthentication!.keyStore.aliases().length, 1);
  const external = (await connections.getClientConfig('#external-test-organization.test'))!;
  assert.equal(external.baseUrl, 'https://external-test-organization.test/fhir');
  assert.deepEqual(external.proxy, { url: 'http://proxy.test:8080', username: 'proxy_username', password: 'proxy_password' });
  for (const id of ['not-configured', '#dsf', '#no-such-endpoint', '', null, undefined]) assert.equal(await connections.getClientConfig(id), undefined, String(id));
  assert.equal(connections.createDefaultTrustStore().aliases().length, 1);
  assert.ok(connections.createDefaultSslContext());
});

test('clients by id authenticate as configured: basic, bearer, OIDC client credentials, client certificate', async () => {
  const start = data.requests.length;
  assert.equal((await (await connections.getById('data-basic'))!.getConformance()).software?.name, 'Async Test Data Server');
  assert.equal((await (await connections.getById('data-bearer'))!.getConformance()).software?.name, 'Async Test Data Server');
  assert.equal((await (await connections.getById('data-oidc'))!.getConformance()).software?.name, 'Async Test Data Server');
  await (await connections.getById('data-oidc'))!.getConformance();
  const sent = data.requests.slice(start).map((r) => r.headers.authorization ?? '');
  assert.match(sent[0]!, /^Basic /);
  assert.equal(sent[1], 'Bearer static-token');
  assert.match(sent[2]!, /^Bearer ey/);
  assert.equal(sent[3], sent[2], 'the access token is reused until shortly before it expires');
  await assert.rejects((await connections.getById('data-none'))!.getConformance(), (e) => (e as { status?: number }).status === 401);

  // The practitioner's certificate: a local user the FHIR server knows only with a role config, so 401 here.
  const practitioner = (await connections.getById('practitioner'))!;
  await assert.rejects(practitioner.search('Organization'), (e) => (e as { status?: number }).status === 401);
  const local = (await connections.getById('#local'))!;
  assert.equal(local.baseUrl, site.baseUrl);
  assert.equal((await local.read('Organization', (await local.search('Organization', { _count: 1 })).entry![0]!.resource!.id!)).resourceType, 'Organization');
});

test('OIDC client: discovery, JWKS and verified tokens; a wrong secret or audience is refused', async () => {
  const client = connections.getOidcClient(oidc.issuer, 'bpe-client', oidc.clientSecret('bpe-client'), { requiredAudiences: ['data-server'] });
  const configuration = await client.getConfiguration();
  assert.equal(configuration.issuer, oidc.issuer);
  assert.ok(configuration.grantTypesSupported.includes('client_credentials'));
  assert.ok((await client.getJwks()).keys.some((k) => k.use === 'sig'));
  const token = await client.getAccessToken();
  assert.equal(decodeJwt(token).azp, 'bpe-client');
  await assert.rejects(connections.getOidcClient(oidc.issuer, 'bpe-client', 'wrong-secret').getAccessToken(), (e) => e instanceof OidcClientError && /401|400/.test(e.message));
  await assert.rejects(connections.getOidcClient(oidc.issuer, 'bpe-client', oidc.clientSecret('bpe-client'), { requiredAudiences: ['another-server'] }).getAccessToken(), (e) => e instanceof OidcClientError && /aud/.test(e.message));
  await assert.rejects(connections.getOidcClient(`${oidc.issuer}/other`, 'bpe-client', 'x').getConfiguration(), OidcClientError);
});

test('start-up connection tests: logged, never fatal', async () => {
  await connections.testConnections();
  assert.ok(logs.some((l) => l.startsWith('info Testing connection with FHIR server') && l.includes("'data-basic' [OK]")), logs.join('\n'));
  assert.ok(logs.some((l) => l.startsWith('warn Testing connection with FHIR server') && l.includes("'data-none' [Failed]")), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes(`OIDC provider at ${oidc.issuer} for 'data-oidc' [OK]`)), logs.join('\n'));
});

test('proxy rules of DEV_DSF_PROXY_*: host, parent domain, port (default by scheme), * and unusable URLs', () => {
  const proxy = createProxyConfig({ url: 'http://proxy:8080', username: 'proxy_username', password: 'proxy_password', noProxy: 'localhost, noproxy:443 foo.bar test.com:8080' });
  assert.equal(proxy.isEnabled(), true);
  assert.deepEqual(proxy.noProxyUrls, ['localhost', 'noproxy:443', 'foo.bar', 'test.com:8080']);
  for (const [url, expected] of [
    ['https://localhost', true],
    ['http://localhost:8080', true],
    ['https://noproxy', true],
    ['http://noproxy', false],
    ['http://noproxy:8080', false],
    ['https://foo.bar/fhir', true],
    ['https://baz.foo.bar/test', true],
    ['https://a.baz.foo.bar/test', false],
    ['https://test.com:8080/fhir', true],
    ['https://test.com/fhir', false],
    ['foo', false],
    ['', false],
    [null, false],
  ] as const) {
    assert.equal(proxy.isNoProxyUrl(url), expected, String(url));
  }
  assert.throws(() => proxy.isNoProxyUrl('ftp://localhost'), TypeError);
  assert.throws(() => proxy.isNoProxyUrl('localhost:1234'), TypeError, 'the scheme "localhost" is not supported');
  assert.equal(proxy.isEnabled('https://remote.test/fhir'), true);
  assert.equal(proxy.isEnabled('https://localhost/fhir'), false);
  assert.equal(proxy.isEnabled(''), false);
  assert.equal(createProxyConfig({ url: 'http://proxy:8080', noProxy: ['*'] }).isEnabled(), false);
  assert.equal(createProxyConfig({ url: 'http://proxy:8080', noProxy: ['*'] }).isNoProxyUrl('https://any.test'), true);
  assert.equal(createProxyConfig({ url: 'ftp://proxy' }).url, undefined);
  assert.equal(createProxyConfig({}).isEnabled('https://remote.test'), false);
});
