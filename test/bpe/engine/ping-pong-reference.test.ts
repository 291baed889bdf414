// Our equivalents of the published ping-pong plugin's ping.bpmn, pong.bpmn and ping-autostart.bpmn
// (test/fixtures/bpmn/ping-pong): the same Camunda features, run with stand-in delegates.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BpmnError, type DelegateExecution } from '../../../src/bpe/engine/delegate.ts';
import { engineFixture, fn, type EngineFixture } from './harness.ts';

interface Target {
  organization: string;
  correlationKey: string;
}
interface Sent {
  messageName: unknown;
  instantiatesCanonical: unknown;
  businessKey: string | null;
  correlationKey: unknown;
  to: unknown;
}

const outbox: Sent[] = [];
const sendFailsFor = new Set<string>();
const unreachable = new Set<string>();
const send = (e: DelegateExecution, to: unknown, correlationKey: unknown = e.getVariable('correlationKey') ?? null): void =>
  void outbox.push({ messageName: e.fields.messageName, instantiatesCanonical: e.fields.instantiatesCanonical, businessKey: e.getBusinessKey(), correlationKey, to });
const result = (e: DelegateExecution, status: string): void => {
  const results = (e.getVariable('results') as string[] | undefined) ?? [];
  e.setVariable('results', [...results, `${(e.getVariable('target') as Target).organization}:${status}`]);
};

const delegates = new Map([
  [
    'dev.dsf.bpe.service.SelectPingTargets',
    fn((e) => e.setVariable('targets', { entries: (e.getVariable('remotes') as string[]).map((o) => ({ organization: o, correlationKey: `ck-${o}` })) })),
  ],
  ['dev.dsf.bpe.listener.SetCorrelationKeyListener', () => ({ notify: async (e: DelegateExecution) => e.setVariableLocal('correlationKey', (e.getVariable('target') as Target).correlationKey) })],
  [
    'dev.dsf.bpe.message.SendPing',
    fn((e) => {
      const target = e.getVariable('target') as Target;
      if (sendFailsFor.has(target.organization)) throw new Error(`cannot reach ${target.organization}`);
      if (unreachable.has(target.organization)) e.setVariableLocal('statusCode', 'not-reachable');
      else send(e, target.organization, target.correlationKey);
    }),
  ],
  ['dev.dsf.bpe.service.LogPong', fn((e) => result(e, 'pong'))],
  ['dev.dsf.bpe.service.LogNoResponse', fn((e) => result(e, 'no-response'))],
  ['dev.dsf.bpe.service.LogSendError', fn((e) => result(e, String(e.getVariable('statusCode'))))],
  ['dev.dsf.bpe.service.SaveResults', fn((e) => e.setVariable('saved', true))],
  ['dev.dsf.bpe.service.LogPing', fn(() => {})],
  [
    'dev.dsf.bpe.service.SelectPongTarget',
    fn((e) => {
      if (e.getVariable('requester') === 'blocked') throw new BpmnError('target_not_allowed');
    }),
  ],
  ['dev.dsf.bpe.message.SendPong', fn((e) => send(e, e.getVariable('requester')))],
  ['dev.dsf.bpe.service.SetTargetAndConfigureTimer', fn((e) => e.setVariable('timerInterval', 'PT10S'))],
  ['dev.dsf.bpe.message.SendStartPing', fn((e) => send(e, 'self'))],
]);

// As the plugin loader does: the plugin's version goes into the #{version} placeholders.
const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/bpmn/ping-pong/${name}`, import.meta.url), 'utf8').replaceAll('#{version}', '1.1');

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

async function jobsOf(instanceId: string): Promise<Array<{ activity_id: string; type: string; retries: number }>> {
  return (await f.db.pool.query('SELECT activity_id, type, retries FROM bpmn_job WHERE instance_id = $1 ORDER BY activity_id', [instanceId])).rows;
}

test('ping.bpmn, pong.bpmn and ping-autostart.bpmn deploy', async () => {
  const deployed = [
    ...(await f.engine.deploy(fixture('ping.bpmn'), { resourceName: 'bpe/ping.bpmn' })),
    ...(await f.engine.deploy(fixture('pong.bpmn'), { resourceName: 'bpe/pong.bpmn' })),
    ...(await f.engine.deploy(fixture('ping-autostart.bpmn'), { resourceName: 'bpe/ping-autostart.bpmn' })),
  ];
  assert.deepEqual(deployed.map((d) => [d.key, d.versionTag]), [['dsfdev_ping', '1.1'], ['dsfdev_pong', '1.1'], ['dsfdev_pingAutostart', '1.1']]);
});

test('ping: each target in its own job; a target whose send keeps failing becomes an incident while the others complete; retried, it times out', async () => {
  outbox.length = 0;
  sendFailsFor.clear();
  sendFailsFor.add('orgB');
  unreachable.clear();
  unreachable.add('orgC');
  const ping = await f.engine.startProcessByMessage('startPing', { businessKey: 'ping-1', variables: { remotes: ['orgA', 'orgB', 'orgC'] } });
  assert.equal(ping.state, 'active');
  assert.deepEqual((await jobsOf(ping.id)).map((j) => [j.activity_id, j.retries]), [['PingEachTarget', 3], ['PingEachTarget', 3], ['PingEachTarget', 3]]);
  assert.equal(outbox.length, 0);

  assert.equal(await f.engine.runDueJobs(), 4); // orgA sent, orgB failed, orgC not reachable + its asyncAfter end
  assert.deepEqual(outbox.map((s) => [s.to, s.messageName, s.correlationKey, s.instantiatesCanonical]), [['orgA', 'ping', 'ck-orgA', 'http://dsf.dev/bpe/Process/pong|1.1']]);
  assert.deepEqual((await f.engine.getVariables(ping.id)).results, ['orgC:not-reachable']);

  // orgA's site answers through the pong process
  const pong = await f.engine.startProcessByMessage('ping', { key: 'dsfdev_pong', businessKey: 'ping-1', variables: { requester: 'orgA', correlationKey: 'ck-orgA' } });
  assert.equal(pong.endActivityId, 'SendPong');
  const answer = outbox[1]!;
  assert.deepEqual([answer.to, answer.messageName, answer.instantiatesCanonical], ['orgA', 'pong', 'http://dsf.dev/bpe/Process/ping|1.1']);
  await f.engine.correlateMessage('pong', { businessKey: answer.businessKey!, correlationKey: String(answer.correlationKey) });
  assert.equal(await f.engine.runDueJobs(), 1); // orgA's end event, asyncAfter

  for (let attempt = 0; attempt < 2; attempt++) {
    f.clock.advance(5_000);
    assert.equal(await f.engine.runDueJobs(), 1);
  }
  const incidents = (await f.engine.listIncidents()).filter((i) => i.instanceId === ping.id);
  assert.equal(incidents.length, 1);
  assert.equal(incidents[0]!.activityId, 'PingEachTarget');
  assert.match(incidents[0]!.exception ?? '', /cannot reach orgB/);
  assert.equal((await f.engine.getInstance(ping.id))?.state, 'active');
  assert.deepEqual((await f.engine.getVariables(ping.id)).results, ['orgC:not-reachable', 'orgA:pong']);

  sendFailsFor.clear();
  await f.engine.retryIncident(incidents[0]!.jobId);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(outbox.at(-1)?.to, 'orgB');
  f.clock.advance(20_000);
  assert.equal(await f.engine.runDueJobs(), 2); // the pong timeout, then orgB's end event
  const done = await f.engine.getInstance(ping.id);
  assert.equal(done?.state, 'completed');
  assert.equal(done?.endActivityId, 'PingEnd');
  const vars = await f.engine.getVariables(ping.id);
  assert.deepEqual(vars.results, ['orgC:not-reachable', 'orgA:pong', 'orgB:no-response']);
  assert.equal(vars.saved, true);

  const refused = await f.engine.startProcessByMessage('ping', { key: 'dsfdev_pong', businessKey: 'ping-2', variables: { requester: 'blocked' } });
  assert.equal(refused.endActivityId, 'EndNotAllowed');
});

test('ping-autostart: a timer loop sending startPing; a new loop stops the running one by signal, the stop message ends it with a signal end event', async () => {
  outbox.length = 0;
  const first = await f.engine.startProcessByMessage('startPingAutostart', { businessKey: 'auto-1' });
  assert.equal(first.state, 'active');
  assert.deepEqual(outbox.map((s) => [s.messageName, s.instantiatesCanonical]), [['startPing', 'http://dsf.dev/bpe/Process/ping|1.1']]);
  assert.deepEqual(await jobsOf(first.id), [{ activity_id: 'NextPing', type: 'timer', retries: 3 }]);
  f.clock.advance(10_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(outbox.length, 2);

  const second = await f.engine.startProcessByMessage('startPingAutostart', { businessKey: 'auto-2' });
  // The first loop received the stop signal inside the second one's start: ended, its timer gone.
  const stopped = await f.engine.getInstance(first.id);
  assert.equal(stopped?.state, 'completed');
  assert.equal(stopped?.endActivityId, 'EndAutostart');
  assert.equal((await f.engine.getVariables(first.id)).stop, 'yes');
  assert.equal(second.state, 'active');
  assert.equal(outbox.length, 3);
  assert.deepEqual(await jobsOf(second.id), [{ activity_id: 'NextPing', type: 'timer', retries: 3 }]);

  const stop = await f.engine.startProcessByMessage('stopPingAutostart', { businessKey: 'auto-stop' });
  assert.equal(stop.state, 'completed');
  assert.equal(stop.endActivityId, 'StopLoops');
  assert.equal((await f.engine.getInstance(second.id))?.endActivityId, 'EndAutostart');
  assert.deepEqual(await jobsOf(second.id), []);
  f.clock.advance(60_000);
  assert.equal(await f.engine.runDueJobs(), 0);
  assert.equal(outbox.length, 3);
  assert.equal((await f.engine.listInstances({ definitionKey: 'dsfdev_pingAutostart', state: 'active' })).length, 0);
});
