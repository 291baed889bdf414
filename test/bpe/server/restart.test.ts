// A BPE killed with SIGKILL comes back: an instance that waited continues with a Task created while
// the BPE was down, and a Task whose process start was cut off mid-transaction is resumed once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import type { BpeConfig } from '../../../src/bpe/config.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { bpeConfig, recordingLogger, requestedTask, TEST_SYSTEM } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

let site: TestSite;
let db: TestDatabase;
let config: BpeConfig;
let bpe: RunningBpe | undefined;
const ORG = 'test-organization.test';

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_restart');
  config = bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: dirname(FIXTURE_PLUGIN) });
});
after(async () => {
  await bpe?.stop();
  await db.drop();
  await site.stop();
});

function startChild(): { child: ChildProcess; message: (text: string) => Promise<void>; exited: Promise<NodeJS.Signals | null> } {
  const child = fork(fileURLToPath(new URL('./bpe-child.ts', import.meta.url)), [JSON.stringify({ config, dbUrl: db.url })], {
    execArgv: ['--import', TS_LOADER],
    env: { ...process.env, TEST_PLUGIN_HANG: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const received: string[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m) => {
    received.push(String(m));
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
  const message = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not say '${text}'`)), 60_000);
      const check = () => {
        if (received.includes(text)) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  return { child, message, exited };
}

async function taskStatus(id: string): Promise<string> {
  return (await site.client.get(`/Task/${id}`)).json.status;
}

test('after SIGKILL the BPE restarts, catches up and finishes the waiting instance; a start cut off is resumed once', async () => {
  const first = startChild();
  await first.message('connected');
  const startId = (await site.client.create(requestedTask({ process: 'wait', message: 'start', requester: ORG, recipient: ORG, businessKey: 'bk-crash' }))).id;
  await waitFor('instance waiting', async () => (await db.pool.query("SELECT 1 FROM bpmn_process_instance WHERE business_key = 'bk-crash' AND state = 'active'")).rowCount === 1, 20_000);
  const hangId = (await site.client.create(requestedTask({ process: 'errors', message: 'fail', requester: ORG, recipient: ORG, businessKey: 'bk-hang', inputs: { mode: 'hang' } }))).id;
  await first.message('hanging'); // inside the start transaction of bk-hang
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  assert.equal(await taskStatus(hangId), 'in-progress', 'the Task was set in-progress before the kill');
  assert.equal((await db.pool.query('SELECT state FROM bpe_handled_resource WHERE id = $1', [hangId])).rows[0].state, 'claimed');

  // While no BPE runs: the message the waiting instance needs.
  const continueId = (await site.client.create(requestedTask({ process: 'wait', message: 'continue', requester: ORG, recipient: ORG, businessKey: 'bk-crash' }))).id;

  bpe = await startBpeServer(config, { pool: db.pool, logger: recordingLogger().logger, jobPollIntervalMs: 50 });
  await bpe.connected();
  await waitFor('waiting instance finished', async () => (await taskStatus(startId)) === 'completed' && (await taskStatus(continueId)) === 'completed', 20_000);
  await waitFor('cut-off start resumed', async () => (await taskStatus(hangId)) === 'completed', 20_000);
  const hang = (await site.client.get(`/Task/${hangId}`)).json;
  assert.deepEqual(hang.output.map((o: any) => `${o.type.coding[0].system === TEST_SYSTEM ? 'test' : 'other'}:${o.valueString}`), ['test:recovered']);
  const instances = (await db.pool.query("SELECT business_key, state FROM bpmn_process_instance WHERE business_key IN ('bk-crash', 'bk-hang') ORDER BY business_key")).rows;
  assert.deepEqual(instances, [
    { business_key: 'bk-crash', state: 'completed' },
    { business_key: 'bk-hang', state: 'completed' },
  ], 'one instance each: nothing started twice');
});
