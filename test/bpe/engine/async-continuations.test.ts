// Camunda's async continuations where the published DSF plugins use them: on multi-instance loop
// characteristics, after end events (also inside sub-processes) and after each kind of gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const failing = new Set<string>();
const delegates = new Map([
  [
    // Marks what ran as a process variable (visible only once committed); fails for listed activities/targets.
    'test.Mark',
    fn((e) => {
      const target = e.getVariable('target');
      const what = target === undefined ? String(e.getCurrentActivityId()) : `${e.getCurrentActivityId()}_${String(target)}`;
      if (failing.has(what)) throw new Error(`${what} cannot be done`);
      e.setVariable(`done_${what}`, true);
      e.setVariable('count', Number(e.getVariable('count') ?? 0) + 1);
    }),
  ],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

async function jobs(instanceId: string): Promise<Array<{ activity_id: string; retries: number; exception: string | null; payload: Record<string, unknown> }>> {
  return (await f.db.pool.query('SELECT activity_id, retries, exception, payload FROM bpmn_job WHERE instance_id = $1 ORDER BY created, id', [instanceId])).rows;
}
const vars = (id: string): Promise<Record<string, unknown>> => f.engine.getVariables(id);
const state = async (id: string): Promise<string | undefined> => (await f.engine.getInstance(id))?.state;

test('asyncBefore on the loop of a parallel multi-instance sub-process: one job per instance with the loop retries; a failing instance becomes an incident while the others commit', async () => {
  await f.engine.deploy(
    bpmn(
      'miSend',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="perTarget">
         <bpmn:multiInstanceLoopCharacteristics camunda:asyncBefore="true" camunda:exclusive="false" camunda:collection="\${targets}" camunda:elementVariable="target">
           <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
         </bpmn:multiInstanceLoopCharacteristics>
         <bpmn:startEvent id="ps" /><bpmn:sendTask id="send" camunda:class="test.Mark" /><bpmn:endEvent id="pe" />
         ${seq('p1', 'ps', 'send')}${seq('p2', 'send', 'pe')}
       </bpmn:subProcess>
       <bpmn:serviceTask id="save" camunda:class="test.Mark" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 'perTarget')}${seq('b', 'perTarget', 'save')}${seq('c', 'save', 'e')}`,
    ),
  );
  failing.clear();
  failing.add('send_b');
  const inst = await f.engine.startProcessByKey('miSend', { variables: { targets: ['a', 'b', 'c'] } });
  assert.equal(inst.state, 'active');
  assert.equal((await vars(inst.id)).count, undefined); // nothing sent in the starting transaction
  const created = await jobs(inst.id);
  assert.deepEqual(
    created.map((j) => [j.activity_id, j.retries, j.payload.phase, j.payload.retryIntervalMs]),
    [['perTarget', 3, 'before', 5000], ['perTarget', 3, 'before', 5000], ['perTarget', 3, 'before', 5000]],
  );

  assert.equal(await f.engine.runDueJobs(), 3);
  let v = await vars(inst.id);
  assert.deepEqual([v.done_send_a, v.done_send_b, v.done_send_c, v.count], [true, undefined, true, 2]);
  let left = await jobs(inst.id);
  assert.equal(left.length, 1);
  assert.equal(left[0]!.retries, 2);
  assert.match(left[0]!.exception ?? '', /send_b cannot be done/);
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.equal(await f.engine.runDueJobs(), 0); // not due before PT5S
    f.clock.advance(5_000);
    assert.equal(await f.engine.runDueJobs(), 1);
  }
  const incidents = (await f.engine.listIncidents()).filter((i) => i.instanceId === inst.id);
  assert.deepEqual(incidents.map((i) => [i.activityId, i.type]), [['perTarget', 'async']]);
  assert.equal(await state(inst.id), 'active');
  v = await vars(inst.id);
  assert.deepEqual([v.done_send_a, v.done_send_c, v.count], [true, true, 2]); // the others' work stays committed

  failing.clear();
  await f.engine.retryIncident(incidents[0]!.jobId);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(await state(inst.id), 'completed');
  v = await vars(inst.id);
  assert.deepEqual([v.done_send_b, v.done_save, v.count], [true, true, 4]);
  assert.equal((await completedActivities(f.engine, inst.id)).filter((a) => a === 'send').length, 3);
});

test('asyncBefore on the loop of a sequential multi-instance: each instance is its own job, one after the other', async () => {
  await f.engine.deploy(
    bpmn(
      'miSeqBefore',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="step" camunda:class="test.Mark">
         <bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:asyncBefore="true" camunda:collection="\${targets}" camunda:elementVariable="target" />
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 'step')}${seq('b', 'step', 'e')}`,
    ),
  );
  failing.clear();
  const inst = await f.engine.startProcessByKey('miSeqBefore', { variables: { targets: ['x', 'y', 'z'] } });
  for (const [i, t] of ['x', 'y', 'z'].entries()) {
    assert.equal((await jobs(inst.id)).length, 1);
    assert.equal((await vars(inst.id)).count, i === 0 ? undefined : i);
    assert.equal(await f.engine.runDueJobs(1), 1);
    assert.equal((await vars(inst.id))[`done_step_${t}`], true);
  }
  assert.equal(await state(inst.id), 'completed');
});

test('asyncAfter on the loop: a job after each inner instance, parallel and sequential', async () => {
  for (const sequential of [false, true]) {
    const key = sequential ? 'miSeqAfter' : 'miParAfter';
    await f.engine.deploy(
      bpmn(
        key,
        `<bpmn:startEvent id="s" />
         <bpmn:serviceTask id="step" camunda:class="test.Mark">
           <bpmn:multiInstanceLoopCharacteristics isSequential="${sequential}" camunda:asyncAfter="true" camunda:collection="\${targets}" camunda:elementVariable="target" />
         </bpmn:serviceTask>
         <bpmn:serviceTask id="next" camunda:class="test.Mark" /><bpmn:endEvent id="e" />${seq('a', 's', 'step')}${seq('b', 'step', 'next')}${seq('c', 'next', 'e')}`,
      ),
    );
    const inst = await f.engine.startProcessByKey(key, { variables: { targets: ['x', 'y', 'z'] } });
    if (sequential) {
      // x ran, then waits for its after-job; each job completes one instance and runs the next
      assert.equal((await vars(inst.id)).count, 1);
      assert.equal((await jobs(inst.id)).length, 1);
      assert.equal(await f.engine.runDueJobs(1), 1);
      assert.equal((await vars(inst.id)).count, 2);
      assert.equal(await f.engine.runDueJobs(1), 1);
      assert.equal((await vars(inst.id)).count, 3);
    } else {
      assert.equal((await vars(inst.id)).count, 3); // all three ran at the start
      assert.deepEqual((await jobs(inst.id)).map((j) => [j.activity_id, j.payload.phase]), [['step', 'after'], ['step', 'after'], ['step', 'after']]);
      assert.equal(await f.engine.runDueJobs(2), 2);
      assert.equal((await vars(inst.id)).done_next, undefined); // the body still waits for the third
    }
    assert.equal(await f.engine.runDueJobs(1), 1);
    assert.equal(await state(inst.id), 'completed');
    assert.equal((await vars(inst.id)).count, 4);
  }
});

test("the activity's own asyncBefore/asyncAfter on a multi-instance activity make one job before and one after the whole body", async () => {
  await f.engine.deploy(
    bpmn(
      'miBody',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="step" camunda:class="test.Mark" camunda:asyncBefore="true" camunda:asyncAfter="true">
         <bpmn:multiInstanceLoopCharacteristics camunda:collection="\${targets}" camunda:elementVariable="target" />
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 'step')}${seq('b', 'step', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('miBody', { variables: { targets: ['x', 'y', 'z'] } });
  assert.deepEqual((await jobs(inst.id)).map((j) => j.payload.phase), ['before']);
  assert.equal(await f.engine.runDueJobs(1), 1);
  assert.equal((await vars(inst.id)).count, 3);
  assert.deepEqual((await jobs(inst.id)).map((j) => j.payload.phase), ['after']);
  assert.equal(await f.engine.runDueJobs(1), 1);
  assert.equal(await state(inst.id), 'completed');
});

test('asyncAfter on end events: of the process, inside an embedded sub-process and inside a multi-instance sub-process', async () => {
  await f.engine.deploy(
    bpmn(
      'endAsync',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="sub">
         <bpmn:startEvent id="ss" /><bpmn:serviceTask id="inSub" camunda:class="test.Mark" />
         <bpmn:endEvent id="subEnd" camunda:asyncAfter="true">
           <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
         </bpmn:endEvent>
         ${seq('s1', 'ss', 'inSub')}${seq('s2', 'inSub', 'subEnd')}
       </bpmn:subProcess>
       <bpmn:subProcess id="each">
         <bpmn:multiInstanceLoopCharacteristics camunda:collection="\${targets}" camunda:elementVariable="target" />
         <bpmn:startEvent id="es" /><bpmn:serviceTask id="inEach" camunda:class="test.Mark" />
         <bpmn:endEvent id="eachEnd" camunda:asyncAfter="true" />
         ${seq('e1', 'es', 'inEach')}${seq('e2', 'inEach', 'eachEnd')}
       </bpmn:subProcess>
       <bpmn:endEvent id="e" camunda:asyncAfter="true" />
       ${seq('a', 's', 'sub')}${seq('b', 'sub', 'each')}${seq('c', 'each', 'e')}`,
    ),
  );
  failing.clear();
  const inst = await f.engine.startProcessByKey('endAsync', { variables: { targets: ['x', 'y'] } });
  // The embedded sub-process reached its end event; it completes in the job.
  assert.deepEqual((await jobs(inst.id)).map((j) => [j.activity_id, j.retries, j.payload.retryIntervalMs]), [['subEnd', 3, 5000]]);
  let done = await completedActivities(f.engine, inst.id);
  assert.ok(done.includes('subEnd') && !done.includes('sub'), done.join());

  assert.equal(await f.engine.runDueJobs(1), 1);
  done = await completedActivities(f.engine, inst.id);
  assert.ok(done.includes('sub'));
  assert.deepEqual((await jobs(inst.id)).map((j) => j.activity_id), ['eachEnd', 'eachEnd']);
  assert.equal((await vars(inst.id)).count, 3);

  assert.equal(await f.engine.runDueJobs(1), 1);
  const bodyEnded = async (): Promise<boolean> =>
    (await f.engine.activityHistory(inst.id)).some((h) => h.activityId === 'each' && h.activityType === 'multiInstanceBody' && h.endTime !== null);
  assert.equal(await bodyEnded(), false); // one instance is still ending
  assert.equal(await f.engine.runDueJobs(1), 1);
  assert.equal(await bodyEnded(), true);
  assert.deepEqual((await jobs(inst.id)).map((j) => j.activity_id), ['e']);
  assert.equal(await state(inst.id), 'active'); // the process end event completes in its own job too
  assert.equal(await f.engine.runDueJobs(), 1);
  const ended = await f.engine.getInstance(inst.id);
  assert.equal(ended?.state, 'completed');
  assert.equal(ended?.endActivityId, 'e');
});

test('asyncAfter on exclusive, parallel and inclusive gateways: each outgoing branch starts in a job of its own', async () => {
  await f.engine.deploy(
    bpmn(
      'gatewaysAsync',
      `<bpmn:startEvent id="s" />
       <bpmn:exclusiveGateway id="xor" default="toNever" camunda:asyncAfter="true" />
       <bpmn:serviceTask id="chosen" camunda:class="test.Mark" /><bpmn:serviceTask id="never" camunda:class="test.Mark" />
       <bpmn:parallelGateway id="fork" camunda:asyncAfter="true">
         <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
       </bpmn:parallelGateway>
       <bpmn:serviceTask id="b1" camunda:class="test.Mark" /><bpmn:serviceTask id="b2" camunda:class="test.Mark" /><bpmn:serviceTask id="b3" camunda:class="test.Mark" />
       <bpmn:parallelGateway id="join" camunda:asyncAfter="true" />
       <bpmn:inclusiveGateway id="or" camunda:asyncAfter="true" />
       <bpmn:serviceTask id="o1" camunda:class="test.Mark" /><bpmn:serviceTask id="o2" camunda:class="test.Mark" /><bpmn:serviceTask id="o3" camunda:class="test.Mark" />
       <bpmn:inclusiveGateway id="orJoin" camunda:asyncAfter="true" />
       <bpmn:endEvent id="e" />
       ${seq('a', 's', 'xor')}${seq('toChosen', 'xor', 'chosen', '${go}')}${seq('toNever', 'xor', 'never')}${seq('n1', 'never', 'e')}
       ${seq('c1', 'chosen', 'fork')}${seq('f1', 'fork', 'b1')}${seq('f2', 'fork', 'b2')}${seq('f3', 'fork', 'b3')}
       ${seq('j1', 'b1', 'join')}${seq('j2', 'b2', 'join')}${seq('j3', 'b3', 'join')}${seq('j4', 'join', 'or')}
       ${seq('r1', 'or', 'o1', '${true}')}${seq('r2', 'or', 'o2', '${count > 100}')}${seq('r3', 'or', 'o3', '${go}')}
       ${seq('q1', 'o1', 'orJoin')}${seq('q2', 'o2', 'orJoin')}${seq('q3', 'o3', 'orJoin')}${seq('q4', 'orJoin', 'e')}`,
    ),
  );
  failing.clear();
  failing.add('b2');
  const inst = await f.engine.startProcessByKey('gatewaysAsync', { variables: { go: true } });
  const flowsOf = async (): Promise<unknown[]> => (await jobs(inst.id)).map((j) => [j.activity_id, j.payload.flowId]).sort((x, y) => String(x[1]).localeCompare(String(y[1])));
  // exclusive: the condition was decided before the commit, the chosen branch waits for its job
  assert.deepEqual(await flowsOf(), [['xor', 'toChosen']]);
  assert.ok((await completedActivities(f.engine, inst.id)).includes('xor'));
  assert.equal(await f.engine.runDueJobs(1), 1);
  assert.equal((await vars(inst.id)).done_chosen, true);
  // parallel fork: three branches, three jobs; b2 fails alone and retries alone
  assert.deepEqual(await flowsOf(), [['fork', 'f1'], ['fork', 'f2'], ['fork', 'f3']]);
  assert.equal(await f.engine.runDueJobs(3), 3);
  let v = await vars(inst.id);
  assert.deepEqual([v.done_b1, v.done_b2, v.done_b3], [true, undefined, true]);
  assert.deepEqual((await jobs(inst.id)).map((j) => [j.payload.flowId, j.retries]), [['f2', 2]]);
  failing.clear();
  f.clock.advance(5_000);
  assert.equal(await f.engine.runDueJobs(1), 1);
  // parallel join: one job for its outgoing flow once all three arrived
  assert.deepEqual(await flowsOf(), [['join', 'j4']]);
  assert.equal(await f.engine.runDueJobs(1), 1);
  // inclusive fork: the two true conditions, one job each; inclusive join: one job after both
  assert.deepEqual(await flowsOf(), [['or', 'r1'], ['or', 'r3']]);
  assert.equal(await f.engine.runDueJobs(2), 2);
  v = await vars(inst.id);
  assert.deepEqual([v.done_o1, v.done_o2, v.done_o3], [true, undefined, true]);
  assert.deepEqual(await flowsOf(), [['orJoin', 'q4']]);
  assert.equal(await state(inst.id), 'active');
  assert.equal(await f.engine.runDueJobs(1), 1);
  assert.equal(await state(inst.id), 'completed');
  assert.equal((await vars(inst.id)).done_never, undefined);
});

test('asyncAfter on an event-based gateway: the arriving event leaves the gateway, its branch continues in a job', async () => {
  await f.engine.deploy(
    bpmn(
      'eventGatewayAsync',
      `<bpmn:startEvent id="s" /><bpmn:eventBasedGateway id="ebg" camunda:asyncAfter="true" />
       <bpmn:intermediateCatchEvent id="reply"><bpmn:messageEventDefinition messageRef="Message_reply" /></bpmn:intermediateCatchEvent>
       <bpmn:intermediateCatchEvent id="timeout"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
       <bpmn:serviceTask id="onReply" camunda:class="test.Mark" /><bpmn:serviceTask id="onTimeout" camunda:class="test.Mark" /><bpmn:endEvent id="e" /><bpmn:endEvent id="e2" />
       ${seq('a', 's', 'ebg')}${seq('b', 'ebg', 'reply')}${seq('c', 'ebg', 'timeout')}${seq('d', 'reply', 'onReply')}${seq('g', 'timeout', 'onTimeout')}
       ${seq('h', 'onReply', 'e')}${seq('i', 'onTimeout', 'e2')}`,
      { messages: ['reply'] },
    ),
  );
  const inst = await f.engine.startProcessByKey('eventGatewayAsync', { businessKey: 'ebg-async' });
  await f.engine.correlateMessage('reply', { businessKey: 'ebg-async', variables: { answer: 42 } });
  // the message was taken (no subscription, no timer left) and the gateway completed; the branch waits for its job
  assert.deepEqual((await jobs(inst.id)).map((j) => [j.activity_id, j.payload.flowId]), [['ebg', 'b']]);
  assert.equal((await f.db.pool.query('SELECT count(*)::int AS n FROM bpmn_event_subscription WHERE instance_id = $1', [inst.id])).rows[0].n, 0);
  assert.deepEqual(await completedActivities(f.engine, inst.id), ['s', 'ebg']);
  assert.equal((await vars(inst.id)).answer, 42);
  f.clock.advance(60_000); // the timer was removed with the gateway: only the branch's job runs
  await f.engine.runDueJobs();
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.endActivityId, 'e');
  assert.deepEqual(await completedActivities(f.engine, inst.id), ['s', 'ebg', 'reply', 'onReply', 'e']);
});

test('a comma list of retry waits: each failure of the job waits the next one (backoff), then an incident', async () => {
  await f.engine.deploy(
    bpmn(
      'backoff',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="flaky" camunda:class="test.Mark" camunda:asyncBefore="true">
         <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>PT2S,PT4S,PT8S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />
       ${seq('a', 's', 'flaky')}${seq('b', 'flaky', 'e')}`,
    ),
  );
  failing.clear();
  failing.add('flaky');
  const inst = await f.engine.startProcessByKey('backoff');
  assert.deepEqual((await jobs(inst.id)).map((j) => [j.retries, j.payload.retryIntervalsMs]), [[3, [2000, 4000, 8000]]]);
  assert.equal(await f.engine.runDueJobs(), 1); // first attempt fails: next in 2 s
  for (const waitMs of [2000, 4000]) {
    f.clock.advance(waitMs - 1);
    assert.equal(await f.engine.runDueJobs(), 0, `not due before ${waitMs} ms`);
    f.clock.advance(1);
    assert.equal(await f.engine.runDueJobs(), 1);
  }
  const incidents = (await f.engine.listIncidents()).filter((i) => i.instanceId === inst.id);
  assert.deepEqual(incidents.map((i) => i.activityId), ['flaky']);

  failing.clear();
  await f.engine.retryIncident(incidents[0]!.jobId);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(await state(inst.id), 'completed');
});
