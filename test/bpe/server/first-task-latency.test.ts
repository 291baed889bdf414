// How soon a Task starts its process on a test-kit network (FHIR servers and BPEs as child processes,
// mTLS, real PostgreSQL): the first ping of a fresh network completes within seconds of its Task being
// created (network start not counted: node:test charges a top-level before hook to the first test's
// reported duration, which once looked like a slow first request); and a Task created while the BPE's
// websocket is down, because its FHIR server restarted, starts as soon as the BPE reconnects, even with
// a long start-up retry sleep; and a websocket that died without a close (a NAT that forgot the
// connection) is noticed by its keep-alive pings, so a Task created meanwhile still runs.
// The bounds are generous waits on a loaded machine, not benchmarks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource, Task } from '@medplum/fhirtypes';
import { createBpeCore } from '../../../src/bpe/bpe-core.ts';
import { BpeDsfClientProvider } from '../../../src/bpe/client/dsf-client-provider.ts';
import { HandledResources } from '../../../src/bpe/connector/handled-resources.ts';
import { LastEventStore } from '../../../src/bpe/connector/last-event-store.ts';
import { ResourceConnector } from '../../../src/bpe/connector/resource-connector.ts';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../../src/testkit/index.ts';
import { createTestDatabase } from '../../support/database.ts';
import { startTestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, clientSettings, recordingLogger, requestedTask } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';

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

/** A TCP relay to a local port whose open connections can be frozen: nothing passes and nothing is closed. */
class FreezingRelay {
  private readonly pairs: [Socket, Socket][] = [];
  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<FreezingRelay> {
    const server = createServer();
    const relay = new FreezingRelay(server);
    server.on('connection', (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) s.on('error', () => {});
      client.pipe(upstream);
      upstream.pipe(client);
      relay.pairs.push([client, upstream]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Every connection open now stops carrying data, ends included; new connections work. */
  freezeOpenConnections(): void {
    for (const [client, upstream] of this.pairs.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      client.removeAllListeners('end');
      upstream.removeAllListeners('end');
      this.frozen.push(client, upstream);
    }
  }
  private readonly frozen: Socket[] = [];

  async close(): Promise<void> {
    for (const s of [...this.frozen, ...this.pairs.flat()]) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

test('a websocket that died without a close is dropped by its keep-alive; a Task created meanwhile is caught up', async (t) => {
  const site = await startTestSite();
  const db = await createTestDatabase('dsf_bpe_keepalive');
  const relay = await FreezingRelay.start(Number(new URL(site.baseUrl).port));
  const { logger } = recordingLogger();
  const core = await createBpeCore(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: dirname(FIXTURE_PLUGIN) }), db.pool, logger);
  await core.deployPlugins(); // the FHIR server takes Tasks of deployed processes only
  // The connector reaches the FHIR server through the relay; a request on a frozen pooled socket gives up after 2 s.
  const clients = new BpeDsfClientProvider({ ...clientSettings(site.certs, 'Test_Organization', `https://localhost:${relay.port}/fhir`), localReadTimeoutMs: 2_000 });
  const handled = new HandledResources(db.pool);
  const seen: string[] = [];
  const connector = new ResourceConnector({
    client: clients.getLocal(),
    tls: { ...clientSettings(site.certs, 'Test_Organization', site.baseUrl), localReadTimeoutMs: 2_000 },
    subscriptionSearch: core.config.taskSubscriptionSearch,
    retryMax: 5,
    retrySleepMs: 60_000,
    overlapMs: 5_000,
    lastEvents: new LastEventStore(db.pool),
    handler: {
      type: 'Task',
      async handle(resource: Resource) {
        if (await handled.claim('Task', resource.id!, resource.meta?.versionId)) {
          seen.push(resource.id!);
          await handled.finish('Task', resource.id!, 'seen');
        }
      },
      async resumeUnfinished() {},
    },
    logger: recordingLogger().logger,
    keepAliveMs: 300,
  });
  const ORG = 'test-organization.test';
  const createTask = async (key: string) => (await site.client.create(requestedTask({ process: 'hello', message: 'hello', requester: ORG, recipient: ORG, businessKey: key }))).id as string;
  try {
    connector.start();
    await connector.whenConnected();
    const live = await createTask('live');
    await waitFor('the live Task', () => seen.includes(live), 10_000);

    relay.freezeOpenConnections();
    const duringOutage = await createTask('frozen'); // its event goes into the dead connection
    const t0 = performance.now();
    await waitFor('reconnected', () => connector.connections === 2, 30_000);
    await waitFor('the Task of the outage', () => seen.includes(duringOutage), 10_000);
    const ms = performance.now() - t0;
    t.diagnostic(`Task created on a silently dead websocket handled ${ms.toFixed(0)} ms later`);
    assert.ok(ms < 20_000, `took ${ms.toFixed(0)} ms`);
    assert.equal(new Set(seen).size, seen.length, 'each Task once');
  } finally {
    await connector.stop();
    clients.close();
    core.close();
    await relay.close();
    await db.drop();
    await site.stop();
  }
});
