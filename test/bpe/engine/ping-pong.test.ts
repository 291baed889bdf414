import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BpmnError, type DelegateExecution } from '../../../src/bpe/engine/delegate.ts';
import { engineFixture, fn, type EngineFixture } from './harness.ts';

interface Sent {
  messageName: unknown;
  instantiatesCanonical: unknown;
  profile: unknown;
  businessKey: string | null;
  correlationKey: unknown;
  recipient: unknown;
}

const outbox: Sent[] = [];
const send = (e: DelegateExecution, recipient: unknown): void => {
  outbox.push({
    messageName: e.fields.messageName,
    instantiatesCanonical: e.fields.instantiatesCanonical,
    profile: e.fields.profile,
    businessKey: e.getBusinessKey(),
    correlationKey: e.getVariable('correlationKey'),
    recipient,
  });
};
const addResult = (e: DelegateExecution, status: string): void => {
  const results = (e.getVariable('results') as Array<{ target: string; status: string }> | undefined) ?? [];
  e.setVariable('results', [...results, { target: (e.getVariable('target') as { organization: string }).organization, status }]);
};

const delegates = new Map([
  ['dev.dsf.bpe.service.SelectPingTargets', fn((e) => e.setVariable('targets', { entries: (e.getVariable('remotes') as string[]).map((o) => ({ organization: o })) }))],
  [
    'dev.dsf.bpe.listener.SetCorrelationKeyListener',
    () => ({ notify: async (e: DelegateExecution) => e.setVariableLocal('correlationKey', `ck-${(e.getVariable('target') as { organization: string }).organization}`) }),
  ],
  ['dev.dsf.bpe.message.SendPing', fn((e) => send(e, (e.getVariable('target') as { organization: string }).organization))],
  ['dev.dsf.bpe.service.LogPong', fn((e) => addResult(e, 'pong-received'))],
  ['dev.dsf.bpe.service.LogNoResponse', fn((e) => addResult(e, 'pong-missing'))],
  ['dev.dsf.bpe.service.SavePingResults', fn((e) => e.setVariable('saved', true))],
  ['dev.dsf.bpe.service.LogPing', fn((e) => e.setVariable('logged', e.getVariable('requester')))],
  [
    'dev.dsf.bpe.service.SelectPongTarget',
    fn((e) => {
      if (e.getVariable('requester') === 'orgC') throw new BpmnError('target-not-allowed');
    }),
  ],
  ['dev.dsf.bpe.message.SendPong', fn((e) => send(e, e.getVariable('requester')))],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/bpmn/${name}`, import.meta.url), 'utf8');

test('DSF-style ping and pong processes run against each other: pongs received, a missing pong times out after PT20S', async () => {
  const [ping] = await f.engine.deploy(fixture('dsfdev_ping.bpmn'), { resourceName: 'bpe/ping.bpmn' });
  const [pong] = await f.engine.deploy(fixture('dsfdev_pong.bpmn'), { resourceName: 'bpe/pong.bpmn' });
  assert.equal(ping!.key, 'dsfdev_ping');
  assert.equal(ping!.versionTag, '1.0.1.0');
  assert.equal(pong!.key, 'dsfdev_pong');

  const instance = await f.engine.startProcessByMessage('startPing', { businessKey: 'ping-bk', variables: { remotes: ['orgA', 'orgB', 'orgC'] } });
  assert.equal(instance.state, 'active');
  const pings = outbox.splice(0);
  assert.equal(pings.length, 3);
  assert.deepEqual(pings[0], {
    messageName: 'ping',
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/pong|1.0',
    profile: 'http://dsf.dev/fhir/StructureDefinition/task-ping|1.0',
    businessKey: 'ping-bk',
    correlationKey: 'ck-orgA',
    recipient: 'orgA',
  });

  // The remote sites: each ping starts a pong instance, which answers (or refuses orgC).
  for (const p of pings) {
    const pongInstance = await f.engine.startProcessByMessage('ping', {
      key: 'dsfdev_pong',
      businessKey: p.businessKey,
      variables: { correlationKey: p.correlationKey, requester: p.recipient },
    });
    assert.equal(pongInstance.state, 'completed');
    assert.equal(pongInstance.endActivityId, p.recipient === 'orgC' ? 'EndNotAllowed' : 'SendPong');
  }
  const pongs = outbox.splice(0);
  assert.deepEqual(pongs.map((p) => [p.messageName, p.correlationKey, p.instantiatesCanonical]), [
    ['pong', 'ck-orgA', 'http://dsf.dev/bpe/Process/ping|1.0'],
    ['pong', 'ck-orgB', 'http://dsf.dev/bpe/Process/ping|1.0'],
  ]);
  for (const p of pongs) await f.engine.correlateMessage('pong', { businessKey: p.businessKey!, correlationKey: String(p.correlationKey) });
  assert.equal((await f.engine.getInstance(instance.id))?.state, 'active'); // still waiting for orgC

  f.clock.advance(19_000);
  assert.equal(await f.engine.runDueJobs(), 0);
  f.clock.advance(1_000);
  assert.equal(await f.engine.runDueJobs(), 1);
  const done = await f.engine.getInstance(instance.id);
  assert.equal(done?.state, 'completed');
  assert.equal(done?.endActivityId, 'EndPing');
  const vars = await f.engine.getVariables(instance.id);
  assert.equal(vars.saved, true);
  assert.deepEqual(vars.results, [
    { target: 'orgA', status: 'pong-received' },
    { target: 'orgB', status: 'pong-received' },
    { target: 'orgC', status: 'pong-missing' },
  ]);
});
