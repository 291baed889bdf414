import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/common/config-reader.ts';
import { DEFAULT_TASK_SUBSCRIPTION_SEARCH, readBpeConfig } from '../../../src/bpe/config.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('every configuration problem is listed at once', () => {
  try {
    readBpeConfig({
      DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'http://insecure.example/fhir',
      DEV_DSF_BPE_FHIR_CLIENT_TIMEOUT_CONNECT: 'x',
      DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ: 'ten seconds',
      DEV_DSF_BPE_PROCESS_EXCLUDED: 'dsfdev_ping|1.0 not-a-process',
      DEV_DSF_BPE_MAIL_HOST: 'smtp.example.org',
    });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = e.problems.join('\n');
    assert.match(text, /DEV_DSF_BPE_FHIR_SERVER_BASE_URL must be an https:\/\/ URL/);
    assert.match(text, /DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE \(PEM file or content\) is required/);
    assert.match(text, /DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY \(PEM file or content\) is required/);
    assert.match(text, /DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ must be an ISO-8601 duration/);
    assert.match(text, /DEV_DSF_BPE_PROCESS_EXCLUDED: 'not-a-process' is not processId\|version/);
    assert.match(text, /DEV_DSF_BPE_MAIL_FROMADDRESS is required/);
    assert.match(text, /DEV_DSF_BPE_MAIL_TOADDRESSES is required/);
    assert.equal(e.problems.length, 7);
  }
});

test('defaults, *_FILE variants, jdbc URLs with user and password, process lists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bpe-config-'));
  writeFileSync(join(dir, 'cert.pem'), PEM);
  writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n');
  writeFileSync(join(dir, 'db-password'), 's3cret\n');
  const cfg = readBpeConfig({
    DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://dsf.example.org/fhir/',
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: join(dir, 'cert.pem'),
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY_FILE: join(dir, 'key.pem'),
    DEV_DSF_BPE_DB_URL: 'jdbc:postgresql://db:5432/bpe',
    DEV_DSF_BPE_DB_USER_USERNAME: 'bpe_server_user',
    DEV_DSF_BPE_DB_USER_PASSWORD_FILE: join(dir, 'db-password'),
    DEV_DSF_BPE_PROCESS_RETIRED: 'dsfdev_ping|1.0, dsfdev_pong|1.0',
    DEV_DSF_BPE_FHIR_CLIENT_REMOTE_TIMEOUT_READ: 'PT2M',
  });
  assert.equal(cfg.fhirServerBaseUrl, 'https://dsf.example.org/fhir');
  assert.equal(cfg.clientCertificate, PEM);
  assert.match(cfg.clientCertificateKey, /PRIVATE KEY/);
  assert.equal(cfg.dbUrl, 'postgresql://bpe_server_user:s3cret@db:5432/bpe');
  assert.deepEqual(cfg.retired, [
    { processId: 'dsfdev_ping', version: '1.0' },
    { processId: 'dsfdev_pong', version: '1.0' },
  ]);
  assert.deepEqual(cfg.excluded, []);
  assert.equal(cfg.taskSubscriptionSearch, DEFAULT_TASK_SUBSCRIPTION_SEARCH);
  assert.equal(cfg.subscriptionRetryMax, -1);
  assert.equal(cfg.subscriptionRetrySleepMs, 5_000);
  assert.equal(cfg.localConnectTimeoutMs, 2_000);
  assert.equal(cfg.remoteReadTimeoutMs, 120_000);
  assert.equal(cfg.pluginDirectory, 'process');
  assert.equal(cfg.mail.host, undefined);
  assert.equal(cfg.dbPoolMax, 10);
  assert.equal(cfg.dbPoolWaitTimeoutMs, 30_000);
});

test('database pool size and wait: DSF_BPE_DB_POOL_MAX, DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS; a pool of one refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bpe-config-'));
  writeFileSync(join(dir, 'cert.pem'), PEM);
  writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n');
  const base = { DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://dsf.example.org/fhir', DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: join(dir, 'cert.pem'), DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: join(dir, 'key.pem') };
  const cfg = readBpeConfig({ ...base, DSF_BPE_DB_POOL_MAX: '4', DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS: '5000' });
  assert.equal(cfg.dbPoolMax, 4);
  assert.equal(cfg.dbPoolWaitTimeoutMs, 5000);
  assert.throws(
    () => readBpeConfig({ ...base, DSF_BPE_DB_POOL_MAX: '1', DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS: '0' }),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /DSF_BPE_DB_POOL_MAX/.test(p)) && e.problems.some((p) => /DSF_BPE_DB_POOL_WAIT_TIMEOUT_MS/.test(p)),
  );
});
