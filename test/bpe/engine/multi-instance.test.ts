import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const seen: Array<{ item: unknown; loopCounter: unknown; local: unknown }> = [];
const delegates = new Map([
  [
    'test.Visit',
    fn((e) => {
      seen.push({ item: e.getVariable('target'), loopCounter: e.getVariableLocal('loopCounter'), local: e.getVariableLocal('target') });
      e.setVariableLocal('result', `done-${String(e.getVariable('target'))}`);
    }),
  ],
  ['test.SetCorrelationKey', () => ({ notify: async (e: import('../../../src/bpe/engine/delegate.ts').DelegateExecution) => e.setVariableLocal('correlationKey', `ck-${String(e.getVariable('target'))}`) })],
  ['test.Count', fn((e) => e.setVariable('received', Number(e.getVariable('received') ?? 0) + 1))],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

test('parallel multi-instance service task over camunda:collection with per-instance local variables', async () => {
  seen.length = 0;
  await f.engine.deploy(
    bpmn(
      'mi',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="visit" camunda:class="test.Visit">
         <bpmn:multiInstanceLoopCharacteristics camunda:collection="\${targets}" camunda:elementVariable="target" />
       </bpmn:serviceTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 'visit')}${seq('b', 'visit', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('mi', { variables: { targets: ['x', 'y', 'z'] } });
  assert.equal(inst.state, 'completed');
  assert.deepEqual(seen, [
    { item: 'x', loopCounter: 0, local: 'x' },
    { item: 'y', loopCounter: 1, local: 'y' },
    { item: 'z', loopCounter: 2, local: 'z' },
  ]);
  const vars = await f.engine.getVariables(inst.id);
  assert.equal('target' in vars, false); // element variables stay local to each instance
  assert.equal('result' in vars, false);
  assert.equal((await completedActivities(f.engine, inst.id)).filter((a) => a === 'visit').length, 4); // 3 instances + body
});

test('sequential multi-instance with loopCardinality and completionCondition', async () => {
  await f.engine.deploy(
    bpmn(
      'miseq',
      `<bpmn:startEvent id="s" />
       <bpmn:userTask id="step">
         <bpmn:multiInstanceLoopCharacteristics isSequential="true">
           <bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">\${5}</bpmn:loopCardinality>
           <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">\${nrOfCompletedInstances >= 2}</bpmn:completionCondition>
         </bpmn:multiInstanceLoopCharacteristics>
       </bpmn:userTask>
       <bpmn:endEvent id="e" />${seq('a', 's', 'step')}${seq('b', 'step', 'e')}`,
    ),
  );
  const inst = await f.engine.startProcessByKey('miseq');
  for (let i = 0; i < 2; i++) {
    const tasks = await f.engine.listUserTasks({ instanceId: inst.id });
    assert.equal(tasks.length, 1); // one at a time
    await f.engine.completeUserTask(tasks[0]!.id);
  }
  assert.equal((await f.engine.getInstance(inst.id))?.state, 'completed');
});

test('multi-instance sub-process over 100 elements, each waiting for its own message (correlation key)', async () => {
  await f.engine.deploy(
    bpmn(
      'mimsg',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="perTarget">
         <bpmn:extensionElements><camunda:executionListener class="test.SetCorrelationKey" event="start" /></bpmn:extensionElements>
         <bpmn:multiInstanceLoopCharacteristics camunda:collection="targets" camunda:elementVariable="target" />
         <bpmn:startEvent id="ps" />
         <bpmn:intermediateCatchEvent id="reply"><bpmn:messageEventDefinition messageRef="Message_reply" /></bpmn:intermediateCatchEvent>
         <bpmn:serviceTask id="count" camunda:class="test.Count" />
         <bpmn:endEvent id="pe" />
         ${seq('p1', 'ps', 'reply')}${seq('p2', 'reply', 'count')}${seq('p3', 'count', 'pe')}
       </bpmn:subProcess>
       <bpmn:endEvent id="e" />${seq('a', 's', 'perTarget')}${seq('b', 'perTarget', 'e')}`,
      { messages: ['reply'] },
    ),
  );
  const targets = Array.from({ length: 100 }, (_, i) => `t${i}`);
  const inst = await f.engine.startProcessByKey('mimsg', { businessKey: 'mi-100', variables: { targets } });
  const subs = await f.db.pool.query('SELECT count(*)::int AS n, count(DISTINCT correlation_key)::int AS keys FROM bpmn_event_subscription WHERE instance_id = $1', [inst.id]);
  assert.deepEqual(subs.rows[0], { n: 100, keys: 100 });
  for (const t of [...targets].reverse()) await f.engine.correlateMessage('reply', { businessKey: 'mi-100', correlationKey: `ck-${t}` });
  const done = await f.engine.getInstance(inst.id);
  assert.equal(done?.state, 'completed');
  assert.equal((await f.engine.getVariables(inst.id)).received, 100);
});
