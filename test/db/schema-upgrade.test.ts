// The schemas migrate forward: a database left at an older version (written as that version's code
// wrote it) is brought to the current one at start, and what it held stays usable with today's code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Group, Organization } from '@medplum/fhirtypes';
import { migrate } from '../../src/db/migrate.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../src/fhir/store/resource-store.ts';
import { executeSearch } from '../../src/fhir/store/search-query.ts';
import { searchParameter } from '../../src/fhir/search/parameters.ts';
import { ENGINE_MIGRATIONS } from '../../src/bpe/engine/schema.ts';
import { ProcessEngine } from '../../src/bpe/engine/engine.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const BASE = 'https://upgrade.test/fhir';
const ORG_SID = 'http://dsf.dev/sid/organization-identifier';
let fhirDb: TestDatabase;
let bpeDb: TestDatabase;

before(async () => {
  fhirDb = await createTestDatabase('dsf_upgrade_fhir');
  bpeDb = await createTestDatabase('dsf_upgrade_bpe');
});
after(async () => {
  await fhirDb?.drop();
  await bpeDb?.drop();
});

const versions = async (db: TestDatabase, component: string) =>
  (await db.pool.query('SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version', [component])).rows.map((r) => r.version as number);

test('FHIR store: a version 1 database gets versions 2 to 11; its resources are read, found and in the type and system history, new ones written', async () => {
  assert.deepEqual(await migrate(fhirDb.pool, 'fhir', FHIR_MIGRATIONS.slice(0, 1)), [1]);
  await migrate(fhirDb.pool, 'fhir-events', EVENT_MIGRATIONS);
  // A resource as version 1 stored it: its row (no size column yet) and its search index rows.
  const id = randomUUID();
  const organization: Organization = {
    resourceType: 'Organization',
    id,
    meta: { versionId: '1', lastUpdated: '2025-01-01T00:00:00.000Z' },
    identifier: [{ system: ORG_SID, value: 'old.test' }],
    active: true,
    name: 'Stored before the upgrade',
  };
  await fhirDb.pool.query('INSERT INTO resources (id, version, type, last_updated, current, resource) VALUES ($1, 1, $2, $3, true, $4)', [id, 'Organization', '2025-01-01T00:00:00Z', organization]);
  await fhirDb.pool.query("INSERT INTO search_index (resource_id, type, param, system, code) VALUES ($1, 'Organization', 'identifier', $2, 'old.test')", [id, ORG_SID]);

  assert.deepEqual(await migrate(fhirDb.pool, 'fhir', FHIR_MIGRATIONS), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(await versions(fhirDb, 'fhir'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(await migrate(fhirDb.pool, 'fhir', FHIR_MIGRATIONS), [], 'a second start applies nothing');

  const store = new ResourceStore(fhirDb.pool, BASE);
  assert.equal(((await store.read(fhirDb.pool, 'Organization', id)).resource as Organization).name, 'Stored before the upgrade');
  const found = await executeSearch(
    fhirDb.pool,
    { resourceType: 'Organization', filters: [{ code: 'identifier', def: searchParameter('Organization', 'identifier')!, values: [`${ORG_SID}|old.test`] }], sort: [], count: 10, page: 1, include: [], revinclude: [], warnings: [], canonicalParams: [] },
    BASE,
  );
  assert.deepEqual(found.matches.map((r) => r.id), [id]);
  // Version 11 reads a type's current versions through another index than its older ones.
  const typeHistory = await store.history(fhirDb.pool, { type: 'Organization', count: 10, offset: 0 });
  assert.deepEqual(typeHistory.entries.map((v) => `${v.type}/${v.id}/${v.version}`), [`Organization/${id}/1`]);
  const since = await store.history(fhirDb.pool, { since: new Date('2024-12-31T00:00:00Z'), count: 10, offset: 0 });
  assert.deepEqual(since.entries.map((v) => `${v.type}/${v.id}/${v.version}`), [`Organization/${id}/1`]);
  // Today's writes use the new columns (size from version 3).
  const created = await store.transaction((c) => store.create(c, { resourceType: 'Group', type: 'person', actual: true, quantity: 3 } as Group));
  const size = (await fhirDb.pool.query('SELECT size FROM resources WHERE id = $1', [created.resource.id])).rows[0].size;
  assert.ok(size > 0);
});

const OLD_PROCESS = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_old" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="old_process" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Wait"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Wait" />
    <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>`;

test('BPE engine: a version 1 database gets version 2; a definition deployed before runs with today’s engine', async () => {
  assert.deepEqual(await migrate(bpeDb.pool, 'bpe-engine', ENGINE_MIGRATIONS.slice(0, 1)), [1]);
  await bpeDb.pool.query("INSERT INTO bpmn_process_definition (id, key, version, bpmn_xml) VALUES ('old_process:1:before-upgrade', 'old_process', 1, $1)", [OLD_PROCESS]);

  const engine = new ProcessEngine({ pool: bpeDb.pool, delegates: new Map() });
  await engine.migrate();
  assert.deepEqual(await versions(bpeDb, 'bpe-engine'), [1, 2]);
  const [definition] = await engine.listDefinitions('old_process');
  assert.equal(definition?.id, 'old_process:1:before-upgrade');
  const instance = await engine.startProcessById(definition!.id);
  const [task] = await engine.listUserTasks({ instanceId: instance.id });
  await engine.completeUserTask(task!.id);
  assert.equal((await engine.getInstance(instance.id))?.state, 'completed');
});
