// A user task's create listener may publish it before the command that created it commits (DSF's
// default listener creates the QuestionnaireResponse at once), so its answer can come while that
// command still runs, e.g. from a parallel branch of the same command. Completing it then waits for
// the command instead of failing with "no user task" and leaving the process waiting for good.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DelegateTask } from '../../../src/bpe/engine/delegate.ts';
import { EngineError } from '../../../src/bpe/engine/definitions.ts';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

let published: string | undefined;
let answering: Promise<void> | undefined;
let answerSettledInCommand = false;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let f: EngineFixture;
const delegates = new Map([
  ['test.Publish', () => ({ notify: async (t: DelegateTask) => void (published = t.id) })],
  [
    'test.AnswerFromOutside',
    fn(async () => {
      // As the BPE's QuestionnaireResponse handler would: another connection, while this command runs.
      answering = f.engine.completeUserTask(published!, { answer: 42 });
      let settled = false;
      void answering.then(
        () => (settled = true),
        () => (settled = true),
      );
      await sleep(300);
      answerSettledInCommand = settled;
    }),
  ],
  [
    'test.Fail',
    fn(async () => {
      answering = f.engine.completeUserTask(published!);
      answering.catch(() => {});
      await sleep(100);
      throw new Error('the command fails after the user task was published');
    }),
  ],
]);

before(async () => {
  f = await engineFixture({ delegates });
  await f.engine.deploy(
    bpmn(
      'early',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:userTask id="ask"><bpmn:extensionElements><camunda:taskListener class="test.Publish" event="create" /></bpmn:extensionElements></bpmn:userTask>
       <bpmn:serviceTask id="answer" camunda:class="test.AnswerFromOutside" />
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('f0', 's', 'fork')}${seq('f1', 'fork', 'ask')}${seq('f2', 'fork', 'answer')}${seq('f3', 'ask', 'join')}${seq('f4', 'answer', 'join')}${seq('f5', 'join', 'e')}`,
    ),
  );
  await f.engine.deploy(
    bpmn(
      'earlyFail',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:userTask id="ask"><bpmn:extensionElements><camunda:taskListener class="test.Publish" event="create" /></bpmn:extensionElements></bpmn:userTask>
       <bpmn:serviceTask id="fail" camunda:class="test.Fail" camunda:asyncBefore="false" />
       <bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />
       ${seq('f0', 's', 'fork')}${seq('f1', 'fork', 'ask')}${seq('f2', 'fork', 'fail')}${seq('f3', 'ask', 'e1')}${seq('f4', 'fail', 'e2')}`,
    ),
  );
  await f.engine.deploy(
    bpmn(
      'earlyJob',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" camunda:asyncBefore="true" />
       <bpmn:userTask id="ask"><bpmn:extensionElements><camunda:taskListener class="test.Publish" event="create" /></bpmn:extensionElements></bpmn:userTask>
       <bpmn:serviceTask id="answer" camunda:class="test.AnswerFromOutside" />
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('f0', 's', 'fork')}${seq('f1', 'fork', 'ask')}${seq('f2', 'fork', 'answer')}${seq('f3', 'ask', 'join')}${seq('f4', 'answer', 'join')}${seq('f5', 'join', 'e')}`,
    ),
  );
});
after(() => f.db.drop());

test('an answer that comes while the creating command runs completes the user task once that command committed', async () => {
  const inst = await f.engine.startProcessByKey('early');
  assert.equal(answerSettledInCommand, false, 'the answer waited for the creating command');
  await answering;
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.state, 'completed');
  assert.equal((await f.engine.getVariables(inst.id)).answer, 42);
  assert.deepEqual((await completedActivities(f.engine, inst.id)).sort(), ['answer', 'ask', 'e', 'fork', 'join', 'join', 's'].sort());
});

test('the same when the user task is created in a job', async () => {
  answerSettledInCommand = true;
  const inst = await f.engine.startProcessByKey('earlyJob');
  assert.equal(inst.state, 'active');
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(answerSettledInCommand, false, 'the answer waited for the job');
  await answering;
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
});

test('an answer for a user task whose creating command rolled back fails as an unknown user task, without waiting longer', async () => {
  await assert.rejects(f.engine.startProcessByKey('earlyFail'), /the command fails/);
  await assert.rejects(answering!, (e: unknown) => e instanceof EngineError && /no user task/.test((e as Error).message));
});

test('an unknown user task fails at once', async () => {
  await assert.rejects(f.engine.completeUserTask('00000000-0000-0000-0000-000000000000'), /no user task/);
});
