import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpmnError } from '../../../src/bpe/engine/delegate.ts';
import { MessageCorrelationError } from '../../../src/bpe/engine/definitions.ts';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const sent: Array<Record<string, unknown>> = [];
const delegates = new Map([
  [
    'test.SendMessage',
    fn((e) => {
      sent.push({ activity: e.getCurrentActivityId(), businessKey: e.getBusinessKey(), ...e.fields, correlationKey: e.getVariable('correlationKey') ?? null });
    }),
  ],
  ['test.Fail', fn(() => { throw new BpmnError('broken'); })],
  ['test.Noop', fn(() => {})],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

test('message start event, intermediate message catch correlated by business key, receive task', async () => {
  await f.engine.deploy(
    bpmn(
      'msg',
      `<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="Message_begin" /></bpmn:startEvent>
       <bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="Message_next" /></bpmn:intermediateCatchEvent>
       <bpmn:receiveTask id="r" messageRef="Message_last" />
       <bpmn:endEvent id="e" />${seq('a', 's', 'c')}${seq('b', 'c', 'r')}${seq('d', 'r', 'e')}`,
      { messages: ['begin', 'next', 'last'] },
    ),
  );
  const inst = await f.engine.startProcessByMessage('begin', { businessKey: 'm-1', variables: { n: 1 } });
  assert.equal(inst.startActivityId, 's');
  await assert.rejects(f.engine.correlateMessage('next', { businessKey: 'other' }), (e: unknown) => e instanceof MessageCorrelationError && e.matches === 0);
  const r = await f.engine.correlateMessage('next', { businessKey: 'm-1', variables: { payload: { resourceType: 'Task', id: 't1', status: 'requested' } } });
  assert.equal(r.activityId, 'c');
  await f.engine.correlateMessage('last', { businessKey: 'm-1' });
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.state, 'completed');
  assert.deepEqual((await f.engine.getVariables(inst.id)).payload, { resourceType: 'Task', id: 't1', status: 'requested' });
  const stored = await f.db.pool.query("SELECT end_variables->'payload'->>'type' AS t FROM bpmn_process_instance WHERE id = $1", [inst.id]);
  assert.equal(stored.rows[0].t, 'fhir');
  await assert.rejects(f.engine.startProcessByMessage('unknown'), MessageCorrelationError);
});

test('message throw event and message end event call camunda:class with injected fields', async () => {
  sent.length = 0;
  await f.engine.deploy(
    bpmn(
      'sender',
      `<bpmn:startEvent id="s" />
       <bpmn:intermediateThrowEvent id="send">
         <bpmn:messageEventDefinition camunda:class="test.SendMessage">
           <bpmn:extensionElements>
             <camunda:field name="instantiatesCanonical"><camunda:string>http://dsf.dev/bpe/Process/pong|1.0</camunda:string></camunda:field>
             <camunda:field name="messageName"><camunda:string>ping</camunda:string></camunda:field>
             <camunda:field name="profile"><camunda:expression>\${'http://dsf.dev/fhir/StructureDefinition/task-'.concat(kind)}</camunda:expression></camunda:field>
           </bpmn:extensionElements>
         </bpmn:messageEventDefinition>
       </bpmn:intermediateThrowEvent>
       <bpmn:intermediateThrowEvent id="plain" />
       <bpmn:endEvent id="e">
         <bpmn:messageEventDefinition camunda:class="test.SendMessage">
           <bpmn:extensionElements><camunda:field name="messageName"><camunda:string>done</camunda:string></camunda:field></bpmn:extensionElements>
         </bpmn:messageEventDefinition>
       </bpmn:endEvent>
       ${seq('a', 's', 'send')}${seq('b', 'send', 'plain')}${seq('c', 'plain', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('sender', { businessKey: 'snd', variables: { kind: 'ping' } });
  assert.equal(inst.state, 'completed');
  assert.deepEqual(sent, [
    { activity: 'send', businessKey: 'snd', instantiatesCanonical: 'http://dsf.dev/bpe/Process/pong|1.0', messageName: 'ping', profile: 'http://dsf.dev/fhir/StructureDefinition/task-ping', correlationKey: null },
    { activity: 'e', businessKey: 'snd', messageName: 'done', correlationKey: null },
  ]);
});

test('signals: intermediate throw reaches catch events of other instances at once; engine.signal reaches boundary events', async () => {
  await f.engine.deploy(
    bpmn(
      'sigcatch',
      `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="c"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="e" />
       ${seq('a', 's', 'c')}${seq('b', 'c', 'e')}`,
      { signals: ['go'] },
    ),
  );
  await f.engine.deploy(
    bpmn(
      'sigthrow',
      `<bpmn:startEvent id="s" /><bpmn:intermediateThrowEvent id="t"><bpmn:signalEventDefinition signalRef="Signal_go" /></bpmn:intermediateThrowEvent><bpmn:endEvent id="e" />
       ${seq('a', 's', 't')}${seq('b', 't', 'e')}`,
      { signals: ['go'] },
    ),
  );
  await f.engine.deploy(
    bpmn(
      'sigboundary',
      `<bpmn:startEvent id="s" /><bpmn:userTask id="work" />
       <bpmn:boundaryEvent id="stop" attachedToRef="work"><bpmn:signalEventDefinition signalRef="Signal_stop" /></bpmn:boundaryEvent>
       <bpmn:endEvent id="normal" /><bpmn:endEvent id="stopped" />${seq('a', 's', 'work')}${seq('b', 'work', 'normal')}${seq('c', 'stop', 'stopped')}`,
      { signals: ['stop'] },
    ),
  );
  const waiting = [await f.engine.startProcessByKey('sigcatch'), await f.engine.startProcessByKey('sigcatch')];
  await f.engine.startProcessByKey('sigthrow');
  assert.equal(await f.engine.runDueJobs(), 0); // delivered within the throwing transaction, as in Camunda
  for (const w of waiting) assert.equal((await f.engine.getInstance(w.id))?.state, 'completed');
  const b = await f.engine.startProcessByKey('sigboundary');
  assert.equal(await f.engine.signal('stop'), 1);
  const done = await f.engine.getInstance(b.id);
  assert.equal(done?.endActivityId, 'stopped');
  assert.equal((await f.engine.listUserTasks({ instanceId: b.id })).length, 0);
});

test('timer catch event and timer start event fire by the injected clock', async () => {
  await f.engine.deploy(
    bpmn(
      'timercatch',
      `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">\${delay}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
       <bpmn:endEvent id="e" />${seq('a', 's', 'wait')}${seq('b', 'wait', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('timercatch', { variables: { delay: 'PT5M' } });
  f.clock.advance(4 * 60_000);
  assert.equal(await f.engine.runDueJobs(), 0);
  f.clock.advance(60_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');

  await f.engine.deploy(
    bpmn(
      'timerstart',
      `<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>
       <bpmn:endEvent id="e" />${seq('a', 's', 'e')}`,
    ),
  );
  for (let i = 0; i < 4; i++) {
    f.clock.advance(3_600_000);
    await f.engine.runDueJobs();
  }
  assert.equal((await f.engine.listInstances({ definitionKey: 'timerstart' })).length, 2);
});

test('interrupting timer boundary cancels the activity; non-interrupting timer and message boundaries add a token', async () => {
  await f.engine.deploy(
    bpmn(
      'boundaries',
      `<bpmn:startEvent id="s" /><bpmn:userTask id="work" />
       <bpmn:boundaryEvent id="timeout" attachedToRef="work"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
       <bpmn:boundaryEvent id="remind" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT10M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
       <bpmn:boundaryEvent id="note" attachedToRef="work" cancelActivity="false"><bpmn:messageEventDefinition messageRef="Message_note" /></bpmn:boundaryEvent>
       <bpmn:boundaryEvent id="abort" attachedToRef="work"><bpmn:messageEventDefinition messageRef="Message_abort" /></bpmn:boundaryEvent>
       <bpmn:serviceTask id="sendReminder" camunda:class="test.Noop" />
       <bpmn:endEvent id="done" /><bpmn:endEvent id="timedOut" /><bpmn:endEvent id="reminded" /><bpmn:endEvent id="noted" /><bpmn:endEvent id="aborted" />
       ${seq('a', 's', 'work')}${seq('b', 'work', 'done')}${seq('c', 'timeout', 'timedOut')}${seq('d', 'remind', 'sendReminder')}${seq('g', 'sendReminder', 'reminded')}
       ${seq('h', 'note', 'noted')}${seq('i', 'abort', 'aborted')}`,
      { messages: ['note', 'abort'] },
    ),
  );
  const one = await f.engine.startProcessByKey('boundaries', { businessKey: 'b1' });
  f.clock.advance(10 * 60_000);
  assert.equal(await f.engine.runDueJobs(), 1); // reminder; the task stays
  assert.ok((await completedActivities(f.engine, one.id)).includes('sendReminder'));
  assert.equal((await f.engine.listUserTasks({ instanceId: one.id })).length, 1);
  await f.engine.correlateMessage('note', { businessKey: 'b1' });
  assert.equal((await f.engine.listUserTasks({ instanceId: one.id })).length, 1);
  f.clock.advance(50 * 60_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  const ended = await f.engine.getInstance(one.id);
  assert.equal(ended?.endActivityId, 'timedOut');
  assert.equal((await f.engine.listUserTasks({ instanceId: one.id })).length, 0);
  assert.equal((await f.engine.activityHistory(one.id)).find((h) => h.activityId === 'work')?.outcome, 'interrupted');

  const two = await f.engine.startProcessByKey('boundaries', { businessKey: 'b2' });
  await f.engine.correlateMessage('abort', { businessKey: 'b2' });
  assert.equal((await f.engine.getInstance(two.id))?.endActivityId, 'aborted');
  f.clock.advance(2 * 3_600_000);
  assert.equal(await f.engine.runDueJobs(), 0); // its timers went with the activity
});

test('event-based gateway race between message and timer, followed by a parallel join', async () => {
  await f.engine.deploy(
    bpmn(
      'race',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:eventBasedGateway id="ebg" />
       <bpmn:intermediateCatchEvent id="pong"><bpmn:messageEventDefinition messageRef="Message_pong" /></bpmn:intermediateCatchEvent>
       <bpmn:intermediateCatchEvent id="timeout"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT20S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
       <bpmn:serviceTask id="other" camunda:class="test.Noop" />
       <bpmn:exclusiveGateway id="merge" />
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'ebg')}${seq('c', 'fork', 'other')}
       ${seq('d', 'ebg', 'pong')}${seq('g', 'ebg', 'timeout')}${seq('h', 'pong', 'merge')}${seq('i', 'timeout', 'merge')}
       ${seq('j', 'merge', 'join')}${seq('k', 'other', 'join')}${seq('l', 'join', 'e')}`,
      { messages: ['pong'] },
    ),
  );
  const byMessage = await f.engine.startProcessByKey('race', { businessKey: 'r1' });
  const byTimer = await f.engine.startProcessByKey('race', { businessKey: 'r2' });
  await f.engine.correlateMessage('pong', { businessKey: 'r1' });
  assert.equal((await f.engine.getInstance(byMessage.id))?.state, 'completed');
  f.clock.advance(20_000);
  assert.equal(await f.engine.runDueJobs(), 1); // r1's timer was removed with the gateway
  const t = await f.engine.getInstance(byTimer.id);
  assert.equal(t?.state, 'completed');
  assert.ok((await completedActivities(f.engine, byTimer.id)).includes('timeout'));
  assert.ok(!(await completedActivities(f.engine, byTimer.id)).includes('pong'));
  await assert.rejects(f.engine.correlateMessage('pong', { businessKey: 'r2' }), MessageCorrelationError);
});

test('embedded sub-process; an error end event inside it reaches the error boundary on the sub-process', async () => {
  await f.engine.deploy(
    bpmn(
      'subproc',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="sub">
         <bpmn:startEvent id="subStart" /><bpmn:exclusiveGateway id="check" default="ok" />
         <bpmn:endEvent id="subEnd" /><bpmn:endEvent id="fail"><bpmn:errorEventDefinition errorRef="Err_bad" /></bpmn:endEvent>
         <bpmn:serviceTask id="throwing" camunda:class="test.Fail" />
         ${seq('s1', 'subStart', 'check')}${seq('ok', 'check', 'subEnd')}${seq('bad', 'check', 'fail', '${mode == "end"}')}${seq('thr', 'check', 'throwing', '${mode == "delegate"}')}
         ${seq('s2', 'throwing', 'subEnd')}
       </bpmn:subProcess>
       <bpmn:boundaryEvent id="caught" attachedToRef="sub"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>
       <bpmn:endEvent id="fine" /><bpmn:endEvent id="handled" />
       ${seq('a', 's', 'sub')}${seq('b', 'sub', 'fine')}${seq('c', 'caught', 'handled')}`,
      { errors: [{ id: 'Err_bad', code: 'bad' }] },
    ),
  );
  assert.equal((await f.engine.startProcessByKey('subproc', { variables: { mode: 'none' } })).endActivityId, 'fine');
  const viaEnd = await f.engine.startProcessByKey('subproc', { variables: { mode: 'end' } });
  assert.equal(viaEnd.endActivityId, 'handled');
  assert.equal((await f.engine.activityHistory(viaEnd.id)).find((h) => h.activityId === 'sub')?.outcome, 'error');
  assert.equal((await f.engine.startProcessByKey('subproc', { variables: { mode: 'delegate' } })).endActivityId, 'handled');
});

test('call activity passes variables in and out and waits for the called instance', async () => {
  await f.engine.deploy(
    bpmn(
      'child',
      `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" camunda:expression="\${execution.setVariable('doubled', input * 2)}" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 't')}${seq('b', 't', 'e')}`,
    ),
  );
  await f.engine.deploy(
    bpmn(
      'parent',
      `<bpmn:startEvent id="s" />
       <bpmn:callActivity id="call" calledElement="child">
         <bpmn:extensionElements><camunda:in source="value" target="input" /><camunda:out source="doubled" target="result" /></bpmn:extensionElements>
       </bpmn:callActivity>
       <bpmn:endEvent id="e" />${seq('a', 's', 'call')}${seq('b', 'call', 'e')}`,
    ),
  );
  const p = await f.engine.startProcessByKey('parent', { variables: { value: 21 } });
  assert.equal(p.state, 'active');
  const [child] = await f.engine.listInstances({ definitionKey: 'child' });
  assert.equal(child?.state, 'completed');
  assert.equal(child?.superInstanceId, p.id);
  await f.engine.runDueJobs();
  assert.equal((await f.engine.getInstance(p.id))?.state, 'completed');
  assert.equal((await f.engine.getVariables(p.id)).result, 42);
});

test('correlation with a correlation key and the alternativeBusinessKey variable; several matches are an error', async () => {
  await f.engine.deploy(
    bpmn(
      'keyed',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:subProcess id="a"><bpmn:extensionElements><camunda:executionListener expression="\${execution.setVariableLocal('correlationKey', 'key-a')}" event="start" /></bpmn:extensionElements>
         <bpmn:startEvent id="as" /><bpmn:intermediateCatchEvent id="ac"><bpmn:messageEventDefinition messageRef="Message_reply" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="ae" />
         ${seq('a1', 'as', 'ac')}${seq('a2', 'ac', 'ae')}</bpmn:subProcess>
       <bpmn:subProcess id="b"><bpmn:extensionElements><camunda:executionListener expression="\${execution.setVariableLocal('correlationKey', 'key-b')}" event="start" /></bpmn:extensionElements>
         <bpmn:startEvent id="bs" /><bpmn:intermediateCatchEvent id="bc"><bpmn:messageEventDefinition messageRef="Message_reply" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="be" />
         ${seq('b1', 'bs', 'bc')}${seq('b2', 'bc', 'be')}</bpmn:subProcess>
       <bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />
       ${seq('f1', 's', 'fork')}${seq('f2', 'fork', 'a')}${seq('f3', 'fork', 'b')}${seq('f4', 'a', 'join')}${seq('f5', 'b', 'join')}${seq('f6', 'join', 'e')}`,
      { messages: ['reply'] },
    ),
  );
  const inst = await f.engine.startProcessByKey('keyed', { businessKey: 'k1', variables: { alternativeBusinessKey: 'alt-1' } });
  await assert.rejects(f.engine.correlateMessage('reply', { businessKey: 'k1' }), (e: unknown) => e instanceof MessageCorrelationError && e.matches === 2);
  const r = await f.engine.correlateMessage('reply', { businessKey: 'alt-1', correlationKey: 'key-b' });
  assert.equal(r.activityId, 'bc');
  await f.engine.correlateMessage('reply', { processVariables: { alternativeBusinessKey: 'alt-1' }, correlationKey: 'key-a' });
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
});
