// Graceful shutdown under load: `dsf site` (FHIR server + BPE in one process) gets SIGTERM while
// many clients create Tasks and read. Every request that reached the server is answered (no
// connection reset, no 5xx; afterwards only "connection refused"), the process exits with 0, and
// after a restart every Task that was accepted (201) is run to its end: nothing is lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { siteEnv } from '../support/site-env.ts';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HttpsClient } from '../../src/common/https-client.ts';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FhirTestClient, testCertificates } from '../support/fhir-site.ts';
import { waitFor } from '../../src/common/polling.ts';
import { requestedTask } from '../bpe/server/bpe-support.ts';
import { FIXTURE_PLUGIN } from '../bpe/server/plugin-fixture.ts';
import { runSite } from '../support/site-process.ts';

const WORKERS = 24;
/** Creates stop here (then only searches), so the catch-up after the restart stays bounded. */
const MAX_CREATES = 200;
let fhirDb: TestDatabase;
let bpeDb: TestDatabase;
before(async () => {
  fhirDb = await createTestDatabase('dsf_shutdown_fhir');
  bpeDb = await createTestDatabase('dsf_shutdown_bpe');
});
after(async () => {
  await fhirDb?.drop();
  await bpeDb?.drop();
});

test('SIGTERM under load: requests in flight are answered, none reset; accepted Tasks run after the restart', { timeout: 600_000 }, async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const port = await freePort();
  const baseUrl = `https://localhost:${port}/fhir`;
  const env = {
    ...siteEnv({ certs, org, port, fhirDatabaseUrl: fhirDb.url, bpeDatabaseUrl: bpeDb.url, pluginDirectory: dirname(FIXTURE_PLUGIN) }),
    TEST_PLUGIN_GREETING: 'Hello',
    DSF_LOG_LEVEL: 'warn',
  };
  const first = runSite(env);
  const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certs.ca.certPath, 'utf8') });
  const client = new FhirTestClient(http, baseUrl);
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  let afterSignal = 0;
  let creates = 0;
  let signalled = false;
  try {
    await waitFor('BPE connected', () => first.output().includes('BPE connected to its FHIR server'), 180_000);
    const task = () => requestedTask({ process: 'hello', message: 'hello', requester: 'test-organization.test', recipient: 'test-organization.test' });
    // Each worker alternates a Task create and a search until the server refuses connections.
    const worker = async (w: number) => {
      for (let i = 0; i < 10_000; i++) {
        try {
          const create = i % 2 === w % 2 && creates < MAX_CREATES;
          if (create) creates++;
          const r = create ? await client.post('/Task', task()) : await client.get('/Task?_count=5&status=completed');
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 201) accepted.push(r.json.id);
          if (signalled) afterSignal++;
        } catch (e) {
          const code = (e as { code?: string }).code ?? (e as Error).message;
          errors.set(code, (errors.get(code) ?? 0) + 1);
          if (code === 'ECONNREFUSED') return;
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    await waitFor('load running', () => accepted.length >= 40, 60_000);
    signalled = true;
    first.child.kill('SIGTERM');
    await load;
    assert.equal(await first.exited, 0, first.output().slice(-3000));
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  }
  const summary = `statuses ${JSON.stringify([...statuses])}, errors ${JSON.stringify([...errors])}, answered after SIGTERM ${afterSignal}`;
  assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 201), [], summary);
  assert.deepEqual([...errors.keys()], ['ECONNREFUSED'], summary);
  assert.ok(accepted.length >= 40, summary);

  // Restarted: every accepted Task runs (the BPE catches up with what it did not handle before).
  const second = runSite(env);
  try {
    // Connected means caught up: wait for the Tasks themselves.
    await waitFor(
      `all ${accepted.length} accepted Tasks completed`,
      async () => {
        const open = (await client.get('/Task?_count=1&_summary=count&status=requested,in-progress')).json.total;
        return open === 0;
      },
      300_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${second.output().slice(-3000)}`));
    for (const id of accepted) assert.equal((await client.get(`/Task/${id}`)).json.status, 'completed', `Task/${id}`);
    console.log(`graceful shutdown: ${accepted.length} Tasks accepted, ${summary}`);
  } finally {
    http.close();
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-2000));
  }
});
