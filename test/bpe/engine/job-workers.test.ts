// The job executor runs up to `workers` jobs at once, each in its own transaction: a job that waits
// (here a delegate blocked until the test releases it) holds one worker, not the whole engine; two jobs
// of one process instance still never overlap; stop() waits for every running job; two engines with
// several workers each still run every job exactly once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessEngine, type ProcessEngineOptions } from '../../../src/bpe/engine/engine.ts';
import { createPool, endPool } from '../../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { bpmn, fn, seq, twinProcess } from './harness.ts';

const databases: TestDatabase[] = [];
const engines: ProcessEngine[] = [];
after(async () => {
  for (const e of engines) await e.stopJobExecutor();
  for (const d of databases) await d.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the condition holds; fails the test after 20 s. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Delegate runs that wait until released: counts those running now and the most at once. */
class Gate {
  running = 0;
  mostAtOnce = 0;
  readonly started: string[] = [];
  private open = false;
  private readonly waiting: Array<() => void> = [];

  async pass(label: string): Promise<void> {
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    this.started.push(label);
    try {
      if (!this.open) await new Promise<void>((resolve) => this.waiting.push(resolve));
    } finally {
      this.running--;
    }
  }

  release(): void {
    this.open = true;
    for (const w of this.waiting.splice(0)) w();
  }
}

async function engineOn(db: TestDatabase | null, options: Partial<ProcessEngineOptions>): Promise<{ db: TestDatabase; engine: ProcessEngine }> {
  const database = db ?? (await createTestDatabase('dsf_engine'));
  if (!db) databases.push(database);
  const engine = new ProcessEngine({ pool: database.pool, ...options });
  engines.push(engine);
  await engine.migrate();
  return { db: database, engine };
}

/** One async service task of the given delegate class between start and end. */
const oneAsyncTask = (id: string, cls: string) =>
  bpmn(id, `<bpmn:startEvent id="s" /><bpmn:serviceTask id="work" camunda:class="${cls}" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />${seq('a', 's', 'work')}${seq('b', 'work', 'e')}`);

const jobsOf = async (db: TestDatabase, instanceId: string) => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bpmn_job WHERE instance_id = $1', [instanceId])).rows[0]!.n;

test("a job that waits does not hold up another instance's job; it completes once released", async () => {
  const gate = new Gate();
  const fast: string[] = [];
  const { engine } = await engineOn(null, {
    delegates: new Map([
      ['test.Slow', fn((e) => gate.pass(e.getProcessInstanceId()))],
      ['test.Fast', fn((e) => void fast.push(e.getProcessInstanceId()))],
    ]),
    jobs: { pollIntervalMs: 50, workers: 2 },
  });
  await engine.deploy(oneAsyncTask('slow', 'test.Slow'));
  await engine.deploy(oneAsyncTask('fast', 'test.Fast'));
  const slow = await engine.startProcessByKey('slow');
  engine.startJobExecutor();
  await until('the slow job to start', () => gate.running === 1);
  const quick = await engine.startProcessByKey('fast');
  await until('the fast instance to complete', async () => (await engine.getInstance(quick.id))?.state === 'completed');
  assert.deepEqual(fast, [quick.id]);
  assert.equal((await engine.getInstance(slow.id))?.state, 'active', 'the slow job is still running');
  gate.release();
  await until('the slow instance to complete', async () => (await engine.getInstance(slow.id))?.state === 'completed');
  await engine.stopJobExecutor();
});

test('workers bounds the jobs running at once; stop() waits for all of them and takes no further job', async () => {
  const gate = new Gate();
  const { db, engine } = await engineOn(null, {
    delegates: new Map([['test.Wait', fn((e) => gate.pass(e.getProcessInstanceId()))]]),
    jobs: { pollIntervalMs: 20, workers: 3 },
  });
  await engine.deploy(oneAsyncTask('wait', 'test.Wait'));
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await engine.startProcessByKey('wait')).id);
  engine.startJobExecutor();
  await until('three jobs to run', () => gate.running === 3);
  // Many poll intervals and hints later, still three: the other two jobs wait for a free worker.
  for (let i = 0; i < 10; i++) {
    await engine.startProcessByKey('wait').then((s) => ids.push(s.id)); // each start hints the executor
    await sleep(20);
  }
  assert.equal(gate.running, 3);
  assert.equal(gate.mostAtOnce, 3);
  assert.equal(engine.runningJobs, 3);

  let stopped = false;
  const stopping = engine.stopJobExecutor().then(() => (stopped = true));
  await sleep(100);
  assert.equal(stopped, false, 'stop() waits for the running jobs');
  const running = [...gate.started];
  gate.release();
  await stopping;
  for (const id of ids) {
    const state = (await engine.getInstance(id))?.state;
    if (running.includes(id)) assert.equal(state, 'completed', 'a job running at stop() finished and committed');
    else {
      assert.equal(state, 'active', 'no job was taken after stop()');
      assert.equal(await jobsOf(db, id), 1);
    }
  }
  assert.equal(running.length, 3);
  assert.equal(gate.mostAtOnce, 3);
});

test('two jobs of one process instance never run at the same time; jobs of different instances do', async () => {
  let atOnce = 0;
  let mostAtOnce = 0;
  const perInstance = new Map<string, number>();
  let mostPerInstance = 0;
  const delegates = new Map([
    [
      'test.Branch',
      fn(async (e) => {
        const id = e.getProcessInstanceId();
        perInstance.set(id, (perInstance.get(id) ?? 0) + 1);
        mostPerInstance = Math.max(mostPerInstance, perInstance.get(id)!);
        atOnce++;
        mostAtOnce = Math.max(mostAtOnce, atOnce);
        try {
          // The first job waits (bounded) until a job of another instance runs beside it.
          for (let i = 0; i < 100 && mostAtOnce < 2; i++) await sleep(20);
          await sleep(15);
        } finally {
          atOnce--;
          perInstance.set(id, perInstance.get(id)! - 1);
        }
      }),
    ],
  ]);
  const { engine } = await engineOn(null, { delegates, jobs: { pollIntervalMs: 50, workers: 4 } });
  // A parallel fork into three async (exclusive, the default) service tasks and a join.
  const tasks = ['b1', 'b2', 'b3'];
  await engine.deploy(
    bpmn(
      'branches',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" /><bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${tasks.map((t) => `<bpmn:serviceTask id="${t}" camunda:class="test.Branch" camunda:asyncBefore="true" />${seq(`to_${t}`, 'fork', t)}${seq(`from_${t}`, t, 'join')}`).join('')}
       ${seq('start', 's', 'fork')}${seq('end', 'join', 'e')}`,
    ),
  );
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await engine.startProcessByKey('branches')).id);
  engine.startJobExecutor();
  for (const id of ids) await until(`instance ${id} to complete`, async () => (await engine.getInstance(id))?.state === 'completed');
  await engine.stopJobExecutor();
  assert.equal(mostPerInstance, 1, 'never two jobs of one instance at once');
  assert.ok(mostAtOnce >= 2 && mostAtOnce <= 4, `jobs of different instances ran side by side, at most four (${mostAtOnce})`);
});

test('every worker failing at once with a pool no larger than the workers: the failure hook still gets a connection', async () => {
  const db = await createTestDatabase('dsf_engine');
  databases.push(db);
  const pool = createPool(db.url, 3, { waitTimeoutMs: 5_000 });
  let running = 0;
  const hookErrors: unknown[] = [];
  let engine: ProcessEngine | undefined;
  try {
    engine = new ProcessEngine({
      pool,
      delegates: new Map([
        [
          'test.Fail',
          fn(async () => {
            running++;
            await until('three failing jobs at once', () => running >= 3);
            throw new Error('fails on purpose');
          }),
        ],
      ]),
      // As the BPE does for a plugin's stop of its instance: a command of its own from the hook.
      jobs: { pollIntervalMs: 50, workers: 3, onJobFailure: (_job, _e, instanceId) => engine!.cancelInstance(instanceId!).catch((e) => void hookErrors.push(e)) },
    });
    const e = engine;
    await e.migrate();
    await e.deploy(oneAsyncTask('failing', 'test.Fail'));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await e.startProcessByKey('failing')).id);
    e.startJobExecutor();
    for (const id of ids) await until(`instance ${id} to be cancelled`, async () => (await e.getInstance(id))?.state === 'cancelled');
    assert.deepEqual(hookErrors, []);
  } finally {
    await engine?.stopJobExecutor();
    await pool.end();
  }
});

test('two engines with four workers each on one database run every job exactly once', async () => {
  const runs = new Map<string, number>();
  const delegates = new Map([
    [
      'twin.Work',
      fn(async (e) => {
        const key = `${e.getProcessInstanceId()}/${e.getCurrentActivityId()}`;
        runs.set(key, (runs.get(key) ?? 0) + 1);
        await sleep(2);
      }),
    ],
  ]);
  const { db, engine: a } = await engineOn(null, { delegates, jobs: { pollIntervalMs: 20, workers: 4 } });
  const otherPool = createPool(db.url, 8);
  try {
    const b = new ProcessEngine({ pool: otherPool, delegates, jobs: { pollIntervalMs: 20, workers: 4 } });
    engines.push(b);
    await a.deploy(twinProcess());
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await a.startProcessByKey('twin')).id);
    a.startJobExecutor();
    b.startJobExecutor();
    await until('every instance to complete', async () => (await a.listInstances({ definitionKey: 'twin', state: 'completed' })).length === ids.length);
    await Promise.all([a.stopJobExecutor(), b.stopJobExecutor()]);
    for (const id of ids) {
      assert.equal(runs.get(`${id}/w1`), 1, `instance ${id} ran w1 once`);
      assert.equal(runs.get(`${id}/w2`), 1, `instance ${id} ran w2 once`);
    }
  } finally {
    await otherPool.end();
  }
});

test('abandoned at shutdown (connections cut as endPool does), every running job keeps its retries', async () => {
  const gate = new Gate();
  const failures: string[] = [];
  const db = await createTestDatabase('dsf_engine');
  databases.push(db);
  const pool = createPool(db.url, 4);
  const engine = new ProcessEngine({
    pool,
    delegates: new Map([['test.Cut', fn((e) => gate.pass(e.getProcessInstanceId()))]]),
    jobs: { pollIntervalMs: 20, workers: 2, onJobFailure: (jobId) => void failures.push(jobId) },
  });
  await engine.migrate();
  await engine.deploy(oneAsyncTask('cut', 'test.Cut'));
  const ids = [(await engine.startProcessByKey('cut')).id, (await engine.startProcessByKey('cut')).id];
  engine.startJobExecutor();
  await until('both jobs to run', () => gate.running === 2);
  const stopped = engine.stopJobExecutor();
  engine.abandonRunningJob();
  const ended = endPool(pool, 0);
  const inTransaction = async () =>
    (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")).rows[0]!.n;
  await until('their connections to be cut', async () => (await inTransaction()) === 0);
  gate.release();
  await Promise.all([stopped, ended]);
  assert.deepEqual(failures, []);
  for (const id of ids) assert.deepEqual((await db.pool.query('SELECT retries, exception FROM bpmn_job WHERE instance_id = $1', [id])).rows, [{ retries: 3, exception: null }]);
});
