// How soon a Task starts its process on a test-kit network (FHIR servers and BPEs as child processes,
// mTLS, real PostgreSQL): the first ping of a fresh network completes within seconds of its Task being
// created (network start not counted: node:test charges a top-level before hook to the first test's
// reported duration, which once looked like a slow first request); and a Task created while the BPE's
// websocket is down, because its FHIR server restarted, starts as soon as the BPE reconnects, even with
// a long start-up retry sleep. The bounds are generous waits on a loaded machine, not benchmarks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../../src/plugin-api/testing/index.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../../plugins/ping-pong');
const START_PING = draftTaskIdentifier('http://dsf.dev/bpe/Process/ping', '1.0', 'task-start-ping');
const PING_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/ping';
/** Well below the 13-27 s once reported for a network's first request, well above the ~1 s it takes. */
const BOUND_MS = 10_000;

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({
    sites: [
      // A start-up retry sleep far above the bound: reconnects must not wait for it.
      { organization: 'Test_DIC_1', env: { DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_SLEEP: 'PT60S' } },
      'Test_DIC_2',
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  await network?.stop();
});

const pingStatuses = (task: Task) =>
  (task.output ?? []).filter((o) => o.type?.coding?.some((c) => c.system === PING_SYSTEM && c.code === 'ping-status')).map((o) => o.valueCoding?.code);

/** Starts a ping from DIC 1 to DIC 2 and returns the finished start Task and the milliseconds since it was created. */
async function ping(): Promise<{ done: Task; ms: number }> {
  const dic1 = network.site('Test_DIC_1');
  const target = { type: { coding: [{ system: PING_SYSTEM, code: 'target-endpoints' }] }, valueString: `Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|${network.site('Test_DIC_2').endpointIdentifier}` };
  const started = await dic1.startProcess(START_PING, { inputs: [target] });
  const t0 = performance.now();
  const done = await dic1.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 60_000 });
  return { done, ms: performance.now() - t0 };
}

test("a fresh network's first ping completes within the bound", async (t) => {
  const { done, ms } = await ping();
  t.diagnostic(`first ping: ${ms.toFixed(0)} ms`);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(pingStatuses(done), ['pong-received']);
  assert.ok(ms < BOUND_MS, `first ping took ${ms.toFixed(0)} ms`);
});

test('a Task created right after the FHIR server restarted starts within the bound', async (t) => {
  const fhir = network.site('Test_DIC_1').fhirServer;
  await fhir.kill();
  await fhir.start();
  const { done, ms } = await ping();
  t.diagnostic(`ping after the restart: ${ms.toFixed(0)} ms`);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.ok(ms < BOUND_MS, `ping after the restart took ${ms.toFixed(0)} ms`);
});

test('a Task created while the BPE has not reconnected yet is caught up after the reconnect', async (t) => {
  const site = network.site('Test_DIC_1');
  const pid = site.bpe.pid!;
  // Frozen, the BPE cannot reconnect: the Task below is certainly created while its websocket is down.
  process.kill(pid, 'SIGSTOP');
  let resumed = false;
  try {
    await site.fhirServer.kill();
    await site.fhirServer.start();
    const logged = site.bpe.log.length;
    const started = await site.startProcess(START_PING);
    process.kill(pid, 'SIGCONT');
    resumed = true;
    const t0 = performance.now();
    const done = await site.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 60_000 });
    const ms = performance.now() - t0;
    t.diagnostic(`ping created while disconnected: ${ms.toFixed(0)} ms after the BPE resumed`);
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    assert.ok(ms < BOUND_MS, `the Task ran ${ms.toFixed(0)} ms after the BPE resumed`);
    const since = site.bpe.log.slice(logged).join('\n');
    assert.match(since, /Task websocket closed/);
    assert.match(since, /Task catch-up: \d+ resource\(s\)/, 'the Task came by the catch-up after the reconnect');
  } finally {
    if (!resumed) process.kill(pid, 'SIGCONT');
  }
});
