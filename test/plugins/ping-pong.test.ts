// The ping-pong plugin between three sites (FHIR server + BPE each, separate processes, mTLS), started
// through the plugin test kit: pongs received, a stopped target not reachable, a refusing target not
// allowed, a silent target missing, ping-autostart, and a BPE killed while its ping waits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivityDefinition, Task } from '@medplum/fhirtypes';
import { startTestNetwork, draftTaskIdentifier, type TestNetwork } from '../../src/testkit/index.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/ping-pong');
const PING_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/ping';
const START_PING = draftTaskIdentifier('http://dsf.dev/bpe/Process/ping', '1.0', 'task-start-ping');

interface Result {
  organization: string;
  status: string;
  error?: string;
}

/** The ping-status outputs of a start Task: per target organisation its status (and error text). */
function pingResults(task: Task, code = 'ping-status'): Result[] {
  return (task.output ?? [])
    .filter((o) => o.type?.coding?.some((c) => c.system === PING_SYSTEM && c.code === code))
    .map((o) => {
      const parts = o.extension?.find((e) => e.url === 'http://dsf.dev/fhir/StructureDefinition/extension-ping-status')?.extension ?? [];
      const error = parts.find((p) => p.url === 'error-message')?.valueString;
      return { organization: parts.find((p) => p.url === 'organization-identifier')!.valueIdentifier!.value!, status: o.valueCoding!.code!, ...(error !== undefined ? { error } : {}) };
    })
    .sort((a, b) => a.organization.localeCompare(b.organization));
}

const START_AUTOSTART = draftTaskIdentifier('http://dsf.dev/bpe/Process/pingAutostart', '1.0', 'task-start-ping-autostart');
const STOP_AUTOSTART = draftTaskIdentifier('http://dsf.dev/bpe/Process/pingAutostart', '1.0', 'task-stop-ping-autostart');

const pingInput = (code: string, value: string) => ({ type: { coding: [{ system: PING_SYSTEM, code }] }, valueString: value });
/** Pings only the endpoint of this site. */
const onlyTo = (network: TestNetwork, organization: string) =>
  pingInput('target-endpoints', `Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|${network.site(organization).endpointIdentifier}`);

const bpmnMessageInput = (task: Task, code: string) => task.input?.find((i) => i.type?.coding?.some((c) => c.system === 'http://dsf.dev/fhir/CodeSystem/bpmn-message' && c.code === code))?.valueString;
const businessKeyOf = (task: Task) => bpmnMessageInput(task, 'business-key');
const messageNameOf = (task: Task) => bpmnMessageInput(task, 'message-name');

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({
    sites: [
      // Waits long for pongs: the crash test restarts two BPEs while DIC 1's ping waits.
      { organization: 'Test_DIC_1', env: { DEV_DSF_BPE_PING_PONG_TIMEOUT: 'PT5M' } },
      'Test_DIC_2',
      // Gives up quickly (configuration, the plugin's #{dev.dsf.bpe.ping.pong.timeout} placeholder): the pong-missing test.
      { organization: 'Test_TTP', env: { DEV_DSF_BPE_PING_PONG_TIMEOUT: 'PT2S' } },
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  await network?.stop();
});

test('a ping from one site to the two others ends with pong-received for both', async () => {
  const dic1 = network.site('Test_DIC_1');
  const started = await dic1.startProcess(START_PING);
  const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  assert.deepEqual(pingResults(done), [
    { organization: 'Test_DIC_2', status: 'pong-received' },
    { organization: 'Test_TTP', status: 'pong-received' },
  ]);
  // At each target, the ping Task is completed with a pong-status output naming the pinging site.
  for (const target of ['Test_DIC_2', 'Test_TTP']) {
    const pingTask = (await network.site(target).fhir.searchAll<Task>('Task', { status: 'completed' })).find((t) => messageNameOf(t) === 'ping' && businessKeyOf(t) === businessKeyOf(done));
    assert.ok(pingTask, `the ping at ${target}`);
    assert.deepEqual(pingResults(pingTask, 'pong-status'), [{ organization: 'Test_DIC_1', status: 'pong-send' }]);
  }
});

test('a stopped target is not-reachable, with the reason; the other target answers', async () => {
  const dic1 = network.site('Test_DIC_1');
  const ttp = network.site('Test_TTP');
  await ttp.stop();
  try {
    const started = await dic1.startProcess(START_PING);
    const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
    assert.equal(done.status, 'completed');
    const [toDic2, toTtp] = pingResults(done);
    assert.deepEqual(toDic2, { organization: 'Test_DIC_2', status: 'pong-received' });
    assert.equal(toTtp!.organization, 'Test_TTP');
    assert.equal(toTtp!.status, 'not-reachable');
    assert.match(toTtp!.error!, new RegExp(`${ttp.fhirBaseUrl}/Task: not reachable \\(ECONNREFUSED\\)`));
  } finally {
    await ttp.start();
  }
});

test('a target whose ActivityDefinition refuses the requester is not-allowed (403 from its FHIR server)', async () => {
  const dic1 = network.site('Test_DIC_1');
  const dic2 = network.site('Test_DIC_2');
  const [original] = await dic2.fhir.searchAll<ActivityDefinition>('ActivityDefinition', { url: 'http://dsf.dev/bpe/Process/pong', version: '1.0' });
  assert.ok(original, 'the pong ActivityDefinition is deployed at DIC 2');
  // Only members with the role TTP in the parent organisation may ping DIC 2 now.
  const onlyTtp = structuredClone(original);
  const authorization = onlyTtp.extension!.find((e) => e.extension?.some((x) => x.url === 'message-name' && x.valueString === 'ping'))!;
  authorization.extension = authorization.extension!.filter((x) => x.url !== 'requester');
  authorization.extension.splice(2, 0, {
    url: 'requester',
    valueCoding: {
      extension: [
        {
          url: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-parent-organization-role',
          extension: [
            { url: 'parent-organization', valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: network.parentOrganization } },
            { url: 'organization-role', valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'TTP' } },
          ],
        },
      ],
      system: 'http://dsf.dev/fhir/CodeSystem/process-authorization',
      code: 'REMOTE_ROLE',
    },
  });
  await dic2.fhir.update(onlyTtp);
  try {
    const started = await dic1.startProcess(START_PING);
    const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
    assert.equal(done.status, 'completed');
    const [toDic2, toTtp] = pingResults(done);
    assert.equal(toDic2!.status, 'not-allowed');
    assert.match(toDic2!.error!, /HTTP 403/);
    assert.deepEqual(toTtp, { organization: 'Test_TTP', status: 'pong-received' });
    // Nothing reached DIC 2's BPE: the Task was refused before it was stored.
    const atDic2 = await dic2.fhir.searchAll<Task>('Task', { _sort: '-_lastUpdated', _count: 100 });
    assert.ok(atDic2.some((t) => messageNameOf(t) === 'ping'), 'earlier pings are stored at DIC 2');
    assert.deepEqual(atDic2.filter((t) => businessKeyOf(t) === businessKeyOf(done)), []);
  } finally {
    const current = (await dic2.fhir.searchAll<ActivityDefinition>('ActivityDefinition', { url: 'http://dsf.dev/bpe/Process/pong', version: '1.0' }))[0]!;
    await dic2.fhir.update({ ...original, meta: { ...original.meta, versionId: current.meta?.versionId } });
  }
});

test('a pong that never comes is pong-missing after the configured timeout', async () => {
  const ttp = network.site('Test_TTP');
  const dic2 = network.site('Test_DIC_2');
  // DIC 2's FHIR server takes the ping, but no BPE is there to answer it.
  await dic2.bpe.stop();
  try {
    const started = await ttp.startProcess(START_PING, { inputs: [onlyTo(network, 'Test_DIC_2')] });
    const done = await ttp.waitForTask(started.id!, ['completed', 'failed']);
    assert.equal(done.status, 'completed');
    assert.deepEqual(pingResults(done), [{ organization: 'Test_DIC_2', status: 'pong-missing' }]);
  } finally {
    await dic2.bpe.start();
  }
});

test('ping-autostart pings every interval until its stop Task arrives', async () => {
  const dic1 = network.site('Test_DIC_1');
  const autostart = await dic1.startProcess(START_AUTOSTART, { inputs: [pingInput('timer-interval', 'PT1S')] });
  const running = await dic1.waitForTask(autostart.id!, (t) => t.status !== 'requested');
  assert.equal(running.status, 'in-progress');
  const businessKey = businessKeyOf(running)!;
  // Each round sends a startPing Task (same business key) to the local FHIR server; count the finished pings.
  const pings = async () =>
    (await dic1.fhir.searchAll<Task>('Task', { status: 'completed' })).filter((t) => messageNameOf(t) === 'startPing' && businessKeyOf(t) === businessKey);
  const two = await waitForPings(pings, 2);
  for (const ping of two) assert.deepEqual(pingResults(ping).map((r) => r.status), ['pong-received', 'pong-received']);

  const stop = await dic1.startProcess(STOP_AUTOSTART);
  assert.equal((await dic1.waitForTask(stop.id!, ['completed', 'failed'])).status, 'completed');
  assert.equal((await dic1.waitForTask(autostart.id!, ['completed', 'failed'])).status, 'completed', 'the loop ended');
});

async function waitForPings(pings: () => Promise<Task[]>, n: number): Promise<Task[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await pings();
    if (found.length >= n) return found;
    if (Date.now() > deadline) assert.fail(`only ${found.length} of ${n} autostart pings finished`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('a BPE killed with SIGKILL while its ping waits finishes the ping after its restart', async () => {
  const dic1 = network.site('Test_DIC_1');
  const dic2 = network.site('Test_DIC_2');
  await dic2.bpe.stop();
  const started = await dic1.startProcess(START_PING, { inputs: [onlyTo(network, 'Test_DIC_2')] });
  // The ping is at DIC 2 (its BPE is down, so no pong yet): DIC 1's instance waits for the pong.
  const ping = await waitForTask(dic2, (t) => messageNameOf(t) === 'ping' && t.status === 'requested' && t.requester?.identifier?.value === 'Test_DIC_1');
  await dic1.bpe.kill();
  assert.equal(dic1.bpe.running, false);
  // DIC 2 answers while DIC 1's BPE is dead; the pong waits in DIC 1's FHIR server.
  await dic2.bpe.start();
  assert.equal((await dic2.waitForTask(ping.id!, ['completed', 'failed'])).status, 'completed');
  await waitForTask(dic1, (t) => messageNameOf(t) === 'pong' && t.status === 'requested' && businessKeyOf(t) === businessKeyOf(ping));
  await dic1.bpe.start();
  const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
  assert.equal(done.status, 'completed');
  assert.deepEqual(pingResults(done), [{ organization: 'Test_DIC_2', status: 'pong-received' }]);
});

async function waitForTask(site: ReturnType<TestNetwork['site']>, match: (t: Task) => boolean): Promise<Task> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = (await site.fhir.searchAll<Task>('Task', { _sort: '-_lastUpdated', _count: 50 })).find(match);
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`no such Task at ${site.organization}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
