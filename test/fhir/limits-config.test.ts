// The limit and logging settings: DSF_FHIR_* / DSF_LOG_LEVEL names, defaults, and problems reported at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, readFhirServerConfig } from '../../src/fhir/config.ts';
import { ConfigError } from '../../src/common/config-reader.ts';

function baseEnv(): Record<string, string> {
  const caFile = join(mkdtempSync(join(tmpdir(), 'dsf-limits-config-')), 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
  return {
    DEV_DSF_FHIR_SERVER_BASE_URL: 'https://dsf.test/fhir',
    DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'dsf.test',
    DEV_DSF_SERVER_CERTIFICATE: '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----',
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----',
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: caFile,
  };
}

test('limits and log level have defaults and DSF_FHIR_* / DSF_LOG_LEVEL variables', () => {
  const base = baseEnv();
  const defaults = readFhirServerConfig(base);
  assert.deepEqual(defaults.limits, DEFAULT_LIMITS);
  assert.equal(defaults.logLevel, 'info');
  const set = readFhirServerConfig({
    ...base,
    DSF_FHIR_STATEMENT_TIMEOUT_MS: '5000',
    DSF_FHIR_MAX_SEARCH_PARAMETERS: '10',
    DSF_FHIR_MAX_SEARCH_VALUES: '200',
    DSF_FHIR_MAX_PAGE_BYTES: '1048576',
    DSF_FHIR_HEADERS_TIMEOUT_MS: '2000',
    DSF_FHIR_REQUEST_TIMEOUT_MS: '60000',
    DSF_FHIR_KEEP_ALIVE_TIMEOUT_MS: '3000',
    DSF_FHIR_PREPARED_STATEMENTS: '20',
    DSF_FHIR_DB_POOL_MAX: '7',
    DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS: '2500',
    DSF_FHIR_WRITE_GROUP_STATEMENTS: '2',
    DSF_LOG_LEVEL: 'DEBUG',
  });
  assert.deepEqual(set.limits, {
    statementTimeoutMs: 5000,
    maxSearchParameters: 10,
    maxSearchValues: 200,
    maxPageBytes: 1048576,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 60000,
    keepAliveTimeoutMs: 3000,
    preparedStatements: 20,
    databasePoolMax: 7,
    databasePoolWaitTimeoutMs: 2500,
    writeGroupStatements: 2,
  });
  assert.equal(set.logLevel, 'debug');
});

test('bad limit settings stop the start, every problem listed', () => {
  assert.throws(
    () =>
      readFhirServerConfig({
        ...baseEnv(),
        DSF_FHIR_MAX_SEARCH_PARAMETERS: '0',
        DSF_FHIR_DB_POOL_MAX: '0',
        DSF_FHIR_WRITE_GROUP_STATEMENTS: '17',
        DSF_FHIR_HEADERS_TIMEOUT_MS: '20000',
        DSF_FHIR_REQUEST_TIMEOUT_MS: '10000',
        DSF_LOG_LEVEL: 'loud',
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const text = e.problems.join('\n');
      assert.match(text, /DSF_FHIR_MAX_SEARCH_PARAMETERS/);
      assert.match(text, /DSF_FHIR_DB_POOL_MAX/);
      assert.match(text, /DSF_FHIR_WRITE_GROUP_STATEMENTS/);
      assert.match(text, /DSF_FHIR_REQUEST_TIMEOUT_MS must not be shorter than DSF_FHIR_HEADERS_TIMEOUT_MS/);
      assert.match(text, /DSF_LOG_LEVEL must be one of/);
      return true;
    },
  );
});
