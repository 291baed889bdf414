// DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE and DSF_BPE_DB_POOL_MAX are sized together: each job worker
// holds a pooled connection while its job runs, and the rest of the BPE needs connections beside them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/common/config-reader.ts';
import { readBpeConfig } from '../../../src/bpe/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsf-bpe-workers-'));
writeFileSync(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n');
const base = { DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://dsf.example.org/fhir', DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: join(dir, 'cert.pem'), DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: join(dir, 'key.pem') };
const read = (env: Record<string, string>) => {
  const cfg = readBpeConfig({ ...base, ...env });
  return { workers: cfg.jobWorkers, pool: cfg.dbPoolMax };
};
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('defaults: four workers, a pool of ten', () => {
  assert.deepEqual(read({}), { workers: 4, pool: 10 });
});

test('more workers grow an unset pool; a set pool stays as set', () => {
  assert.deepEqual(read({ DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE: '12' }), { workers: 12, pool: 18 });
  assert.deepEqual(read({ DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE: '2' }), { workers: 2, pool: 10 });
  assert.deepEqual(read({ DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE: '12', DSF_BPE_DB_POOL_MAX: '14' }), { workers: 12, pool: 14 });
});

test('a small pool lowers the default workers (at least one); explicit workers that leave it fewer than two connections are refused', () => {
  assert.deepEqual(read({ DSF_BPE_DB_POOL_MAX: '4' }), { workers: 2, pool: 4 });
  assert.deepEqual(read({ DSF_BPE_DB_POOL_MAX: '2' }), { workers: 1, pool: 2 });
  assert.throws(
    () => read({ DSF_BPE_DB_POOL_MAX: '5', DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE: '4' }),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /COREPOOLSIZE \(4\) must leave at least 2 of the DSF_BPE_DB_POOL_MAX \(5\)/.test(p)),
  );
  assert.throws(() => read({ DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE: '0' }), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /COREPOOLSIZE must be an integer between 1/.test(p)));
});
