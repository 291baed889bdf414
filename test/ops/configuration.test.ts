// Configuration as data: the tables of variables, the readers and docs/configuration.md agree; a bad
// configuration lists every problem at once with name, value (never a secret's) and reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ConfigReader, parseDurationMs } from '../../src/common/config-reader.ts';
import type { ConfigCatalog } from '../../src/common/config-catalog.ts';
import { readFhirServerConfig } from '../../src/fhir/config.ts';
import { readBpeConfig } from '../../src/bpe/config.ts';
import { FHIR_VARIABLES } from '../../src/fhir/config-variables.ts';
import { BPE_VARIABLES } from '../../src/bpe/config-variables.ts';
import { configurationDoc } from '../../src/cli/configuration-doc.ts';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n';

const caFile = join(mkdtempSync(join(tmpdir(), 'dsf-config-ca-')), 'ca.pem');
writeFileSync(caFile, CERT);
const fhirEnv = (more: Record<string, string> = {}) => ({
  DEV_DSF_FHIR_SERVER_BASE_URL: 'https://dsf.example.org/fhir',
  DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'example.org',
  DEV_DSF_SERVER_CERTIFICATE: CERT,
  DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: KEY,
  DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: caFile,
  ...more,
});
const bpeEnv = (more: Record<string, string> = {}) => ({
  DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://dsf.example.org/fhir',
  DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: CERT,
  DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: KEY,
  ...more,
});

/** Every listed variable is read, and each typed read falls back to the listed default. */
function assertTableMatchesReader(catalog: ConfigCatalog, readers: ConfigReader[]) {
  const read = new Set(readers.flatMap((r) => [...r.read]));
  const unread = catalog.variables.filter((v) => !read.has(v.name)).map((v) => v.name);
  assert.deepEqual(unread, [], `listed but never read: ${unread.join(', ')}`);
  for (const r of readers) {
    for (const [name, fallback] of r.fallbacks) {
      const v = catalog.get(name)!;
      if (v.default === undefined) continue;
      const listed = v.type === 'duration' ? parseDurationMs(v.default) : v.type === 'integer' ? Number(v.default) : v.type === 'boolean' ? v.default === 'true' : v.default;
      if (name === 'DSF_BPE_FHIR_PACKAGE_CACHE' || name === 'DSF_DATA_DIR' || name === 'DSF_BPE_DATA_DIR') continue; // paths written for the reader
      assert.equal(fallback, listed, `${name}: the reader falls back to ${fallback}, the table says ${v.default}`);
    }
  }
}

test('FHIR server: the table lists exactly the variables read, with the defaults the reader uses', () => {
  const plain = new ConfigReader(fhirEnv(), FHIR_VARIABLES);
  readFhirServerConfig(fhirEnv(), plain);
  // The OIDC settings are read only with bearer tokens on; the status port only when set.
  // The browser sign-in's settings only with the authorization code flow on.
  const oidcEnv = fhirEnv({
    DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID: 'dsf',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET: 'secret',
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL: 'https://idp.example.org/realms/x',
    DEV_DSF_SERVER_STATUS_PORT: '10000',
  });
  const oidc = new ConfigReader(oidcEnv, FHIR_VARIABLES);
  const cfg = readFhirServerConfig(oidcEnv, oidc);
  assert.equal(cfg.statusPort, 10000);
  assertTableMatchesReader(FHIR_VARIABLES, [plain, oidc]);
});

test('BPE: the table lists exactly the variables read, with the defaults the reader uses', () => {
  const r = new ConfigReader(bpeEnv(), BPE_VARIABLES);
  const cfg = readBpeConfig(bpeEnv(), r);
  assert.equal(cfg.statusPort, undefined);
  // The browser sign-in's settings (the BPE view) only with the authorization code flow on.
  const oidcEnv = bpeEnv({
    DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID: 'dsf-bpe',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET: 'secret',
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL: 'https://idp.example.org/realms/x',
  });
  const oidc = new ConfigReader(oidcEnv, BPE_VARIABLES);
  assert.equal(readBpeConfig(oidcEnv, oidc).oidcLogin?.clientId, 'dsf-bpe');
  // The HTTPS server (status JSON, BPE view) only with DEV_DSF_BPE_SERVER_BASE_URL; DSF_BPE_SERVER_API_* win when set (`dsf site`).
  const webEnv = bpeEnv({ DEV_DSF_BPE_SERVER_BASE_URL: 'https://bpe.example.org/bpe', DEV_DSF_SERVER_CERTIFICATE: CERT, DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: KEY, DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: caFile });
  const web = new ConfigReader(webEnv, BPE_VARIABLES);
  assert.deepEqual({ ...readBpeConfig(webEnv, web).web, serverCertificate: '', serverCertificateKey: '', trustedClientCas: [] }, { baseUrl: 'https://bpe.example.org/bpe', host: '127.0.0.1', port: 8002, serverCertificate: '', serverCertificateKey: '', trustedClientCas: [], clientCertificateHeader: 'X-ClientCert', trustedProxyAddresses: [], timeouts: { headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 15000 } });
  const siteWebEnv = { ...webEnv, DEV_DSF_SERVER_API_PORT: '8001', DSF_BPE_SERVER_API_PORT: '8003', DSF_BPE_SERVER_API_HOST: '0.0.0.0' };
  const siteWeb = new ConfigReader(siteWebEnv, BPE_VARIABLES);
  assert.equal(readBpeConfig(siteWebEnv, siteWeb).web?.port, 8003);
  assertTableMatchesReader(BPE_VARIABLES, [r, oidc, web, siteWeb]);
  assert.equal(cfg.web, undefined);
  assert.throws(() => readBpeConfig(bpeEnv({ DEV_DSF_BPE_SERVER_BASE_URL: 'http://bpe.example.org/bpe' })), /DEV_DSF_BPE_SERVER_BASE_URL must be an https:\/\/ URL[\s\S]*DEV_DSF_SERVER_CERTIFICATE \(PEM file or content\) is required when DEV_DSF_BPE_SERVER_BASE_URL is set/);
  assert.equal(readBpeConfig(bpeEnv({ DEV_DSF_SERVER_STATUS_PORT: '10000' })).statusPort, 10000);
  assert.equal(readBpeConfig(bpeEnv({ DEV_DSF_SERVER_STATUS_PORT: '10000', DSF_BPE_SERVER_STATUS_PORT: '10001' })).statusPort, 10001);
});

test('a name missing from the table cannot be read (an undocumented variable is a bug)', () => {
  const r = new ConfigReader({}, FHIR_VARIABLES);
  assert.throws(() => r.string('DEV_DSF_FHIR_NOT_A_VARIABLE'), /not in the table of FHIR server/);
});

test('docs/configuration.md is generated from the tables and up to date (npm run docs:config)', () => {
  const file = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(file, configurationDoc(), 'docs/configuration.md is stale: run npm run docs:config');
  for (const v of [...FHIR_VARIABLES.variables, ...BPE_VARIABLES.variables]) assert.ok(file.includes(`\`${v.name}\``), v.name);
});

test('FHIR server: every problem at once, with name, value and reason; secret values are not shown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-config-'));
  try {
    readFhirServerConfig({
      DEV_DSF_FHIR_SERVER_BASE_URL: 'http://dsf.example.org/fhir',
      DEV_DSF_SERVER_API_PORT: '80000',
      DEV_DSF_FHIR_SERVER_PAGE_COUNT: 'many',
      DEV_DSF_FHIR_CLIENT_TIMEOUT_READ: '10 seconds',
      DEV_DSF_SERVER_CERTIFICATE_FILE: join(dir, 'missing.pem'),
      DSF_LOG_LEVEL: 'loud',
      DEV_DSF_SERVER_STATUS_PORT: '-1',
    });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    const text = e.problems.join('\n');
    assert.match(text, /DEV_DSF_FHIR_SERVER_BASE_URL must be an https:\/\/ URL, got 'http:\/\/dsf\.example\.org\/fhir'/);
    assert.match(text, /DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE is required/);
    assert.match(text, /DEV_DSF_SERVER_API_PORT must be an integer between 0 and 65535, got '80000'/);
    assert.match(text, /DEV_DSF_FHIR_SERVER_PAGE_COUNT must be an integer between 1 and 1000, got 'many'/);
    assert.match(text, /DEV_DSF_FHIR_CLIENT_TIMEOUT_READ must be an ISO-8601 duration like PT10S, got '10 seconds'/);
    assert.match(text, /DEV_DSF_SERVER_CERTIFICATE_FILE: cannot read .*missing\.pem/);
    assert.match(text, /DSF_LOG_LEVEL must be one of .*, got 'loud'/);
    assert.match(text, /DEV_DSF_SERVER_STATUS_PORT must be an integer between 0 and 65535, got '-1'/);
    assert.match(text, /DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS is required/);
    assert.match(text, /DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY .*is required/);
    assert.ok(e.problems.length >= 10, text);
  }
});

test('BPE: a secret with a bad value is named without its value; *_FILE of a secret works', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-config-'));
  writeFileSync(join(dir, 'proxy-password'), 'hunter2\n');
  const cfg = readBpeConfig(bpeEnv({ DEV_DSF_PROXY_URL: 'http://proxy.example.org:3128', DEV_DSF_PROXY_PASSWORD_FILE: join(dir, 'proxy-password') }));
  assert.equal(cfg.proxy?.password, 'hunter2');
  const r = new ConfigReader({ DEV_DSF_BPE_MAIL_PASSWORD: 'hunter2' }, BPE_VARIABLES);
  r.int('DEV_DSF_BPE_MAIL_PASSWORD', 0);
  assert.equal(r.problems.length, 1);
  assert.ok(!r.problems[0]!.includes('hunter2'), r.problems[0]);
  assert.match(r.problems[0]!, /DEV_DSF_BPE_MAIL_PASSWORD .*\(secret, not shown\)/);
});

test('browser sign-in: a session key shorter than 32 characters is refused without showing it, in both servers', () => {
  const oidc = {
    DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID: 'dsf',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET: 'secret',
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL: 'https://idp.example.org/realms/x',
  };
  for (const read of [() => readFhirServerConfig(fhirEnv({ ...oidc, DSF_SERVER_AUTH_OIDC_SESSION_KEY: 'short-hunter2' })), () => readBpeConfig(bpeEnv({ ...oidc, DSF_SERVER_AUTH_OIDC_SESSION_KEY: 'short-hunter2' }))]) {
    assert.throws(read, (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const text = e.problems.join('\n');
      assert.match(text, /DSF_SERVER_AUTH_OIDC_SESSION_KEY: at least 32 characters/);
      assert.doesNotMatch(text, /hunter2/);
      return true;
    });
  }
  const key = 'k'.repeat(32);
  assert.equal(readBpeConfig(bpeEnv({ ...oidc, DSF_SERVER_AUTH_OIDC_SESSION_KEY: key })).oidcLogin?.sessionKey, key);
  assert.equal(readFhirServerConfig(fhirEnv({ ...oidc, DSF_SERVER_AUTH_OIDC_SESSION_KEY: key })).auth?.oidcLogin?.sessionKey, key);
});
