// The ping-pong plugin between three sites (FHIR server + BPE each, separate processes, mTLS), started
// through the plugin test kit: pongs received, a stopped target not reachable, a refusing target not
// allowed, a silent target missing, ping-autostart, and a BPE killed while its ping waits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { startTestNetwork, draftTaskIdentifier, type TestNetwork } from '../../src/plugin-api/testing/index.ts';

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

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({
    sites: ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'],
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
});
