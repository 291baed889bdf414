// The hello-world plugin on one site, through the plugin test kit: helloWorld greets in the log;
// helloUser waits for its QuestionnaireResponse, completes once it is answered and logs the answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QuestionnaireResponse, Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, waitFor, type TestNetwork } from '../../src/testkit/index.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/hello-world');

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({ sites: ['Test_DIC_1'], plugins: [PLUGIN] });
});

after(async () => {
  await network?.stop();
});

test('helloWorld: the draft Task with its example inputs starts the process, which greets the requester', async () => {
  const site = network.site('Test_DIC_1');
  const started = await site.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/helloWorld', '1.5', 'task-hello-world'));
  assert.equal((await site.waitForTask(started.id!, ['completed', 'failed'])).status, 'completed');
  assert.ok(site.bpe.log.some((l) => l.includes("Hello World from organization with identifier 'Test_DIC_1'")));
});

test('helloUser: the process waits for its QuestionnaireResponse and completes after it is answered', async () => {
  const site = network.site('Test_DIC_1');
  const started = await site.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/helloUser', '1.5', 'task-hello-user'));
  const open = await waitFor('the user task', async () => (await site.fhir.searchAll<QuestionnaireResponse>('QuestionnaireResponse', { status: 'in-progress' }))[0], 60_000);
  assert.equal(open.questionnaire, 'http://dsf.dev/fhir/Questionnaire/hello-user|1.5');
  assert.deepEqual(
    open.item?.map((i) => i.linkId),
    ['business-key', 'user-task-id', 'display-example', 'string-example', 'text-example', 'integer-example', 'decimal-example', 'date-example', 'time-example', 'date-time-example', 'url-example', 'reference-example', 'boolean-example'],
  );
  assert.equal((await site.fhir.read<Task>('Task', started.id!)).status, 'in-progress', 'waiting for the answer');

  const answered = await site.answerUserTask({ task: started, answers: { 'string-example': 'Hello from the test', 'text-example': 'two\nlines', 'integer-example': 42, 'boolean-example': true }, dropUnanswered: true });
  assert.equal(answered.status, 'completed');
  assert.equal((await site.waitForTask(started.id!, ['completed', 'failed'])).status, 'completed');
  assert.equal((await site.fhir.read<QuestionnaireResponse>('QuestionnaireResponse', answered.id!)).status, 'amended', 'the BPE took the answer');
  const logged = site.bpe.log.find((l) => l.includes('Completed QuestionnaireResponse'));
  assert.ok(logged, 'the process logged the answers');
  assert.match(logged, /string-example="Hello from the test", text-example="two\\nlines", integer-example=42, boolean-example=true$/);
});
