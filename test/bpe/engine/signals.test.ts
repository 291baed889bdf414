import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPool } from '../../../src/db/pool.ts';
import { ProcessEngine } from '../../../src/bpe/engine/engine.ts';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const recorded: string[] = [];
let barrier: { arrived: number; open: Promise<void>; release: () => void } | null = null;
const delegates = new Map([
  ['test.Record', fn((e) => void recorded.push(`${e.processDefinitionKey}:${e.getCurrentActivityId()}:${String(e.getVariable('reason') ?? '')}`))],
  ['test.Fail', fn(() => {
    throw new Error('thrower fails after its signal');
  })],
  [
    // Both callers hold their own instance until the other one holds its own (bounded wait).
    'test.Barrier',
    fn(async () => {
      if (!barrier) return;
      barrier.arrived++;
      if (barrier.arrived === 2) barrier.release();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([barrier.open, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('barrier not reached')), 10_000)))]);
      clearTimeout(timer);
    }),
  ],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
  await f.engine.deploy(
    bpmn(
      'catcher',
      `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:intermediateCatchEvent>
       <bpmn:serviceTask id="after" camunda:class="test.Record" /><bpmn:endEvent id="e" />${seq('a', 's', 'wait')}${seq('b', 'wait', 'after')}${seq('c', 'after', 'e')}`,
      { signals: ['go'] },
    ),
  );
  await f.engine.deploy(
    bpmn(
      'guarded',
      `<bpmn:startEvent id="s" /><bpmn:userTask id="work" />
       <bpmn:boundaryEvent id="stop" attachedToRef="work"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:boundaryEvent>
       <bpmn:endEvent id="normal" /><bpmn:endEvent id="stopped" />${seq('a', 's', 'work')}${seq('b', 'work', 'normal')}${seq('c', 'stop', 'stopped')}`,
      { signals: ['go'] },
    ),
  );
  await f.engine.deploy(
    bpmn(
      'started',
      `<bpmn:startEvent id="onGo"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:startEvent>
       <bpmn:serviceTask id="record" camunda:class="test.Record" /><bpmn:endEvent id="e" />${seq('a', 'onGo', 'record')}${seq('b', 'record', 'e')}`,
      { signals: ['go'] },
    ),
  );
});
after(() => f.db.drop());

const active = async (key: string): Promise<number> => (await f.engine.listInstances({ definitionKey: key, state: 'active' })).length;
const all = async (key: string): Promise<number> => (await f.engine.listInstances({ definitionKey: key })).length;

test('a signal end event reaches catch events, boundary events and signal start events of other instances in its own transaction', async () => {
  await f.engine.deploy(
    bpmn('endThrower', `<bpmn:startEvent id="s" /><bpmn:endEvent id="stopAll"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:endEvent>${seq('a', 's', 'stopAll')}`, {
      signals: ['go'],
    }),
  );
  recorded.length = 0;
  const catchers = [await f.engine.startProcessByKey('catcher'), await f.engine.startProcessByKey('catcher')];
  const guarded = await f.engine.startProcessByKey('guarded');
  const startedBefore = await all('started');

  const thrower = await f.engine.startProcessByKey('endThrower');
  assert.equal(thrower.state, 'completed');
  assert.equal(thrower.endActivityId, 'stopAll');
  // Nothing is left for a job: every receiver already ran to its next wait state.
  assert.equal((await f.db.pool.query('SELECT count(*)::int AS n FROM bpmn_job')).rows[0].n, 0);
  assert.equal(await f.engine.runDueJobs(), 0);
  for (const c of catchers) {
    assert.equal((await f.engine.getInstance(c.id))?.state, 'completed');
    assert.deepEqual(await completedActivities(f.engine, c.id), ['s', 'wait', 'after', 'e']);
  }
  const g = await f.engine.getInstance(guarded.id);
  assert.equal(g?.endActivityId, 'stopped');
  assert.equal((await f.engine.listUserTasks({ instanceId: guarded.id })).length, 0);
  assert.equal(await all('started'), startedBefore + 1);
  assert.equal(await active('started'), 0);
  assert.deepEqual(recorded.sort(), ['catcher:after:', 'catcher:after:', 'started:record:']);
});

test('a rollback of the thrower means nobody received the signal', async () => {
  await f.engine.deploy(
    bpmn(
      'failingThrower',
      `<bpmn:startEvent id="s" /><bpmn:intermediateThrowEvent id="go"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:intermediateThrowEvent>
       <bpmn:serviceTask id="fail" camunda:class="test.Fail" /><bpmn:endEvent id="e" />${seq('a', 's', 'go')}${seq('b', 'go', 'fail')}${seq('c', 'fail', 'e')}`,
      { signals: ['go'] },
    ),
  );
  recorded.length = 0;
  const catcher = await f.engine.startProcessByKey('catcher');
  const guarded = await f.engine.startProcessByKey('guarded');
  const startedBefore = await all('started');
  await assert.rejects(f.engine.startProcessByKey('failingThrower'), /thrower fails after its signal/);
  assert.equal(await all('failingThrower'), 0);
  assert.equal((await f.engine.getInstance(catcher.id))?.state, 'active');
  assert.deepEqual((await f.engine.listExecutions(catcher.id)).map((e) => e.activityId).filter(Boolean), ['wait']);
  assert.equal((await f.engine.listUserTasks({ instanceId: guarded.id })).length, 1);
  assert.equal(await all('started'), startedBefore);
  // The receivers ran inside the failed transaction; nothing of it stayed, so they receive the next signal.
  recorded.length = 0;
  assert.equal(await f.engine.signal('go', { reason: 'retry' }), 3); // catcher, guarded, one new 'started'
  assert.equal((await f.engine.getInstance(catcher.id))?.state, 'completed');
  assert.equal((await f.engine.getInstance(guarded.id))?.endActivityId, 'stopped');
  assert.ok(recorded.includes('catcher:after:retry') && recorded.includes('started:record:retry'));
});

test('a signal that comes back to the thrower through another instance is received in the same command', async () => {
  await f.engine.deploy(
    bpmn(
      'asker',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:intermediateCatchEvent id="answer"><bpmn:signalEventDefinition signalRef="Signal_answer" /></bpmn:intermediateCatchEvent>
       <bpmn:intermediateThrowEvent id="question"><bpmn:signalEventDefinition signalRef="Signal_question" /></bpmn:intermediateThrowEvent>
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'answer')}${seq('c', 'fork', 'question')}${seq('d', 'answer', 'join')}${seq('g', 'question', 'join')}${seq('h', 'join', 'e')}`,
      { signals: ['answer', 'question'] },
    ),
  );
  await f.engine.deploy(
    bpmn(
      'responder',
      `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="question"><bpmn:signalEventDefinition signalRef="Signal_question" /></bpmn:intermediateCatchEvent>
       <bpmn:endEvent id="answer"><bpmn:signalEventDefinition signalRef="Signal_answer" /></bpmn:endEvent>${seq('a', 's', 'question')}${seq('b', 'question', 'answer')}`,
      { signals: ['answer', 'question'] },
    ),
  );
  const responder = await f.engine.startProcessByKey('responder');
  const asker = await f.engine.startProcessByKey('asker');
  assert.equal(asker.state, 'completed');
  assert.equal((await f.engine.getInstance(responder.id))?.state, 'completed');
  assert.equal(await f.engine.runDueJobs(), 0);
});

test('two jobs delivering signals to each other deadlock once; PostgreSQL aborts one, which runs again without losing a retry', async () => {
  const twin = (id: string, own: string, other: string): string =>
    bpmn(
      id,
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition signalRef="Signal_${own}" /></bpmn:intermediateCatchEvent>
       <bpmn:serviceTask id="hold" camunda:class="test.Barrier" camunda:asyncBefore="true" />
       <bpmn:intermediateThrowEvent id="tell"><bpmn:signalEventDefinition signalRef="Signal_${other}" /></bpmn:intermediateThrowEvent>
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'hear')}${seq('c', 'fork', 'hold')}${seq('d', 'hold', 'tell')}${seq('g', 'hear', 'join')}${seq('h', 'tell', 'join')}${seq('i', 'join', 'e')}`,
      { signals: [own, other] },
    );
  await f.engine.deploy(twin('twinA', 'toA', 'toB'));
  await f.engine.deploy(twin('twinB', 'toB', 'toA'));
  const a = await f.engine.startProcessByKey('twinA');
  const b = await f.engine.startProcessByKey('twinB');
  let release!: () => void;
  barrier = { arrived: 0, open: new Promise<void>((r) => (release = r)), release: () => release() };
  const failures: unknown[] = [];
  const otherPool = createPool(f.db.url, 3);
  try {
    const second = new ProcessEngine({ pool: otherPool, delegates, clock: f.clock, jobs: { onJobFailure: (_id, e) => failures.push(e) } });
    const first = new ProcessEngine({ pool: f.db.pool, delegates, clock: f.clock, jobs: { onJobFailure: (_id, e) => failures.push(e) } });
    // Each engine takes one of the two jobs (SKIP LOCKED); both hold their instance, then signal the other.
    await Promise.all([first.runDueJobs(1), second.runDueJobs(1)]);
    const left = (await f.db.pool.query('SELECT retries, exception FROM bpmn_job')).rows;
    assert.equal(left.length, 1, 'one job committed, the other was rolled back');
    assert.deepEqual(left[0], { retries: 3, exception: null });
    assert.equal(failures.length, 0);
    assert.equal(await f.engine.runDueJobs(), 1);
  } finally {
    barrier = null;
    await otherPool.end();
  }
  for (const i of [a, b]) assert.equal((await f.engine.getInstance(i.id))?.state, 'completed');
});
