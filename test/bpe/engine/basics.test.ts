import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpmnError, type DelegateExecution, type DelegateTask } from '../../../src/bpe/engine/delegate.ts';
import { DeploymentError } from '../../../src/bpe/engine/deployment-check.ts';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const calls: string[] = [];
let failuresLeft = 0;
const delegates = new Map([
  ['test.Record', fn((e) => void calls.push(`${e.getCurrentActivityId()}:${e.getField('label') ?? ''}`))],
  ['test.Increment', fn((e) => e.setVariable('counter', Number(e.getVariable('counter') ?? 0) + 1))],
  ['test.Flaky', fn(() => {
    if (failuresLeft-- > 0) throw new Error('temporary outage');
  })],
  ['test.Reject', fn(() => {
    throw new BpmnError('rejected', 'not allowed');
  })],
  [
    'test.Listener',
    () => ({
      notify: async (e: DelegateExecution | DelegateTask) => {
        const execution = 'execution' in e ? e.execution : e;
        calls.push(`listener:${e.eventName}:${execution.getCurrentActivityId()}`);
      },
    }),
  ],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

test('a none start event, service task with field injection and none end event run to completion', async () => {
  calls.length = 0;
  await f.engine.deploy(
    bpmn(
      'simple',
      `<bpmn:startEvent id="start" />
       <bpmn:serviceTask id="task" camunda:class="test.Record">
         <bpmn:extensionElements>
           <camunda:field name="label"><camunda:string>hello</camunda:string></camunda:field>
         </bpmn:extensionElements>
       </bpmn:serviceTask>
       <bpmn:endEvent id="end" />
       ${seq('f1', 'start', 'task')}${seq('f2', 'task', 'end')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('simple', { businessKey: 'bk-1' });
  assert.equal(inst.state, 'completed');
  assert.equal(inst.endActivityId, 'end');
  assert.deepEqual(calls, ['task:hello']);
  assert.deepEqual(await completedActivities(f.engine, inst.id), ['start', 'task', 'end']);
  const stored = await f.engine.getInstance(inst.id);
  assert.equal(stored?.state, 'completed');
  assert.equal(stored?.businessKey, 'bk-1');
});

test('deployment names the element the engine cannot execute', async () => {
  await assert.rejects(
    f.engine.deploy(bpmn('bad', `<bpmn:startEvent id="s" /><bpmn:complexGateway id="cg" />${seq('f', 's', 'cg')}`)),
    /ComplexGateway 'cg' is not supported/,
  );
  await assert.rejects(
    f.engine.deploy(bpmn('bad2', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="svc" camunda:class="no.such.Class" /><bpmn:endEvent id="e" />${seq('a', 's', 'svc')}${seq('b', 'svc', 'e')}`)),
    (e: unknown) => e instanceof DeploymentError && /serviceTask 'svc'.*no\.such\.Class/.test(e.message),
  );
});

test('versions: same XML is not redeployed, a changed file gets the next version, suspended definitions do not start', async () => {
  const v1 = bpmn('versioned', `<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />${seq('a', 's', 'e')}`, { versionTag: '1.0' });
  const [d1] = await f.engine.deploy(v1);
  const [again] = await f.engine.deploy(v1);
  assert.equal(again!.id, d1!.id);
  const [d2] = await f.engine.deploy(v1.replace('id="e"', 'id="e" name="End"'));
  assert.equal(d2!.version, 2);
  assert.equal(d2!.versionTag, '1.0');
  const [d3] = await f.engine.deploy(bpmn('versioned', `<bpmn:startEvent id="s" /><bpmn:task id="t" /><bpmn:endEvent id="e" />${seq('a', 's', 't')}${seq('b', 't', 'e')}`, { versionTag: '2.0' }));
  assert.equal(d3!.version, 3);
  const byTag = await f.engine.startProcessByKey('versioned', { versionTag: '1.0' });
  assert.equal(byTag.definitionId, d2!.id);
  const latest = await f.engine.startProcessByKey('versioned');
  assert.equal(latest.definitionId, d3!.id);
  await f.engine.suspendDefinition(d3!.id);
  await assert.rejects(f.engine.startProcessByKey('versioned'), /suspended/);
  await f.engine.activateDefinition(d3!.id);
  assert.equal((await f.engine.startProcessByKey('versioned')).state, 'completed');
});

test('exclusive gateway follows the true condition or the default flow', async () => {
  await f.engine.deploy(
    bpmn(
      'xor',
      `<bpmn:startEvent id="s" />
       <bpmn:exclusiveGateway id="gw" default="toLow" />
       <bpmn:task id="high" /><bpmn:task id="low" />
       <bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />
       ${seq('f0', 's', 'gw')}${seq('toHigh', 'gw', 'high', '${amount > 10}')}${seq('toLow', 'gw', 'low')}
       ${seq('f3', 'high', 'e1')}${seq('f4', 'low', 'e2')}`,
    ),
  );
  const a = await f.engine.startProcessByKey('xor', { variables: { amount: 50 } });
  const b = await f.engine.startProcessByKey('xor', { variables: { amount: 5 } });
  assert.ok((await completedActivities(f.engine, a.id)).includes('high'));
  assert.ok((await completedActivities(f.engine, b.id)).includes('low'));
  assert.equal(a.endActivityId, 'e1');
  assert.equal(b.endActivityId, 'e2');
});

test('parallel join waits for every incoming token, also when a branch loops', async () => {
  await f.engine.deploy(
    bpmn(
      'loopjoin',
      `<bpmn:startEvent id="s" />
       <bpmn:parallelGateway id="fork" />
       <bpmn:serviceTask id="inc" camunda:class="test.Increment" />
       <bpmn:exclusiveGateway id="again" default="done" />
       <bpmn:receiveTask id="wait" messageRef="Message_go" />
       <bpmn:parallelGateway id="join" />
       <bpmn:endEvent id="e" />
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'inc')}${seq('c', 'inc', 'again')}
       ${seq('loop', 'again', 'inc', '${counter &lt; 3}')}${seq('done', 'again', 'join')}
       ${seq('d', 'fork', 'wait')}${seq('g', 'wait', 'join')}${seq('h', 'join', 'e')}`,
      { messages: ['go'] },
    ),
  );
  const inst = await f.engine.startProcessByKey('loopjoin', { businessKey: 'lj' });
  assert.equal(inst.state, 'active');
  const execs = await f.engine.listExecutions(inst.id);
  assert.ok(execs.some((e) => e.activityId === 'join' && e.state === 'joining'));
  assert.equal((await f.engine.getVariables(inst.id)).counter, 3);
  await f.engine.correlateMessage('go', { businessKey: 'lj' });
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.state, 'completed');
  assert.equal((await completedActivities(f.engine, inst.id)).filter((x) => x === 'inc').length, 3);
});

test('inclusive gateway forks on every true condition and joins exactly those branches', async () => {
  await f.engine.deploy(
    bpmn(
      'inclusive',
      `<bpmn:startEvent id="s" />
       <bpmn:inclusiveGateway id="fork" />
       <bpmn:serviceTask id="a" camunda:class="test.Record" /><bpmn:userTask id="b" /><bpmn:serviceTask id="c" camunda:class="test.Record" />
       <bpmn:inclusiveGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('f0', 's', 'fork')}${seq('fa', 'fork', 'a', '${x > 0}')}${seq('fb', 'fork', 'b', '${x > 1}')}${seq('fc', 'fork', 'c', '${x > 2}')}
       ${seq('ja', 'a', 'join')}${seq('jb', 'b', 'join')}${seq('jc', 'c', 'join')}${seq('fe', 'join', 'e')}`,
    ),
  );
  const one = await f.engine.startProcessByKey('inclusive', { variables: { x: 1 } });
  assert.equal(one.state, 'completed');
  const two = await f.engine.startProcessByKey('inclusive', { variables: { x: 2 } });
  assert.equal(two.state, 'active'); // a done, waits for the user task b
  const [task] = await f.engine.listUserTasks({ instanceId: two.id });
  await f.engine.completeUserTask(task!.id);
  assert.equal((await f.engine.getInstance(two.id))?.state, 'completed');
  const acts = await completedActivities(f.engine, two.id);
  assert.ok(!acts.includes('c'));
  assert.equal(acts.filter((x) => x === 'join').length, 2);
});

test('user task: record with formKey, task listener on create, completion with variables', async () => {
  calls.length = 0;
  await f.engine.deploy(
    bpmn(
      'usertask',
      `<bpmn:startEvent id="s" />
       <bpmn:userTask id="approve" name="Approve" camunda:formKey="http://dsf.dev/fhir/Questionnaire/approve|1.0">
         <bpmn:extensionElements><camunda:taskListener class="test.Listener" event="create" /><camunda:taskListener class="test.Listener" event="complete" /></bpmn:extensionElements>
       </bpmn:userTask>
       <bpmn:exclusiveGateway id="gw" default="no" /><bpmn:endEvent id="yesEnd" /><bpmn:endEvent id="noEnd" />
       ${seq('a', 's', 'approve')}${seq('b', 'approve', 'gw')}${seq('yes', 'gw', 'yesEnd', '${approved}')}${seq('no', 'gw', 'noEnd')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('usertask', { businessKey: 'ut' });
  const tasks = await f.engine.listUserTasks({ instanceId: inst.id });
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0]!.formKey, 'http://dsf.dev/fhir/Questionnaire/approve|1.0');
  assert.equal(tasks[0]!.activityId, 'approve');
  assert.deepEqual(calls, ['listener:create:approve']);
  await f.engine.completeUserTask(tasks[0]!.id, { approved: true });
  assert.deepEqual(calls, ['listener:create:approve', 'listener:complete:approve']);
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.endActivityId, 'yesEnd');
  assert.equal((await f.engine.listUserTasks({ instanceId: inst.id })).length, 0);
});

test('execution listeners on start, end and take; inputOutput mapping', async () => {
  calls.length = 0;
  await f.engine.deploy(
    bpmn(
      'listeners',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="t" camunda:expression="\${execution.setVariable('seen', inner * 2)}">
         <bpmn:extensionElements>
           <camunda:executionListener class="test.Listener" event="start" />
           <camunda:executionListener class="test.Listener" event="end" />
           <camunda:inputOutput>
             <camunda:inputParameter name="inner">\${base + 1}</camunda:inputParameter>
             <camunda:outputParameter name="result">\${inner * 10}</camunda:outputParameter>
           </camunda:inputOutput>
         </bpmn:extensionElements>
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />
       ${seq('a', 's', 't')}
       <bpmn:sequenceFlow id="b" sourceRef="t" targetRef="e"><bpmn:extensionElements><camunda:executionListener class="test.Listener" event="take" /></bpmn:extensionElements></bpmn:sequenceFlow>`,
    ),
  );
  const inst = await f.engine.startProcessByKey('listeners', { variables: { base: 4 } });
  assert.equal(inst.state, 'completed');
  assert.deepEqual(calls, ['listener:start:t', 'listener:end:t', 'listener:take:t']);
  const vars = await f.engine.getVariables(inst.id);
  assert.equal(vars.result, 50);
  assert.equal(vars.seen, 10);
  assert.equal('inner' in vars, false);
});

test('asyncBefore makes a job; failures retry per failedJobRetryTimeCycle, then become an incident that can be retried', async () => {
  await f.engine.deploy(
    bpmn(
      'flaky',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="t" camunda:class="test.Flaky" camunda:asyncBefore="true">
         <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R2/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 't')}${seq('b', 't', 'e')}`,
    ),
  );
  failuresLeft = 5;
  const inst = await f.engine.startProcessByKey('flaky');
  assert.equal(inst.state, 'active');
  assert.equal(await f.engine.runDueJobs(), 1); // first failure; next try due in 5 s
  assert.equal(await f.engine.runDueJobs(), 0);
  f.clock.advance(5_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  const incidents = (await f.engine.listIncidents()).filter((i) => i.instanceId === inst.id);
  assert.equal(incidents.length, 1);
  assert.match(incidents[0]!.exception ?? '', /temporary outage/);
  failuresLeft = 0;
  await f.engine.retryIncident(incidents[0]!.jobId);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
});

test('asyncAfter commits the task before continuing', async () => {
  await f.engine.deploy(
    bpmn(
      'asyncafter',
      `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" camunda:class="test.Increment" camunda:asyncAfter="true" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 't')}${seq('b', 't', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('asyncafter');
  assert.equal(inst.state, 'active');
  assert.equal((await f.engine.getVariables(inst.id)).counter, 1);
  await f.engine.runDueJobs();
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
  assert.equal((await f.engine.listExecutions(inst.id)).length, 0); // runtime rows are gone after the end
  assert.equal((await f.engine.getVariables(inst.id)).counter, 1); // the end state stays queryable
});

test('a BpmnError from a delegate reaches the error boundary event; other errors reach the caller and roll back', async () => {
  await f.engine.deploy(
    bpmn(
      'errors',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="t" camunda:class="test.Reject" />
       <bpmn:boundaryEvent id="onReject" attachedToRef="t"><bpmn:errorEventDefinition errorRef="Err" /></bpmn:boundaryEvent>
       <bpmn:endEvent id="ok" /><bpmn:endEvent id="rejected" />
       ${seq('a', 's', 't')}${seq('b', 't', 'ok')}${seq('c', 'onReject', 'rejected')}`,
      { errors: [{ id: 'Err', code: 'rejected' }] },
    ),
  );
  const inst = await f.engine.startProcessByKey('errors');
  assert.equal(inst.endActivityId, 'rejected');
  const hist = await f.engine.activityHistory(inst.id);
  assert.equal(hist.find((h) => h.activityId === 't')?.outcome, 'error');

  await f.engine.deploy(bpmn('throws', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" camunda:class="test.Flaky" /><bpmn:endEvent id="e" />${seq('a', 's', 't')}${seq('b', 't', 'e')}`));
  failuresLeft = 1;
  const before = (await f.engine.listInstances({ definitionKey: 'throws' })).length;
  await assert.rejects(f.engine.startProcessByKey('throws'), /temporary outage/);
  assert.equal((await f.engine.listInstances({ definitionKey: 'throws' })).length, before);
});

test('terminate end event ends the whole instance including other tokens', async () => {
  await f.engine.deploy(
    bpmn(
      'terminate',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" /><bpmn:userTask id="never" /><bpmn:endEvent id="term"><bpmn:terminateEventDefinition /></bpmn:endEvent>
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'never')}${seq('c', 'fork', 'term')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('terminate');
  assert.equal(inst.state, 'completed');
  assert.equal(inst.outcome, 'terminated');
  assert.equal((await f.engine.listUserTasks({ instanceId: inst.id })).length, 0);
  assert.equal((await f.engine.activityHistory(inst.id)).find((h) => h.activityId === 'never')?.outcome, 'cancelled');
});
