// The engine API the BPE server builds on: versions side by side, the caller's SQL in the engine's
// transaction, built-in listeners, end variables, cancellation, instance look-ups.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DelegateExecution, FlowNode } from '../../../src/bpe/engine/index.ts';
import { ProcessEngine } from '../../../src/bpe/engine/index.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { bpmn, fn, seq } from './harness.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_engine_embed');
  await db.pool.query('CREATE TABLE caller_marks (id TEXT PRIMARY KEY)');
});
after(() => db.drop());

const waiting = (id: string, tag: string) =>
  bpmn(
    id,
    `<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="Message_go" /></bpmn:startEvent>
     <bpmn:serviceTask id="work" camunda:class="embed.Work" />
     <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Message_more" /></bpmn:intermediateCatchEvent>
     <bpmn:endEvent id="e" />${seq('f1', 's', 'work')}${seq('f2', 'work', 'wait')}${seq('f3', 'wait', 'e')}`,
    { messages: ['go', 'more'], versionTag: tag },
  );

test('versions side by side: redeploying an unchanged older version tag creates no new definition', async () => {
  const engine = new ProcessEngine({ pool: db.pool, delegates: new Map([['embed.Work', fn(() => {})]]) });
  await engine.migrate();
  const [v1] = await engine.deploy(waiting('embed_sideBySide', '1.0'));
  const [v2] = await engine.deploy(waiting('embed_sideBySide', '1.1'));
  const [again1] = await engine.deploy(waiting('embed_sideBySide', '1.0'));
  const [again2] = await engine.deploy(waiting('embed_sideBySide', '1.1'));
  assert.equal(again1!.id, v1!.id);
  assert.equal(again2!.id, v2!.id);
  assert.deepEqual((await engine.listDefinitions('embed_sideBySide')).map((d) => d.versionTag), ['1.0', '1.1']);
});

test('inTransaction runs in the command transaction: its failure rolls the start back, its writes commit with it', async () => {
  const engine = new ProcessEngine({ pool: db.pool, delegates: new Map([['embed.Work', fn(() => {})]]) });
  const [def] = await engine.deploy(waiting('embed_tx', '1.0'));
  await assert.rejects(
    engine.startProcessByMessage('go', {
      definitionId: def!.id,
      businessKey: 'tx-1',
      inTransaction: async (client) => {
        await client.query("INSERT INTO caller_marks VALUES ('tx-1')");
        throw new Error('caller refuses');
      },
    }),
    /caller refuses/,
  );
  assert.equal((await engine.listInstances({ businessKey: 'tx-1' })).length, 0);
  assert.equal((await db.pool.query("SELECT 1 FROM caller_marks WHERE id = 'tx-1'")).rowCount, 0);

  const inst = await engine.startProcessByMessage('go', {
    definitionId: def!.id,
    businessKey: 'tx-2',
    inTransaction: async (client) => {
      await client.query("INSERT INTO caller_marks VALUES ('tx-2')");
    },
  });
  assert.equal(inst.state, 'active');
  assert.equal((await db.pool.query("SELECT 1 FROM caller_marks WHERE id = 'tx-2'")).rowCount, 1);

  await assert.rejects(
    engine.correlateMessage('more', { businessKey: 'tx-2', inTransaction: async () => Promise.reject(new Error('not now')) }),
    /not now/,
  );
  assert.equal((await engine.getInstance(inst.id))?.state, 'active');
  await engine.correlateMessage('more', { businessKey: 'tx-2', inTransaction: async (c) => void (await c.query("INSERT INTO caller_marks VALUES ('tx-2-more')")) });
  assert.equal((await engine.getInstance(inst.id))?.state, 'completed');
  assert.equal((await db.pool.query("SELECT 1 FROM caller_marks WHERE id = 'tx-2-more'")).rowCount, 1);
});

test('built-in listeners run before the declared ones; the end hook sees the final variables', async () => {
  const seen: string[] = [];
  let endVariables: Record<string, unknown> | undefined;
  const engine = new ProcessEngine({
    pool: db.pool,
    delegates: new Map([
      ['embed.Work', fn((e) => e.setVariable('result', 42))],
      ['embed.Listener', () => ({ notify: async (e: DelegateExecution) => void seen.push(`declared:${e.eventName}:${e.currentActivityId}`) })],
    ]),
    hooks: {
      beforeExecutionListeners: (event, e: DelegateExecution, n: FlowNode) => {
        seen.push(`built-in:${event}:${n.id}`);
      },
      onInstanceEnd: (info) => {
        endVariables = { ...info.variables };
      },
    },
  });
  const [def] = await engine.deploy(
    bpmn(
      'embed_listeners',
      `<bpmn:startEvent id="s"><bpmn:extensionElements><camunda:executionListener class="embed.Listener" event="start" /></bpmn:extensionElements></bpmn:startEvent>
       <bpmn:serviceTask id="work" camunda:class="embed.Work" />
       <bpmn:endEvent id="e"><bpmn:extensionElements><camunda:executionListener class="embed.Listener" event="end" /></bpmn:extensionElements></bpmn:endEvent>
       ${seq('f1', 's', 'work')}${seq('f2', 'work', 'e')}`,
    ),
  );
  await engine.startProcessById(def!.id, { variables: { input: 'x' } });
  assert.deepEqual(seen, [
    'built-in:start:s',
    'declared:start:s',
    'built-in:end:s',
    'built-in:start:work',
    'built-in:end:work',
    'built-in:start:e',
    'built-in:end:e',
    'declared:end:e',
  ]);
  assert.deepEqual(endVariables, { input: 'x', result: 42 });
});

test('cancelInstance ends a waiting instance; alternative business keys are found by listInstances', async () => {
  const engine = new ProcessEngine({ pool: db.pool, delegates: new Map([['embed.Work', fn((e) => e.setVariable('alternativeBusinessKey', 'alt-7'))]]) });
  const [def] = await engine.deploy(waiting('embed_cancel', '1.0'));
  const inst = await engine.startProcessByMessage('go', { definitionId: def!.id, businessKey: 'bk-7' });
  const found = await engine.listInstances({ definitionId: def!.id, alternativeBusinessKey: 'alt-7', state: 'active' });
  assert.deepEqual(found.map((i) => i.id), [inst.id]);
  assert.equal(await engine.cancelInstance(inst.id), true);
  assert.equal((await engine.getInstance(inst.id))?.state, 'cancelled');
  assert.equal(await engine.cancelInstance(inst.id), false);
  await assert.rejects(engine.correlateMessage('more', { businessKey: 'bk-7' }), /no execution waits/);
});

test('afterUserTaskCreated runs after the declared create listeners, with the task id and formKey', async () => {
  const seen: string[] = [];
  const engine = new ProcessEngine({
    pool: db.pool,
    delegates: new Map([['embed.TaskListener', () => ({ notify: async (t: { id: string }) => void seen.push(`declared:${t.id}`) })]]),
    hooks: { afterUserTaskCreated: (task, node) => void seen.push(`hook:${task.id}:${task.formKey}:${node.id}`) },
  });
  const [def] = await engine.deploy(
    bpmn(
      'embed_userTask',
      `<bpmn:startEvent id="s" />
       <bpmn:userTask id="ask" camunda:formKey="http://example.org/fhir/Questionnaire/q|1.0">
         <bpmn:extensionElements><camunda:taskListener class="embed.TaskListener" event="create" /></bpmn:extensionElements>
       </bpmn:userTask>
       <bpmn:endEvent id="e" />${seq('f1', 's', 'ask')}${seq('f2', 'ask', 'e')}`,
    ),
  );
  const inst = await engine.startProcessById(def!.id);
  const [task] = await engine.listUserTasks({ instanceId: inst.id });
  assert.deepEqual(seen, [`declared:${task!.id}`, `hook:${task!.id}:http://example.org/fhir/Questionnaire/q|1.0:ask`]);
});

test('onJobFailure is awaited before the retries are counted down, and may cancel the instance', async () => {
  let engine: ProcessEngine;
  engine = new ProcessEngine({
    pool: db.pool,
    delegates: new Map([['embed.Fail', fn(() => Promise.reject(new Error('broken')))]]),
    jobs: { onJobFailure: async (_job, _e, instanceId) => void (instanceId && (await engine.cancelInstance(instanceId))) },
  });
  const [def] = await engine.deploy(
    bpmn('embed_jobFail', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" camunda:class="embed.Fail" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />${seq('f1', 's', 't')}${seq('f2', 't', 'e')}`),
  );
  const inst = await engine.startProcessById(def!.id);
  assert.equal(await engine.runDueJobs(), 1);
  assert.equal((await engine.getInstance(inst.id))?.state, 'cancelled');
  assert.deepEqual(await engine.listIncidents(), []);
});

test('getVariableInScopes: a variable of the same name in the instance and in a sub-process, outermost first', async () => {
  let seen: unknown[] = [];
  let shadowed: unknown;
  const delegates = new Map([
    ['embed.Outer', fn((e) => e.setVariable('tasks', ['outer']))],
    ['embed.Inner', fn((e) => e.setVariableLocal('tasks', ['inner']))],
    [
      'embed.Read',
      fn((e) => {
        seen = e.getVariableInScopes('tasks');
        shadowed = e.getVariable('tasks');
      }),
    ],
  ]);
  const engine = new ProcessEngine({ pool: db.pool, delegates });
  const [def] = await engine.deploy(
    bpmn(
      'embed_scopes',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="outer" camunda:class="embed.Outer" />
       <bpmn:subProcess id="sub">
         <bpmn:startEvent id="ss" />
         <bpmn:serviceTask id="inner" camunda:class="embed.Inner" />
         <bpmn:serviceTask id="read" camunda:class="embed.Read" />
         <bpmn:endEvent id="se" />${seq('g1', 'ss', 'inner')}${seq('g2', 'inner', 'read')}${seq('g3', 'read', 'se')}
       </bpmn:subProcess>
       <bpmn:endEvent id="e" />${seq('f1', 's', 'outer')}${seq('f2', 'outer', 'sub')}${seq('f3', 'sub', 'e')}`,
      { versionTag: '1.0' },
    ),
  );
  await engine.startProcessById(def!.id, { businessKey: 'scopes-1' });
  assert.deepEqual(seen, [['outer'], ['inner']]);
  assert.deepEqual(shadowed, ['inner']);
});
