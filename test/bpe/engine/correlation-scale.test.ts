import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bpmn, engineFixture, seq, type EngineFixture } from './harness.ts';

let f: EngineFixture;
before(async () => {
  f = await engineFixture();
});
after(() => f.db.drop());

async function inParallel<T>(items: T[], workers: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

test('correlation by business key and correlation key across 1,000 waiting instances uses indexes', async () => {
  await f.engine.deploy(
    bpmn(
      'waiter',
      `<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="Message_open" /></bpmn:startEvent>
       <bpmn:subProcess id="scope">
         <bpmn:extensionElements><camunda:executionListener expression="\${execution.setVariableLocal('correlationKey', ck)}" event="start" /></bpmn:extensionElements>
         <bpmn:startEvent id="ss" /><bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Message_answer" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="se" />
         ${seq('s1', 'ss', 'wait')}${seq('s2', 'wait', 'se')}
       </bpmn:subProcess>
       <bpmn:endEvent id="e" />${seq('a', 's', 'scope')}${seq('b', 'scope', 'e')}`,
      { messages: ['open', 'answer'] },
    ),
  );
  const n = Array.from({ length: 1000 }, (_, i) => i);
  // every instance shares its correlation key with 9 others, and its business key with none
  await inParallel(n, 8, (i) => f.engine.startProcessByMessage('open', { businessKey: `bk-${i}`, variables: { ck: `ck-${i % 100}` } }));
  const waiting = (await f.db.pool.query("SELECT count(*)::int AS n FROM bpmn_event_subscription WHERE event_name = 'answer'")).rows[0].n;
  assert.equal(waiting, 1000);

  await f.db.pool.query('ANALYZE bpmn_event_subscription');
  const plan = (
    await f.db.pool.query(
      `EXPLAIN SELECT s.id FROM bpmn_event_subscription s WHERE s.event_type = 'message' AND s.event_name = 'answer'
       AND (s.business_key = 'bk-5' OR s.instance_id IN (SELECT id FROM bpmn_process_instance WHERE alternative_business_key = 'bk-5' AND state = 'active'))
       AND s.correlation_key = 'ck-5'`,
    )
  ).rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /Index/);
  assert.doesNotMatch(plan, /Seq Scan on bpmn_event_subscription/);

  await assert.rejects(f.engine.correlateMessage('answer', { correlationKey: 'ck-5' }), /more than one execution/);
  await assert.rejects(f.engine.correlateMessage('answer', { businessKey: 'bk-5', correlationKey: 'ck-6' }), /no execution waits/);
  const started = Date.now();
  await inParallel(n, 8, (i) => f.engine.correlateMessage('answer', { businessKey: `bk-${i}`, correlationKey: `ck-${i % 100}`, variables: { answered: i } }));
  const elapsed = Date.now() - started;
  const done = (await f.db.pool.query("SELECT count(*)::int AS n FROM bpmn_process_instance WHERE definition_key = 'waiter' AND state = 'completed'")).rows[0].n;
  assert.equal(done, 1000);
  assert.ok(elapsed < 30_000, `1,000 correlations took ${elapsed} ms`);
});
