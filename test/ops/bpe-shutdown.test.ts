// BPE shutdown order: `dsf site` gets SIGTERM while Tasks keep arriving over the websocket and a
// Task's service task is running (it takes TEST_PLUGIN_SLOW_MS). The BPE stops taking new Tasks,
// lets the running one finish, and only then closes its database pool: no "Cannot use a pool after
// calling end on the pool", no ERROR line, exit code 0 within the shutdown timeout. After a restart
// every accepted Task runs to its end exactly once (one process instance, one output).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { siteEnv } from '../support/site-env.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FhirTestClient, testCertificates } from '../support/fhir-site.ts';
import { waitFor } from '../../src/common/polling.ts';
import { requestedTask } from '../bpe/server/bpe-support.ts';
import { FIXTURE_PLUGIN } from '../bpe/server/plugin-fixture.ts';
import { runSite } from '../support/site-process.ts';

const SLOW_MS = 500;
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Tasks created at once before the SIGTERM: the BPE's queue holds them for BURST * SLOW_MS. */
const BURST = 30;
/** Tasks created at most (the creator also stops when the server refuses connections). */
const MAX_CREATES = 50;
const ORG = 'test-organization.test';

let fhirDb: TestDatabase;
let bpeDb: TestDatabase;
before(async () => {
  fhirDb = await createTestDatabase('dsf_bpestop_fhir');
  bpeDb = await createTestDatabase('dsf_bpestop_bpe');
});
after(async () => {
  await fhirDb?.drop();
  await bpeDb?.drop();
});

/** Lines of the log that must not be there after a clean shutdown. */
function badLines(output: string): string[] {
  return output.split('\n').filter((l) => / ERROR /.test(l) || /Cannot use a pool/.test(l) || /Unhandled|uncaught/i.test(l));
}

test('SIGTERM while a Task runs and more arrive: the pool closes last, no error, the work completes once after a restart', { timeout: 300_000 }, async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const port = await freePort();
  const env = {
    ...siteEnv({ certs, org, port, fhirDatabaseUrl: fhirDb.url, bpeDatabaseUrl: bpeDb.url, pluginDirectory: dirname(FIXTURE_PLUGIN) }),
    TEST_PLUGIN_GREETING: 'Hello',
    TEST_PLUGIN_SLOW_MS: String(SLOW_MS),
    DSF_BPE_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  };
  const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certs.ca.certPath, 'utf8') });
  const client = new FhirTestClient(http, `https://localhost:${port}/fhir`);
  const accepted: string[] = [];
  let shutdownMs = 0;
  const completed = async () => (await client.get('/Task?_count=1&_summary=count&status=completed')).json.total as number;

  const first = runSite(env);
  try {
    await waitFor('BPE connected', () => first.output().includes('BPE connected to its FHIR server'), 180_000);
    // Tasks arrive faster than the BPE runs them (one per SLOW_MS): most wait in its queue at SIGTERM,
    // and more arrive over the websocket while it stops.
    let refused = false;
    const create = async (i: number) => {
      const r = await client.post('/Task', requestedTask({ process: 'errors', message: 'fail', requester: ORG, recipient: ORG, businessKey: `bk-stop-${i}`, inputs: { mode: 'slow' } }));
      assert.equal(r.status, 201);
      accepted.push(r.json.id);
    };
    for (let i = 0; i < BURST; i++) await create(i);
    const creator = (async () => {
      for (let i = BURST; i < MAX_CREATES && !refused; i++) {
        try {
          await create(i);
        } catch (e) {
          if ((e as { code?: string }).code === 'ECONNREFUSED') refused = true;
          else throw e;
        }
        await new Promise((resolve) => setTimeout(resolve, SLOW_MS / 4));
      }
    })();
    await waitFor('two Tasks completed', async () => (await completed()) >= 2, 60_000);
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const tookMs = Date.now() - signalledAt;
    shutdownMs = tookMs;
    await creator;
    assert.equal(code, 0, first.output().slice(-3000));
    // The BPE finishes the one Task it runs and leaves the queued ones (far more than this to run) for
    // the restart; the FHIR server's drain comes on top.
    assert.ok(tookMs < 8_000, `shutdown took ${tookMs} ms`);
    assert.deepEqual(badLines(first.output()), [], first.output().slice(-3000));
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  }
  assert.ok(accepted.length >= BURST, `only ${accepted.length} Tasks accepted`);
  console.log(`bpe shutdown: SIGTERM to exit ${shutdownMs} ms with ${BURST}+ Tasks of ${SLOW_MS} ms queued`);

  const second = runSite(env);
  try {
    await waitFor(
      `all ${accepted.length} accepted Tasks completed`,
      async () => (await client.get('/Task?_count=1&_summary=count&status=requested,in-progress')).json.total === 0,
      120_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${second.output().slice(-3000)}`));
    for (const id of accepted) {
      const task = (await client.get(`/Task/${id}`)).json;
      assert.equal(task.status, 'completed', `Task/${id}`);
      const outputs = (task.output ?? []).filter((o: { type?: { coding?: Array<{ code?: string }> } }) => o.type?.coding?.[0]?.code === 'caught');
      assert.deepEqual(outputs.map((o: { valueString?: string }) => o.valueString), ['slept'], `Task/${id}: one output`);
    }
    // Exactly once: one process instance for each business key, none left active. The Task is set to
    // completed at the end event, before the engine commits the instance's end: wait for the commit.
    const db = new pg.Client({ connectionString: bpeDb.url });
    await db.connect();
    try {
      const instances = async () => (await db.query("SELECT business_key, count(*)::int AS n, count(*) FILTER (WHERE state = 'active')::int AS active FROM bpmn_process_instance WHERE business_key LIKE 'bk-stop-%' GROUP BY business_key")).rows as Array<{ business_key: string; n: number; active: number }>;
      await waitFor('every instance ended', async () => (await instances()).filter((r) => r.active === 0).length >= accepted.length, 30_000).catch(() => undefined);
      const rows = await instances();
      assert.equal(rows.length, accepted.length);
      assert.deepEqual(rows.filter((r) => r.n !== 1 || r.active !== 0), []);
    } finally {
      await db.end();
    }
    console.log(`bpe shutdown: ${accepted.length} Tasks accepted, all completed once`);
  } finally {
    http.close();
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-2000));
    assert.deepEqual(badLines(second.output()), [], second.output().slice(-3000));
  }
});

test('SIGTERM while a Task runs longer than the shutdown timeout: abandoned (rolled back, no error), run once after the restart', { timeout: 300_000 }, async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const port = await freePort();
  const fhir = await createTestDatabase('dsf_bpestop_fhir2');
  const bpe = await createTestDatabase('dsf_bpestop_bpe2');
  const base = {
    ...siteEnv({ certs, org, port, fhirDatabaseUrl: fhir.url, bpeDatabaseUrl: bpe.url, pluginDirectory: dirname(FIXTURE_PLUGIN) }),
    TEST_PLUGIN_GREETING: 'Hello',
    DSF_BPE_SHUTDOWN_TIMEOUT_MS: '1000',
  };
  const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certs.ca.certPath, 'utf8') });
  const client = new FhirTestClient(http, `https://localhost:${port}/fhir`);
  try {
    // First run: the service task takes a minute, far beyond the timeout.
    const first = runSite({ ...base, TEST_PLUGIN_SLOW_MS: '60000' });
    let id: string;
    try {
      await waitFor('BPE connected', () => first.output().includes('BPE connected to its FHIR server'), 180_000);
      id = (await client.post('/Task', requestedTask({ process: 'errors', message: 'fail', requester: ORG, recipient: ORG, businessKey: 'bk-abandoned', inputs: { mode: 'slow' } }))).json.id;
      await waitFor('Task in progress', async () => (await client.get(`/Task/${id}`)).json.status === 'in-progress', 60_000);
      const signalledAt = Date.now();
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, first.output().slice(-3000));
      const tookMs = Date.now() - signalledAt;
      assert.ok(tookMs < 15_000, `shutdown took ${tookMs} ms`);
      assert.deepEqual(badLines(first.output()), [], first.output().slice(-3000));
      assert.match(first.output(), /DSF_BPE_SHUTDOWN_TIMEOUT_MS/);
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }
    // Restarted with a quick service task: the abandoned Task is resumed and completes once.
    const second = runSite({ ...base, TEST_PLUGIN_SLOW_MS: '0' });
    try {
      await waitFor('Task completed', async () => (await client.get(`/Task/${id}`)).json.status === 'completed', 120_000).catch((e: Error) => assert.fail(`${e.message}\n${second.output().slice(-3000)}`));
      const db = new pg.Client({ connectionString: bpe.url });
      await db.connect();
      try {
        // Completed Task first, committed instance after (see above): wait for the instance's end.
        const instances = async () => (await db.query("SELECT state FROM bpmn_process_instance WHERE business_key = 'bk-abandoned'")).rows as Array<{ state: string }>;
        await waitFor('the instance ended', async () => (await instances()).some((r) => r.state !== 'active'), 30_000).catch(() => undefined);
        const rows = await instances();
        assert.equal(rows.length, 1, JSON.stringify(rows));
        assert.notEqual(rows[0]!.state, 'active');
      } finally {
        await db.end();
      }
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output().slice(-2000));
      assert.deepEqual(badLines(second.output()), [], second.output().slice(-3000));
    }
  } finally {
    http.close();
    await fhir.drop();
    await bpe.drop();
  }
});
