import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ProcessEngine } from '../../../src/bpe/engine/engine.ts';
import { createPool } from '../../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { CRASH_PROCESS } from './crash-process.ts';
import { bpmn, fn, seq, twinProcess } from './harness.ts';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_engine_durable');
});
after(() => db.drop());

test('after a SIGKILL mid-step the instance continues from the last commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-crash-'));
  const marker = join(dir, 'marker.txt');
  try {
    const child = spawn(process.execPath, ['--import', TS_LOADER, fileURLToPath(new URL('./crash-child.ts', import.meta.url)), db.url, marker], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let instanceId = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not reach the second task')), 20_000);
      child.on('message', (m) => {
        const text = String(m);
        if (text.startsWith('started:')) instanceId = text.slice('started:'.length);
        if (text === 'in-second') {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    assert.equal(await exited, 'SIGKILL');
    assert.ok(instanceId);

    let secondRuns = 0;
    const engine = new ProcessEngine({
      pool: db.pool,
      delegates: new Map([
        ['crash.First', fn(() => assert.fail('first must not run again: it was committed'))],
        ['crash.Second', fn((e) => {
          secondRuns++;
          e.setVariable('second', 'done');
        })],
      ]),
    });
    await engine.deploy(CRASH_PROCESS); // same XML: reuses the deployed definition
    // The killed backend's locks go away once PostgreSQL notices; poll a bounded number of times.
    for (let i = 0; i < 100 && (await engine.getInstance(instanceId))?.state === 'active'; i++) {
      await engine.runDueJobs();
      await sleep(50);
    }
    const inst = await engine.getInstance(instanceId);
    assert.equal(inst?.state, 'completed');
    assert.equal(secondRuns, 1);
    assert.deepEqual(await engine.getVariables(instanceId), { first: 'done', second: 'done' });
    assert.deepEqual(readFileSync(marker, 'utf8').trim().split('\n'), ['first', 'second-started']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two engines on one database never run a job twice', async () => {
  const runs = new Map<string, number>();
  const delegates = new Map([
    ['twin.Work', fn(async (e) => {
      runs.set(e.getProcessInstanceId(), (runs.get(e.getProcessInstanceId()) ?? 0) + 1);
      await sleep(2);
    })],
  ]);
  const otherPool = createPool(db.url, 5);
  try {
    const a = new ProcessEngine({ pool: db.pool, delegates });
    const b = new ProcessEngine({ pool: otherPool, delegates });
    await a.migrate();
    await a.deploy(twinProcess());
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await a.startProcessByKey('twin')).id);
    let ranA = 0;
    let ranB = 0;
    for (let round = 0; round < 50; round++) {
      const [x, y] = await Promise.all([a.runDueJobs(), b.runDueJobs()]);
      ranA += x;
      ranB += y;
      const left = (await db.pool.query("SELECT count(*)::int AS n FROM bpmn_job WHERE type = 'async'")).rows[0].n;
      if (left === 0) break;
    }
    assert.equal(ranA + ranB, 80);
    for (const id of ids) {
      assert.equal(runs.get(id), 2, `instance ${id} ran its two tasks exactly once each`);
      assert.equal((await a.getInstance(id))?.state, 'completed');
    }
  } finally {
    await otherPool.end();
  }
});
