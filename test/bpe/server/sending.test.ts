// Messages between two sites over mTLS: A's process sends ping to B's FHIR server, B's BPE starts its
// process and answers pong to A, where the waiting instance continues. A refusal (403) and an
// unreachable server reach the process as distinct errors. A custom Task sender and the reference's
// business-key strategies (SAME, ALTERNATIVE, NEW) decide which key the other site sees and answers to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../src/common/polling.ts';
import { requestedTask, BPMN_MESSAGE, TEST_SYSTEM } from './bpe-support.ts';
import { startTwoSites, type TwoSites } from './two-sites.ts';

let sites: TwoSites;
before(async () => {
  sites = await startTwoSites();
});
after(() => sites.stop());

const output = (task: any, system: string, code: string): string | undefined =>
  task.output?.find((o: any) => o.type.coding.some((c: any) => c.system === system && c.code === code))?.valueString;
const inputOf = (task: any, system: string, code: string): string | undefined =>
  task.input?.find((o: any) => o.type.coding.some((c: any) => c.system === system && c.code === code))?.valueString;

async function runSend(inputs: Record<string, string>, businessKey: string): Promise<any> {
  const { a } = sites;
  const id = (await a.fhir.client.create(requestedTask({ process: 'send', message: 'send', requester: a.identifier, recipient: a.identifier, businessKey, inputs }))).id;
  return waitFor(`send Task ${id} settled`, async () => {
    const t = (await a.fhir.client.get(`/Task/${id}`)).json;
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, 20_000);
}

test('ping to the other site starts its process; its pong continues the waiting instance', async () => {
  const { a, b } = sites;
  const task = await runSend({ 'target-organization': b.identifier }, 'bk-ping-pong');
  assert.equal(task.status, 'completed', JSON.stringify(task.output));
  const result = output(task, TEST_SYSTEM, 'send-status') ?? '';
  assert.match(result, /^sent pong:[0-9a-f-]+$/);

  // B received a Task from A with the sender's contract (DefaultTaskSender), and completed it.
  const received = ((await b.fhir.client.get('/Task?_count=100')).json.entry ?? [])
    .map((e: any) => e.resource)
    .filter((t: any) => t.requester.identifier.value === a.identifier && inputOf(t, BPMN_MESSAGE, 'business-key') === 'bk-ping-pong');
  assert.equal(received.length, 1);
  const ping = received[0];
  assert.equal(ping.status, 'completed');
  assert.equal(ping.instantiatesCanonical, 'http://test.org/bpe/Process/receive|1.0');
  assert.deepEqual(ping.meta.profile, ['http://test.org/fhir/StructureDefinition/task-test|1.0']);
  assert.equal(ping.intent, 'order');
  assert.equal(ping.restriction.recipient[0].identifier.value, b.identifier);
  assert.equal(inputOf(ping, BPMN_MESSAGE, 'message-name'), 'ping');
  assert.equal(inputOf(ping, BPMN_MESSAGE, 'business-key'), 'bk-ping-pong');
  assert.equal(inputOf(ping, TEST_SYSTEM, 'record'), `to ${b.identifier}`, 'the extra input of the send activity arrived');
  assert.equal(output(ping, TEST_SYSTEM, 'record'), `to ${b.identifier}`);

  // The pong Task at A is the one the instance continued with.
  const pongId = result.slice('sent pong:'.length);
  const pong = (await a.fhir.client.get(`/Task/${pongId}`)).json;
  assert.equal(pong.status, 'completed');
  assert.equal(pong.requester.identifier.value, b.identifier);
  assert.equal(inputOf(pong, BPMN_MESSAGE, 'message-name'), 'pong');
  assert.equal(inputOf(pong, BPMN_MESSAGE, 'business-key'), 'bk-ping-pong');
});

test('a refusal by the other site (403) and an unreachable site are told apart', async () => {
  const { b, unreachable } = sites;
  // B refuses a Task whose recipient is not B: HTTP 403.
  const refused = await runSend({ 'target-organization': unreachable, 'target-url': b.fhir.baseUrl }, 'bk-refused');
  assert.equal(refused.status, 'completed');
  assert.equal(output(refused, TEST_SYSTEM, 'send-status'), 'not-allowed');
  // The third organisation's endpoint is a port nobody listens on.
  const unreached = await runSend({ 'target-organization': unreachable }, 'bk-unreachable');
  assert.equal(unreached.status, 'completed');
  assert.equal(output(unreached, TEST_SYSTEM, 'send-status'), 'not-reachable');
});

test('business-key strategies through a custom Task sender: ALTERNATIVE hides the key and the answer still continues the instance; NEW sends a fresh key nobody answers to', async () => {
  const { a, b } = sites;
  const receivedAtB = async (key: string) =>
    waitFor(`B received and completed the ping with business key ${key}`, async () => {
      const t = ((await b.fhir.client.get('/Task?_count=200')).json.entry ?? [])
        .map((e: any) => e.resource)
        .find((t: any) => t.requester.identifier.value === a.identifier && inputOf(t, BPMN_MESSAGE, 'business-key') === key);
      return t?.status === 'completed' ? t : undefined;
    }, 20_000);

  const alternative = await runSend({ 'target-organization': b.identifier, 'business-key-strategy': 'alternative' }, 'bk-alternative');
  assert.equal(alternative.status, 'completed', JSON.stringify(alternative.output));
  // The custom sender saw the key the strategy made: not the instance's own, and B got exactly that one.
  const sentKey = output(alternative, TEST_SYSTEM, 'sent-business-key') ?? '';
  assert.match(sentKey, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  await receivedAtB(sentKey);
  // B answered with the alternative key, and A's waiting instance continued with that pong.
  const result = output(alternative, TEST_SYSTEM, 'send-status') ?? '';
  assert.match(result, /^sent pong:[0-9a-f-]+$/);
  const pong = (await a.fhir.client.get(`/Task/${result.slice('sent pong:'.length)}`)).json;
  assert.equal(inputOf(pong, BPMN_MESSAGE, 'business-key'), sentKey);
  assert.equal(pong.status, 'completed');

  // NEW: B gets a fresh key; its pong carries that key, which no instance at A knows, so A keeps waiting.
  const id = (await a.fhir.client.create(requestedTask({ process: 'send', message: 'send', requester: a.identifier, recipient: a.identifier, businessKey: 'bk-new', inputs: { 'target-organization': b.identifier, 'business-key-strategy': 'new' } }))).id;
  const pings = await waitFor('B received a ping from the bk-new instance', async () => {
    const all = ((await b.fhir.client.get('/Task?_count=200')).json.entry ?? []).map((e: any) => e.resource);
    const fresh = all.filter(
      (t: any) => t.requester.identifier.value === a.identifier && inputOf(t, TEST_SYSTEM, 'record') === `to ${b.identifier}` && !['bk-ping-pong', 'bk-new', sentKey].includes(inputOf(t, BPMN_MESSAGE, 'business-key') ?? ''),
    );
    return fresh.length && fresh.every((t: any) => t.status === 'completed') ? fresh : undefined;
  }, 20_000);
  assert.equal(pings.length, 1);
  const newKey = inputOf(pings[0], BPMN_MESSAGE, 'business-key')!;
  assert.notEqual(newKey, 'bk-new');
  const pongAtA = await waitFor('the pong with the fresh key reached A and settled', async () => {
    const t = ((await a.fhir.client.get('/Task?_count=200')).json.entry ?? [])
      .map((e: any) => e.resource)
      .find((t: any) => inputOf(t, BPMN_MESSAGE, 'message-name') === 'pong' && inputOf(t, BPMN_MESSAGE, 'business-key') === newKey);
    return t && (t.status === 'completed' || t.status === 'failed') ? t : undefined;
  }, 20_000);
  assert.equal(pongAtA.status, 'failed', 'no instance waits for the fresh key');
  const start = (await a.fhir.client.get(`/Task/${id}`)).json;
  assert.equal(start.status, 'in-progress', 'the sending instance still waits for its pong');
});
