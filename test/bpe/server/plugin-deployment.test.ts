// Deploying plugins: processes into the engine, FHIR resources into the local FHIR server as one
// batch; states ACTIVE/DRAFT/RETIRED/EXCLUDED; versions side by side; an unchanged restart writes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createBpeCore, type BpeCore } from '../../../src/bpe/bpe-core.ts';
import type { BpeConfig } from '../../../src/bpe/config.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { bpeConfig, recordingLogger } from './bpe-support.ts';
import { copyTestPlugin, type PluginCopy } from './plugin-fixture.ts';

let site: TestSite;
let db: TestDatabase;
let plugins: PluginCopy;
const cores: BpeCore[] = [];

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_deploy');
  plugins = copyTestPlugin('test-plugin-1.0');
});
after(async () => {
  for (const c of cores) c.close();
  await db.drop();
  await site.stop();
});

async function start(overrides: Partial<BpeConfig> = {}) {
  const { logger, lines } = recordingLogger();
  const core = await createBpeCore(bpeConfig(site.certs, 'Test_Organization', site.baseUrl, { pluginDirectory: plugins.directory, ...overrides }), db.pool, logger);
  cores.push(core);
  const result = await core.deployPlugins();
  return { core, result, lines };
}

async function activityDefinition(name: string, version: string): Promise<any> {
  const r = await site.client.get(`/ActivityDefinition?url=${encodeURIComponent(`http://test.org/bpe/Process/${name}`)}&version=${version}`);
  assert.equal(r.status, 200);
  return r.json.entry?.[0]?.resource;
}

async function historyCount(): Promise<number> {
  const r = await site.client.get('/_history?_summary=count');
  return r.json.total;
}

test('first start: processes deployed and active, FHIR resources created with status active', async () => {
  const { core, result } = await start();
  assert.deepEqual(result.refused, []);
  assert.deepEqual(result.states.map((s) => `${s.processId}|${s.version} ${s.oldState}->${s.newState}`), [
    'testorg_errors|1.0 NEW->ACTIVE',
    'testorg_hello|1.0 NEW->ACTIVE',
    'testorg_receive|1.0 NEW->ACTIVE',
    'testorg_send|1.0 NEW->ACTIVE',
    'testorg_user|1.0 NEW->ACTIVE',
    'testorg_wait|1.0 NEW->ACTIVE',
  ]);
  assert.equal(result.resources.created.length, 10, result.resources.created.join('\n'));
  const ad = await activityDefinition('hello', '1.0');
  assert.equal(ad.status, 'active');
  assert.equal(ad.date, '2025-01-15');
  const draftTask = await site.client.get(`/Task?identifier=${encodeURIComponent('http://dsf.dev/sid/task-identifier|http://test.org/bpe/Process/hello/1.0/task-hello')}`);
  assert.equal(draftTask.json.entry?.[0]?.resource?.status, 'draft');
  assert.equal(draftTask.json.entry[0].resource.requester.identifier.value, 'test-organization.test');
  const defs = await core.engine.listDefinitions();
  assert.equal(defs.length, 6);
  assert.ok(defs.every((d) => !d.suspended && d.versionTag === '1.0'));
});

test('a second start with nothing changed writes nothing', async () => {
  const before = await historyCount();
  const { result } = await start();
  assert.deepEqual(result.resources.created, []);
  assert.deepEqual(result.resources.updated, []);
  assert.deepEqual(result.resources.deleted, []);
  assert.equal(result.resources.unchanged.length, 10);
  assert.equal(await historyCount(), before, 'no new resource version in the FHIR server');
  assert.ok(result.states.every((s) => s.oldState === 'ACTIVE' && s.newState === 'ACTIVE'));
});

test('a resource deleted behind the BPE is created again', async () => {
  const cs = await site.client.get('/CodeSystem?url=http://test.org/fhir/CodeSystem/test');
  assert.equal((await site.client.delete(`/CodeSystem/${cs.json.entry[0].resource.id}`)).status, 200);
  const { result } = await start();
  assert.deepEqual(result.resources.created, ['CodeSystem?url=http%3A%2F%2Ftest.org%2Ffhir%2FCodeSystem%2Ftest&version=1.0']);
  assert.deepEqual(result.resources.updated, []);
});

test('retired: status retired in the FHIR server, definition suspended; excluded: resources deleted; back to active', async () => {
  const { core, result } = await start({ retired: [{ processId: 'testorg_hello', version: '1.0' }], excluded: [{ processId: 'testorg_user', version: '1.0' }] });
  const state = (id: string) => result.states.find((s) => s.processId === id)!;
  assert.equal(state('testorg_hello').newState, 'RETIRED');
  assert.equal(state('testorg_user').newState, 'EXCLUDED');
  assert.equal((await activityDefinition('hello', '1.0')).status, 'retired');
  assert.equal(await activityDefinition('user', '1.0'), undefined, 'the excluded process ActivityDefinition is deleted');
  const q = await site.client.get('/Questionnaire?url=http://test.org/fhir/Questionnaire/approve');
  assert.equal(q.json.total, 0, 'the Questionnaire only the excluded process used is deleted');
  const sd = await site.client.get('/StructureDefinition?url=http://test.org/fhir/StructureDefinition/task-test');
  assert.equal(sd.json.total, 1, 'the Task profile other processes use stays');
  const defs = await core.engine.listDefinitions();
  assert.ok(defs.find((d) => d.key === 'testorg_hello')!.suspended);
  assert.ok(defs.find((d) => d.key === 'testorg_user')!.suspended);
  assert.ok(!defs.find((d) => d.key === 'testorg_wait')!.suspended);
  await assert.rejects(core.engine.startProcessByMessage('hello', { definitionId: defs.find((d) => d.key === 'testorg_hello')!.id }), /suspended/);

  const back = await start();
  assert.equal(back.result.states.find((s) => s.processId === 'testorg_hello')!.oldState, 'RETIRED');
  assert.equal(back.result.states.find((s) => s.processId === 'testorg_hello')!.newState, 'ACTIVE');
  assert.equal((await activityDefinition('hello', '1.0')).status, 'active');
  assert.equal((await activityDefinition('user', '1.0')).status, 'active');
  assert.ok((await back.core.engine.listDefinitions()).every((d) => !d.suspended));
});

test('versions side by side; a removed version becomes EXCLUDED and its resources go; a draft plugin is rewritten on every start', async () => {
  const v11 = copyTestPlugin('test-plugin-1.1', plugins.directory);
  v11.edit('index.ts', (t) => t.replace("version: '1.0.0.0'", "version: '1.1.0.0'"));
  const both = await start();
  assert.deepEqual(both.result.refused, []);
  assert.equal(both.result.states.filter((s) => s.newState === 'ACTIVE').length, 12);
  assert.equal((await activityDefinition('hello', '1.0')).status, 'active');
  assert.equal((await activityDefinition('hello', '1.1')).status, 'active');
  const hello = (await both.core.engine.listDefinitions('testorg_hello')).map((d) => `${d.versionTag}:${d.suspended}`);
  assert.deepEqual(hello, ['1.0:false', '1.1:false']);

  rmSync(v11.folder, { recursive: true });
  const without = await start();
  assert.equal(without.result.states.find((s) => s.processId === 'testorg_hello' && s.version === '1.1')!.newState, 'EXCLUDED');
  assert.equal(await activityDefinition('hello', '1.1'), undefined);
  assert.equal((await activityDefinition('hello', '1.0')).status, 'active');
  assert.ok(without.result.resources.deleted.some((d) => d.startsWith('ActivityDefinition?url=http%3A%2F%2Ftest.org%2Fbpe%2FProcess%2Fhello&version=1.1')));

  const draft = copyTestPlugin('test-plugin-1.2-draft', plugins.directory);
  draft.edit('index.ts', (t) => t.replace("version: '1.0.0.0'", "version: '1.2.0.0-SNAPSHOT'"));
  const first = await start();
  assert.equal(first.result.states.find((s) => s.processId === 'testorg_hello' && s.version === '1.2')!.newState, 'DRAFT');
  assert.equal((await activityDefinition('hello', '1.2')).status, 'draft');
  const again = await start();
  assert.ok(again.result.resources.updated.some((u) => u.includes('version=1.2')), 'draft resources are written again');
  assert.ok(!again.result.resources.updated.some((u) => u.includes('version=1.0')), 'released ones are not');
  rmSync(join(plugins.directory, 'test-plugin-1.2-draft'), { recursive: true });
});
