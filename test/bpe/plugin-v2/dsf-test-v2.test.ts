// The TypeScript port of the reference's API v2 test plugin on a test network (as the reference's
// PluginV2IntegrationTest; the environment is in dsf-test-v2-environment.ts). Every test activity runs
// once; the test fails on any test-method-failed output and on fewer outputs than the activity declares.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningBpe } from '../../../src/bpe/bpe-server.ts';
import type { TestSite } from '../../support/fhir-site.ts';
import type { AsyncDataServer } from '../support/async-data-server.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { DEPLOYMENT_LISTENER, TEST_METHODS } from '../../fixtures/plugins-v2/dsf-test-v2/index.ts';
import { runTestActivity, startDsfTestV2Environment, type DsfTestV2Environment } from './dsf-test-v2-environment.ts';

const PLUGINS = fileURLToPath(new URL('../../fixtures/plugins-v2/', import.meta.url));

let environment: DsfTestV2Environment;
let site: TestSite;
let data: AsyncDataServer;
let bpe: RunningBpe;
let logLines: string[];
let dataLogDir: string;

before(async () => {
  environment = await startDsfTestV2Environment(PLUGINS);
  ({ site, data, bpe, logLines, dataLogDir } = environment);
});

after(async () => {
  await environment?.stop();
});

test('the plugin loads, its FHIR resources are stored (the modifier added an authorization), its deployment listener heard dsfdev_test', async () => {
  assert.deepEqual(bpe.deployment.refused, [], bpe.deployment.refused.map((r) => r.problems.join('; ')).join('\n'));
  assert.deepEqual(bpe.deployment.plugins.map((p) => p.name), ['dsf-process-test']);
  assert.deepEqual(DEPLOYMENT_LISTENER.ok, [true]);
  const ad = (await site.client.get('/ActivityDefinition?url=http://dsf.dev/bpe/Process/test&version=2.0')).json;
  assert.equal(ad.total, 1);
  const messages = ad.entry[0].resource.extension.map((e: any) => e.extension.find((x: any) => x.url === 'message-name').valueString);
  assert.deepEqual(messages, ['start', 'continue-send-test']);
  const cs = (await site.client.get('/CodeSystem?url=http://dsf.dev/fhir/CodeSystem/test&version=2.0')).json;
  assert.equal(cs.total, 1);
  assert.equal(cs.entry[0].resource.concept.length, 3);
  for (const path of ['/StructureDefinition?url=http://dsf.dev/fhir/StructureDefinition/task-test&version=2.0', '/ValueSet?url=http://dsf.dev/fhir/ValueSet/test&version=2.0', '/Questionnaire?url=http://dsf.dev/fhir/Questionnaire/test&version=2.0']) {
    assert.equal((await site.client.get(`${path}&_summary=count`)).json.total, 1, path);
  }
  await waitFor('the start-up connection test', () => logLines.some((l) => l.includes("'dsf-fhir-server' [OK]")), 20_000);
});

test('every test activity of the ported test plugin: each declared test method succeeds', async () => {
  const summary: string[] = [];
  const problems: string[] = [];
  for (const [activity, declared] of Object.entries(TEST_METHODS)) {
    const run = await runTestActivity(site, activity, declared);
    summary.push(run.summary);
    problems.push(...run.problems);
  }
  console.log(summary.join('\n'));
  // The BPE's account of what failed, to read beside the problems.
  const failures = logLines.filter((l) => /\[failed\]|^(warn|error) /.test(l));
  assert.deepEqual(problems, [], failures.join('\n'));
  assert.equal(Object.keys(TEST_METHODS).length, 25);
});

test('the data logger wrote what DataLoggerTest logged', () => {
  const file = readFileSync(join(dataLogDir, 'bpe-data.log'), 'utf8');
  assert.match(file, /Test Patient: \{"resourceType":"Patient","name":\[\{"text":"Test Patient"\}\]\}/);
  assert.match(file, /Test Object: "?Test String Object"?/);
});

test('the requests of DsfClientTest reached the asynchronous data server as the reference expects', () => {
  const seen = data.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
  assert.equal(seen.filter((s) => s === 'GET /Patient').length, 4, 'four asynchronous searches');
  assert.equal(seen.filter((s) => s === 'POST /DiagnosticReport/$test').length, 1);
  assert.equal(seen.filter((s) => s.startsWith('GET /Observation')).length, 6, 'one read and five retries');
});
