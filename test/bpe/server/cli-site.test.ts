// `dsf site` as an operator runs it: FHIR server and BPE in one process from DEV_DSF_* variables;
// a Task created over HTTPS runs its process; SIGTERM stops it cleanly. Bad configuration: every
// problem of both servers listed, exit code 2 (configuration).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { siteEnv } from '../../support/site-env.ts';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { FhirTestClient, testCertificates } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { requestedTask, TEST_SYSTEM } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
let fhirDb: TestDatabase;
let bpeDb: TestDatabase;
before(async () => {
  fhirDb = await createTestDatabase('dsf_site_fhir');
  bpeDb = await createTestDatabase('dsf_site_bpe');
});
after(async () => {
  await fhirDb.drop();
  await bpeDb.drop();
});

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

test('dsf site runs a FHIR server and its BPE; a Task runs its process; SIGTERM stops both', async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const port = await freePort();
  const baseUrl = `https://localhost:${port}/fhir`;
  const site = run(['site'], {
    ...siteEnv({ certs, org, port, fhirDatabaseUrl: fhirDb.url, bpeDatabaseUrl: bpeDb.url, pluginDirectory: dirname(FIXTURE_PLUGIN) }),
    TEST_PLUGIN_GREETING: 'Hello from dsf site',
  });
  try {
    await waitFor('BPE connected', () => site.output().includes('BPE connected to its FHIR server'), 60_000);
    const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certs.ca.certPath, 'utf8') });
    const client = new FhirTestClient(http, baseUrl);
    try {
      const id = (await client.create(requestedTask({ process: 'hello', message: 'hello', requester: 'test-organization.test', recipient: 'test-organization.test' }))).id;
      const task = await waitFor('Task completed', async () => {
        const t = (await client.get(`/Task/${id}`)).json;
        return t.status === 'completed' ? t : undefined;
      }, 20_000);
      assert.equal(task.output.find((o: any) => o.type.coding[0].system === TEST_SYSTEM)?.valueString, 'Hello from dsf site');
    } finally {
      http.close();
    }
  } finally {
    site.child.kill('SIGTERM');
  }
  assert.equal(await site.exited, 0, site.output().slice(-2000));
});

test('dsf site with a bad configuration lists the problems of both servers and exits with 2', async () => {
  const bad = run(['site'], { DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ: 'soon', DEV_DSF_FHIR_DB_URL: fhirDb.url, DEV_DSF_BPE_DB_URL: bpeDb.url });
  assert.equal(await bad.exited, 2);
  const text = bad.output();
  assert.match(text, /DEV_DSF_FHIR_SERVER_BASE_URL is required/);
  assert.match(text, /DEV_DSF_BPE_FHIR_SERVER_BASE_URL is required/);
  assert.match(text, /DEV_DSF_BPE_FHIR_CLIENT_LOCAL_TIMEOUT_READ must be an ISO-8601 duration/);
});
