// The job executor is hinted when a command commits: an async continuation created by a process start
// runs at once, not after the poll interval (here ten minutes, so only the hint can explain it).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { bpmn, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

let f: EngineFixture | undefined;
after(async () => {
  await f?.engine.stopJobExecutor();
  await f?.db.drop();
});

test('an async continuation created by a command runs without waiting for the next poll', async () => {
  let ran!: () => void;
  const done = new Promise<void>((resolve) => (ran = resolve));
  f = await engineFixture({ delegates: new Map([['test.Async', fn(() => ran())]]), jobs: { pollIntervalMs: 600_000 } });
  await f.engine.deploy(
    bpmn('hinted', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="work" camunda:class="test.Async" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />${seq('a', 's', 'work')}${seq('b', 'work', 'e')}`),
  );
  f.engine.startJobExecutor(); // its first poll finds nothing; the next one would be in ten minutes
  await new Promise((resolve) => setTimeout(resolve, 100));
  const instance = await f.engine.startProcessByKey('hinted');
  assert.equal(instance.state, 'active', 'waiting at the async continuation');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([done.then(() => 'ran'), new Promise((resolve) => (timer = setTimeout(() => resolve('not hinted'), 60_000)))]);
  clearTimeout(timer);
  assert.equal(outcome, 'ran');
});
