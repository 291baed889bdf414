// Upgrading and removing a plugin across BPE restarts, with two versions of the test plugin (1.0 and
// 1.1, whose activities tell their version apart). Upgrade: with 1.1 deployed beside 1.0, an instance of
// 1.0 that waited across the restart continues with 1.0's code to its end, and new Tasks for 1.1 run
// 1.1. Removal: without 1.0, its waiting instances are ended and their Tasks failed with an error
// output; instances of 1.1 go on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { removalMessage } from '../../../src/bpe/plugins/removed-processes.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger, requestedTask, BPMN_MESSAGE, TEST_SYSTEM } from './bpe-support.ts';
import { copyTestPlugin, type PluginCopy } from './plugin-fixture.ts';

const ORG = 'test-organization.test';
let site: TestSite;
let db: TestDatabase;
let v10: PluginCopy;
let bpe: RunningBpe | undefined;
let lines: string[] = [];

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_upgrade');
  v10 = copyTestPlugin('test-plugin-1.0');
});
after(async () => {
  await bpe?.stop();
  await db.drop();
  await site.stop();
});

async function restartBpe(): Promise<RunningBpe> {
  await bpe?.stop();
  const recording = recordingLogger();
  lines = recording.lines;
  bpe = await startBpeServer(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: v10.directory }), { pool: db.pool, logger: recording.logger, jobPollIntervalMs: 50 });
  await bpe.connected();
  return bpe;
}

async function create(task: object): Promise<string> {
  return (await site.client.create(task as never)).id;
}
const readTask = async (id: string) => (await site.client.get(`/Task/${id}`)).json;
async function settled(id: string): Promise<any> {
  return waitFor(`Task ${id} ended`, async () => {
    const t = await readTask(id);
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, 20_000);
}
const outputOf = (task: any, system: string, code: string): string[] =>
  (task.output ?? []).filter((o: any) => o.type.coding.some((c: any) => c.system === system && c.code === code)).map((o: any) => o.valueString);

async function startWaiting(version: string, businessKey: string): Promise<string> {
  const id = await create(requestedTask({ process: 'wait', message: 'start', requester: ORG, recipient: ORG, businessKey, version }));
  await waitFor(`${businessKey} waiting`, async () => (await bpe!.core.engine.listInstances({ businessKey, state: 'active' })).length === 1, 20_000);
  assert.equal((await readTask(id)).status, 'in-progress');
  return id;
}
const sendContinue = (version: string, businessKey: string) => create(requestedTask({ process: 'wait', message: 'continue', requester: ORG, recipient: ORG, businessKey, version }));

test('upgrade: 1.1 beside 1.0; a 1.0 instance waiting across the restart ends with 1.0, new Tasks for 1.1 run 1.1', async () => {
  await restartBpe();
  const oldStart = await startWaiting('1.0', 'bk-upgrade-old');

  const v11 = copyTestPlugin('test-plugin-1.1', v10.directory);
  v11.edit('index.ts', (t) => t.replace("version: '1.0.0.0'", "version: '1.1.0.0'"));
  v11.edit('activities.ts', (t) => t.replace("addOutput(api, variables, 'record', record.join(' '))", "addOutput(api, variables, 'record', `v1.1 ${record.join(' ')}`)"));
  const upgraded = await restartBpe();
  assert.deepEqual(upgraded.deployment.ended, []);
  assert.deepEqual(
    upgraded.deployment.states.filter((s) => s.processId === 'testorg_wait').map((s) => `${s.version}:${s.newState}`),
    ['1.0:ACTIVE', '1.1:ACTIVE'],
  );

  await sendContinue('1.0', 'bk-upgrade-old');
  const old = await settled(oldStart);
  assert.equal(old.status, 'completed');
  assert.doesNotMatch(outputOf(old, TEST_SYSTEM, 'record')[0] ?? '', /^v1\.1/, '1.0 code ran');

  const newStart = await startWaiting('1.1', 'bk-upgrade-new');
  const instance = (await upgraded.core.engine.listInstances({ businessKey: 'bk-upgrade-new' }))[0]!;
  assert.equal((await upgraded.core.engine.listDefinitions('testorg_wait')).find((d) => d.id === instance.definitionId)?.versionTag, '1.1');
  await sendContinue('1.1', 'bk-upgrade-new');
  const fresh = await settled(newStart);
  assert.equal(fresh.status, 'completed');
  assert.match(outputOf(fresh, TEST_SYSTEM, 'record')[0] ?? '', /^v1\.1 /, '1.1 code ran');
});

test('removal: without 1.0 its waiting instances end and their Tasks fail with the reason; 1.1 instances go on', async () => {
  const stranded = await startWaiting('1.0', 'bk-removed');
  const survivor = await startWaiting('1.1', 'bk-kept');

  rmSync(v10.folder, { recursive: true });
  const without = await restartBpe();
  assert.deepEqual(
    without.deployment.states.filter((s) => s.processId === 'testorg_wait').map((s) => `${s.version}:${s.newState}`),
    ['1.0:EXCLUDED', '1.1:ACTIVE'],
  );
  assert.deepEqual(
    without.deployment.ended.map((e) => `${e.processId}|${e.version}:${e.failedTasks.join(',')}`),
    [`testorg_wait|1.0:${stranded}`],
  );
  const failed = await readTask(stranded);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(outputOf(failed, BPMN_MESSAGE, 'error'), [removalMessage('testorg_wait', '1.0')]);
  assert.equal((await without.core.engine.listInstances({ businessKey: 'bk-removed' }))[0]?.state, 'cancelled');
  assert.ok(lines.some((l) => l.startsWith('warn') && l.includes('testorg_wait|1.0 is no longer provided')), lines.join('\n'));

  assert.equal((await readTask(survivor)).status, 'in-progress');
  await sendContinue('1.1', 'bk-kept');
  assert.equal((await settled(survivor)).status, 'completed');

  // A second start finds nothing more to end.
  assert.deepEqual((await restartBpe()).deployment.ended, []);
});
