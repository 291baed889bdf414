// camunda:exclusive="false" on an async continuation: Camunda may run such jobs of one process
// instance at the same time. The reference's test plugin relies on it: after an asyncAfter parallel
// gateway one branch waits (bounded) for what the other branch's user task creates. Here two branches
// that each wait for the other: with exclusive="false" they overlap, with the default they never do.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { completedActivities, engineFixture, fn, type EngineFixture } from './harness.ts';

/** Branches running now; the most seen at once; branches that failed on purpose. */
let active = 0;
let mostAtOnce = 0;
const failing = new Set<string>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const delegates = new Map([
  [
    // Waits (bounded) until another branch runs at the same time; records whether it saw one.
    'test.Meet',
    fn(async (e) => {
      const id = String(e.getCurrentActivityId());
      active++;
      mostAtOnce = Math.max(mostAtOnce, active);
      try {
        let met = false;
        for (let i = 0; i < 20 && !met; i++) {
          met = active > 1;
          if (!met) await sleep(25);
        }
        if (failing.has(id)) throw new Error(`${id} fails on purpose`);
        e.setVariable(`met_${id}`, met);
      } finally {
        // Stay a moment, so a branch that started later still finds this one.
        await sleep(50);
        active--;
      }
    }),
  ],
]);

/** Start, an asyncAfter parallel fork (exclusive as given) into two Meet tasks, a join, the end: as Camunda Modeler writes it. */
function forkModel(processId: string, exclusive: boolean): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_${processId}" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.0.0">
  <bpmn:process id="${processId}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1">
      <bpmn:outgoing>Flow_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:parallelGateway id="Gateway_fork" camunda:asyncAfter="true"${exclusive ? '' : ' camunda:exclusive="false"'}>
      <bpmn:extensionElements>
        <camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_start</bpmn:incoming>
      <bpmn:outgoing>Flow_toLeft</bpmn:outgoing>
      <bpmn:outgoing>Flow_toRight</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:serviceTask id="Left" name="Left" camunda:class="test.Meet">
      <bpmn:incoming>Flow_toLeft</bpmn:incoming>
      <bpmn:outgoing>Flow_fromLeft</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="Right" name="Right" camunda:class="test.Meet">
      <bpmn:incoming>Flow_toRight</bpmn:incoming>
      <bpmn:outgoing>Flow_fromRight</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:parallelGateway id="Gateway_join">
      <bpmn:incoming>Flow_fromLeft</bpmn:incoming>
      <bpmn:incoming>Flow_fromRight</bpmn:incoming>
      <bpmn:outgoing>Flow_end</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:endEvent id="EndEvent_1">
      <bpmn:incoming>Flow_end</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_start" sourceRef="StartEvent_1" targetRef="Gateway_fork" />
    <bpmn:sequenceFlow id="Flow_toLeft" sourceRef="Gateway_fork" targetRef="Left" />
    <bpmn:sequenceFlow id="Flow_toRight" sourceRef="Gateway_fork" targetRef="Right" />
    <bpmn:sequenceFlow id="Flow_fromLeft" sourceRef="Left" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_fromRight" sourceRef="Right" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_end" sourceRef="Gateway_join" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>`;
}

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
  await f.engine.deploy(forkModel('nonExclusiveFork', false));
  await f.engine.deploy(forkModel('exclusiveFork', true));
});
after(() => f.db.drop());
beforeEach(() => {
  active = 0;
  mostAtOnce = 0;
  failing.clear();
});

const jobs = async (instanceId: string) => (await f.db.pool.query('SELECT activity_id, retries, exception FROM bpmn_job WHERE instance_id = $1', [instanceId])).rows;

test('exclusive="false" after a parallel fork: both branch jobs run at the same time, each sees the other, the join completes the instance', async () => {
  const inst = await f.engine.startProcessByKey('nonExclusiveFork');
  assert.equal((await jobs(inst.id)).length, 2);
  assert.equal(await f.engine.runDueJobs(), 2);
  assert.equal(mostAtOnce, 2);
  assert.deepEqual(await f.engine.getVariables(inst.id), { met_Left: true, met_Right: true });
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
  // The same history as the exclusive model's (one entry per token arriving at the join).
  assert.deepEqual((await completedActivities(f.engine, inst.id)).sort(), ['EndEvent_1', 'Gateway_fork', 'Gateway_join', 'Gateway_join', 'Left', 'Right', 'StartEvent_1']);
});

test('without exclusive="false" the branch jobs of one instance run one after the other', async () => {
  const inst = await f.engine.startProcessByKey('exclusiveFork');
  assert.equal(await f.engine.runDueJobs(), 2);
  assert.equal(mostAtOnce, 1);
  assert.deepEqual(await f.engine.getVariables(inst.id), { met_Left: false, met_Right: false });
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
  assert.deepEqual((await completedActivities(f.engine, inst.id)).sort(), ['EndEvent_1', 'Gateway_fork', 'Gateway_join', 'Gateway_join', 'Left', 'Right', 'StartEvent_1']);
});

test('a failing non-exclusive job costs only its own retry: the job run beside it commits on its own', async () => {
  failing.add('Right');
  const inst = await f.engine.startProcessByKey('nonExclusiveFork');
  // Together they fail (nothing committed, no retry counted), then each runs alone: Left commits, Right loses a retry.
  assert.equal(await f.engine.runDueJobs(), 2);
  const left = await jobs(inst.id);
  assert.deepEqual(
    left.map((j) => [j.activity_id, j.retries]),
    [['Gateway_fork', 2]],
  );
  assert.match(left[0].exception ?? '', /Right fails on purpose/);
  assert.equal((await f.engine.getVariables(inst.id)).met_Left, false, 'Left ran again alone and committed');
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'active');
  failing.clear();
  assert.equal(await f.engine.runDueJobs(), 0, 'not due before PT5S');
  f.clock.advance(5_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
});
