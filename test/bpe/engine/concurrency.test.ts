import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bpmn, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

let f: EngineFixture;

/** Resolves once some other session of this database waits for a row lock (bounded polling). */
async function someoneWaitsForALock(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await f.db.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    );
    if (r.rows[0].n > 0) return;
    await sleep(10);
  }
  throw new Error('no session started waiting for a lock');
}

let holdUntilOtherWaits = false;
const delegates = new Map([
  [
    'test.HoldLock',
    fn(async () => {
      if (holdUntilOtherWaits) await someoneWaitsForALock();
    }),
  ],
]);

before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

test('a command that waited for the instance lock works on the state the lock holder committed', async () => {
  await f.engine.deploy(
    bpmn(
      'twoMessages',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:intermediateCatchEvent id="ca"><bpmn:messageEventDefinition messageRef="Message_a" /></bpmn:intermediateCatchEvent>
       <bpmn:intermediateCatchEvent id="cb"><bpmn:messageEventDefinition messageRef="Message_b" /></bpmn:intermediateCatchEvent>
       <bpmn:serviceTask id="hold" camunda:class="test.HoldLock" />
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('f1', 's', 'fork')}${seq('f2', 'fork', 'ca')}${seq('f3', 'fork', 'cb')}${seq('f4', 'ca', 'hold')}
       ${seq('f5', 'hold', 'join')}${seq('f6', 'cb', 'join')}${seq('f7', 'join', 'e')}`,
      { messages: ['a', 'b'] },
    ),
  );
  const inst = await f.engine.startProcessByKey('twoMessages', { businessKey: 'tm' });
  holdUntilOtherWaits = true;
  try {
    // 'a' holds the instance until 'b' waits for it; 'b' must then see token a at the join.
    const first = f.engine.correlateMessage('a', { businessKey: 'tm' });
    await sleep(20);
    const second = f.engine.correlateMessage('b', { businessKey: 'tm' });
    await Promise.all([first, second]);
  } finally {
    holdUntilOtherWaits = false;
  }
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.state, 'completed');
  assert.equal(done?.endActivityId, 'e');
});
