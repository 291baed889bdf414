// The connector to the FHIR server's Task subscription: catch-up of what happened while the BPE was
// away, live events, events during a catch-up, reconnect after a dropped websocket, restart; each
// Task reaches the handler's first-time path exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { createBpeCore, type BpeCore } from '../../../src/bpe/bpe-core.ts';
import { HandledResources } from '../../../src/bpe/connector/handled-resources.ts';
import { LastEventStore } from '../../../src/bpe/connector/last-event-store.ts';
import { ResourceConnector, type ResourceHandler } from '../../../src/bpe/connector/resource-connector.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger, requestedTask } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';
import { dirname } from 'node:path';

let site: TestSite;
let db: TestDatabase;
let core: BpeCore;
const ORG = 'test-organization.test';

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_connector');
  const { logger } = recordingLogger();
  core = await createBpeCore(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: dirname(FIXTURE_PLUGIN) }), db.pool, logger);
  const deployed = await core.deployPlugins();
  assert.deepEqual(deployed.refused, []);
});
after(async () => {
  core.close();
  await db.drop();
  await site.stop();
});

/** Claims each Task once, like the real handlers; counts first-time and repeated deliveries. */
class RecordingHandler implements ResourceHandler {
  readonly type = 'Task' as const;
  readonly firstTime: string[] = [];
  duplicates = 0;
  constructor(private readonly handled: HandledResources) {}
  async handle(resource: Resource): Promise<void> {
    if (await this.handled.claim('Task', resource.id!, resource.meta?.versionId)) {
      this.firstTime.push(resource.id!);
      await this.handled.finish('Task', resource.id!, 'recorded');
    } else this.duplicates++;
  }
  async resumeUnfinished(): Promise<void> {}
}

function connector(handler: ResourceHandler, pageSize = 20): ResourceConnector {
  const config = core.config;
  return new ResourceConnector({
    client: core.clients.getLocal(),
    tls: config,
    subscriptionSearch: config.taskSubscriptionSearch,
    retryMax: 5,
    retrySleepMs: 50,
    overlapMs: config.catchUpOverlapMs,
    lastEvents: new LastEventStore(db.pool),
    handler,
    logger: recordingLogger().logger,
    pageSize,
  });
}

async function createTasks(n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await site.client.create(requestedTask({ process: 'hello', message: 'hello', requester: ORG, recipient: ORG, businessKey: `${tag}-${i}` }))).id);
  return ids;
}

test('catch-up, events during the catch-up, live events, a dropped websocket and a restart: every Task once', async () => {
  const handler = new RecordingHandler(new HandledResources(db.pool));
  const before = await createTasks(25, 'before'); // more than a page of 10
  const c = connector(handler, 10);
  c.start();
  const during = await createTasks(10, 'during'); // while the catch-up pages
  await c.whenConnected();
  const live = await createTasks(5, 'live');
  await waitFor('every Task handled', () => handler.firstTime.length >= 40 && c.idle().then(() => true), 20_000);
  assert.deepEqual([...handler.firstTime].sort(), [...before, ...during, ...live].sort());
  assert.equal(c.connections, 1);

  c.dropConnection();
  const whileAway = await createTasks(3, 'away');
  await waitFor('reconnected', () => c.connections === 2, 20_000);
  const afterReconnect = await createTasks(2, 'after');
  await waitFor('Tasks of the gap handled', () => handler.firstTime.length >= 45, 20_000);
  await c.idle();
  await c.stop();

  const restarted = connector(handler, 10);
  const whileStopped = await createTasks(2, 'stopped');
  restarted.start();
  await restarted.whenConnected();
  await restarted.idle();
  await restarted.stop();
  const all = [...before, ...during, ...live, ...whileAway, ...afterReconnect, ...whileStopped];
  assert.deepEqual([...handler.firstTime].sort(), all.sort());
  assert.equal(new Set(handler.firstTime).size, handler.firstTime.length, 'no Task reached the first-time path twice');
});

test('stop: the Task being handled finishes, queued ones and events after the stop are left for the catch-up of the next start', async () => {
  let inFirst = false;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  class GatedHandler extends RecordingHandler {
    override async handle(resource: Resource): Promise<void> {
      if ((resource as { input?: Array<{ valueString?: string }> }).input?.some((i) => i.valueString === 'queued-0')) {
        inFirst = true;
        await gate; // the first Task is still being handled when the BPE stops
      }
      await super.handle(resource);
    }
  }
  const handled = new HandledResources(db.pool);
  const gated = new GatedHandler(handled);
  const c = connector(gated);
  c.start();
  await c.whenConnected();
  let stopped: Promise<void> | undefined;
  let queued: string[];
  let late: string[];
  try {
    const received = c.eventsReceived;
    queued = await createTasks(5, 'queued');
    await waitFor('the first Task under way', () => inFirst, 30_000);
    await waitFor('all five received', () => c.eventsReceived >= received + 5, 30_000);
    stopped = c.stop();
    late = await createTasks(3, 'late');
  } finally {
    release();
    await (stopped ?? c.stop());
  }
  assert.deepEqual(gated.firstTime, [queued[0]], 'only the Task under way when stopping was handled');

  // The next start catches up on the rest, each once.
  const next = new RecordingHandler(handled);
  const restarted = connector(next);
  restarted.start();
  await restarted.whenConnected();
  await restarted.idle();
  await restarted.stop();
  assert.deepEqual(next.firstTime.sort(), [...queued.slice(1), ...late].sort());
});
