// The plugins shipped in plugins/ pass the BPE's checks (the reference's rules) and load with their
// processes; the binding rule follows the reference: version-pinned bindings to the DSF core terminology
// are refused, a plugin's own ValueSets may be bound with their version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { loadPlugins } from '../../src/bpe/plugins/plugin-loader.ts';
import { checkResource } from '../../src/bpe/plugins/resource-checks.ts';

const PLUGINS = join(dirname(fileURLToPath(import.meta.url)), '../../plugins');

test('ping-pong, hello-world and allow-list load with the reference processes, ids and versions; feasibility and data-sharing with their own', async () => {
  const result = await loadPlugins([PLUGINS], { organizationIdentifier: 'Test_DIC_1', env: {} });
  assert.deepEqual(result.refused, []);
  const loaded = Object.fromEntries(result.plugins.map((p) => [p.name, p.processes.map((x) => `${x.processId}|${x.version}`).sort()]));
  assert.deepEqual(loaded, {
    'dsf-process-allow-list': ['dsfdev_downloadAllowList|1.0', 'dsfdev_updateAllowList|1.0'],
    'dsf-process-hello-world': ['dsfdev_helloUser|1.5', 'dsfdev_helloWorld|1.5'],
    'dsf-process-ping-pong': ['dsfdev_pingAutostart|1.0', 'dsfdev_ping|1.0', 'dsfdev_pong|1.0'],
    'dsf-ts-process-feasibility': ['dsf-tsdev_feasibilityExecute|0.1', 'dsf-tsdev_feasibilityRequest|0.1'],
    'dsf-ts-process-data-sharing': ['dsf-tsdev_dataSharingExecute|0.1', 'dsf-tsdev_dataSharingMerge|0.1', 'dsf-tsdev_dataSharingRequest|0.1', 'dsf-tsdev_recordLinkage|0.1'],
  });
});

test('the pong timeout is a placeholder: PT20S by default, the environment shortens it', async () => {
  const timer = async (env: Record<string, string>) => {
    const { plugins } = await loadPlugins([PLUGINS], { organizationIdentifier: 'Test_DIC_1', env });
    const ping = plugins.find((p) => p.name === 'dsf-process-ping-pong')!.processes.find((p) => p.processId === 'dsfdev_ping')!;
    return /<bpmn:timeDuration[^>]*>([^<]*)</.exec(ping.xml)?.[1];
  };
  assert.equal(await timer({}), 'PT20S');
  assert.equal(await timer({ DEV_DSF_BPE_PING_PONG_TIMEOUT: 'PT3S' }), 'PT3S');
});

test('StructureDefinition bindings: a plugin ValueSet with version passes, DSF core terminology with version is refused', () => {
  const sd = (valueSet: string) =>
    ({
      resourceType: 'StructureDefinition',
      meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/structure-definition'] },
      url: 'http://example.org/fhir/StructureDefinition/task-x',
      version: '1.0',
      baseDefinition: 'http://dsf.dev/fhir/StructureDefinition/task',
      differential: { element: [{ id: 'Task.input.type', path: 'Task.input.type', binding: { strength: 'required', valueSet } }] },
    }) as unknown as Resource;
  assert.deepEqual(checkResource(sd('http://dsf.dev/fhir/ValueSet/ping|1.0'), '1.0', 'Test_DIC_1'), []);
  assert.deepEqual(checkResource(sd('http://dsf.dev/fhir/CodeSystem/bpmn-message|1.0.0'), '1.0', 'Test_DIC_1'), [
    'StructureDefinition has DSF ValueSet bindings with version: http://dsf.dev/fhir/CodeSystem/bpmn-message|1.0.0',
  ]);
});
