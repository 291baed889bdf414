// The TypeScript port of the reference's API v1 test plugin (apiVersion 1, own v1-shaped files) on the
// environment of the v2 test plugin (as the reference's PluginV1IntegrationTest shares its set-up with
// the v2 one). Every test activity runs once; the test fails on any test-method-failed output and on
// fewer outputs than the activity declares.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestSite } from '../../support/fhir-site.ts';
import type { RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { DEPLOYMENT_LISTENER, TEST_METHODS } from '../../fixtures/plugins-v1/dsf-test-v1/index.ts';
import { runTestActivity, startDsfTestV2Environment, type DsfTestV2Environment } from '../plugin-v2/dsf-test-v2-environment.ts';

const PLUGINS = new URL('../../fixtures/plugins-v1/', import.meta.url).pathname;

let environment: DsfTestV2Environment;
let site: TestSite;
let bpe: RunningBpe;

before(async () => {
  environment = await startDsfTestV2Environment(PLUGINS);
  ({ site, bpe } = environment);
});

after(async () => {
  await environment?.stop();
});

test('the v1 plugin loads with its files converted, its resources are stored, its deployment listener heard dsfdev_test', async () => {
  assert.deepEqual(bpe.deployment.refused, [], bpe.deployment.refused.map((r) => r.problems.join('; ')).join('\n'));
  assert.deepEqual(bpe.deployment.plugins.map((p) => `${p.name}-${p.version}`), ['dsf-process-test-1.0.0.0']);
  assert.ok(environment.logLines.some((l) => l.includes('dsf-process-test-1.0.0.0 (API v1 files, converted)')), 'deployment log line');
  assert.deepEqual(DEPLOYMENT_LISTENER.ok, [true]);
  const ad = (await site.client.get('/ActivityDefinition?url=http://dsf.dev/bpe/Process/test&version=1.0')).json;
  assert.equal(ad.total, 1);
  assert.deepEqual(ad.entry[0].resource.meta.profile, ['http://dsf.dev/fhir/StructureDefinition/activity-definition']);
  const sd = (await site.client.get('/StructureDefinition?url=http://dsf.dev/fhir/StructureDefinition/task-test&version=1.0')).json;
  assert.equal(sd.entry[0].resource.baseDefinition, 'http://dsf.dev/fhir/StructureDefinition/task', 'task-base became task');
  const cs = (await site.client.get('/CodeSystem?url=http://dsf.dev/fhir/CodeSystem/test&version=1.0')).json;
  assert.equal(cs.entry[0].resource.concept.length, 3);
});

test('every test activity of the ported v1 test plugin: each declared test method succeeds', async () => {
  const summary: string[] = [];
  const problems: string[] = [];
  for (const [activity, declared] of Object.entries(TEST_METHODS)) {
    const run = await runTestActivity(site, activity, declared, '1.0');
    summary.push(run.summary);
    problems.push(...run.problems);
  }
  console.log(summary.join('\n'));
  const failures = environment.logLines.filter((l) => /\[failed\]|^(warn|error) /.test(l));
  assert.deepEqual(problems, [], failures.join('\n'));
  assert.deepEqual(Object.values(TEST_METHODS).map((m) => m.length), [12, 6, 32, 100, 3]);
});
