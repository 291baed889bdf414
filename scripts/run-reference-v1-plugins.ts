// Runs the reference's published API v1 process plugins' own BPMN and FHIR files, unchanged, on a local
// network of three sites, and pings between sites that run those files and a site that runs our plugins:
//
//   Test_DIC_1, Test_TTP: the reference's files of dsf-process-ping-pong 1.0.1.0 and
//                         dsf-process-hello-world 1.5.0.0 (apiVersion 1), with our activities mapped to
//                         their camunda:class names
//   Test_DIC_2:           our plugins/ping-pong and plugins/hello-world
//
// Usage (a developer who has the reference's repositories; nothing is copied into this repository):
//   npx tsx scripts/run-reference-v1-plugins.ts --ping-pong <path> --hello-world <path> [--keep]
// Each <path> is a git repository of the plugin (bare or not; read at tag v1.0.1.0 / v1.5.0.0, change
// with --ping-pong-ref / --hello-world-ref), a source folder with src/main/resources, or an unpacked
// plugin jar (bpe/ and fhir/ at its top). PostgreSQL: DSF_TEST_DATABASE_URL, else embedded.
// --keep leaves the scratch plugin folders in place (their path is printed). Exit code 0 when every
// check passed. Not part of npm test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ActivityDefinition, QuestionnaireResponse, StructureDefinition, Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, waitFor, type TestNetwork, type TestSite } from '../src/testkit/index.ts';
import { CheckList, importUrl, readReferenceFiles, ROOT, writeScratchPlugin as writePluginFolder } from './reference-plugin-files.ts';

interface ReferencePlugin {
  folder: string;
  name: string;
  version: string;
  releaseDate: string;
  /** Our plugin whose activity map (same camunda:class names) runs the reference's BPMN. */
  ours: string;
  processModels: string[];
  /** The reference definition's FHIR resources per process id (its file names). */
  fhirResources: Record<string, string[]>;
}

const PING_PONG: ReferencePlugin = (() => {
  const f = (kind: string, name: string) => `fhir/${kind}/dsf-${name}.xml`;
  const [aPing, aPingAutostart, aPong] = ['ping', 'ping-autostart', 'pong'].map((n) => f('ActivityDefinition', n)) as [string, string, string];
  const [cPing, cPingStatus] = ['ping', 'ping-status'].map((n) => f('CodeSystem', n)) as [string, string];
  const [sPingStatus, sPing, sPong, sStartPing, sStartAuto, sStopAuto] = ['extension-ping-status', 'task-ping', 'task-pong', 'task-start-ping', 'task-start-ping-autostart', 'task-stop-ping-autostart'].map((n) => f('StructureDefinition', n)) as [string, string, string, string, string, string];
  const [tStartPing, tStartAuto, tStopAuto] = ['task-start-ping', 'task-start-ping-autostart', 'task-stop-ping-autostart'].map((n) => f('Task', n)) as [string, string, string];
  const [vPing, vPingStatus, vPongStatus] = ['ping', 'ping-status', 'pong-status'].map((n) => f('ValueSet', n)) as [string, string, string];
  return {
    folder: 'ref-ping-pong',
    name: 'dsf-process-ping-pong',
    version: '1.0.1.0',
    releaseDate: '2023-09-12',
    ours: join(ROOT, 'plugins/ping-pong'),
    processModels: ['bpe/ping-autostart.bpmn', 'bpe/ping.bpmn', 'bpe/pong.bpmn'],
    fhirResources: {
      dsfdev_ping: [aPing, cPing, cPingStatus, sPingStatus, sStartPing, sPong, tStartPing, vPing, vPingStatus],
      dsfdev_pingAutostart: [aPingAutostart, cPing, sStartAuto, sStopAuto, tStartAuto, tStopAuto, vPing],
      dsfdev_pong: [aPong, cPing, cPingStatus, sPingStatus, sPing, vPing, vPongStatus],
    },
  };
})();

const HELLO_WORLD: ReferencePlugin = {
  folder: 'ref-hello-world',
  name: 'dsf-process-hello-world',
  version: '1.5.0.0',
  releaseDate: '2024-02-21',
  ours: join(ROOT, 'plugins/hello-world'),
  processModels: ['bpe/hello-world.bpmn', 'bpe/hello-user.bpmn'],
  fhirResources: {
    dsfdev_helloUser: ['fhir/ActivityDefinition/dsf-hello-user.xml', 'fhir/Questionnaire/dsf-hello-user.xml', 'fhir/StructureDefinition/dsf-task-hello-user.xml', 'fhir/Task/dsf-task-hello-user.xml'],
    dsfdev_helloWorld: [
      'fhir/ActivityDefinition/dsf-hello-world.xml',
      'fhir/CodeSystem/dsf-hello-world.xml',
      'fhir/StructureDefinition/dsf-task-hello-world.xml',
      'fhir/Task/dsf-task-hello-world.xml',
      'fhir/ValueSet/dsf-hello-world.xml',
    ],
  },
};

/** The files under bpe/ and fhir/ of a plugin's resources, from a git repository, a source folder or an unpacked jar. */
function readResources(path: string, gitRef: string): Map<string, string> {
  return readReferenceFiles(path, { root: 'src/main/resources', tops: ['bpe', 'fhir'], gitRef }).files;
}

/** A scratch plugin folder: the reference's files as they are, and a definition (apiVersion 1) using our activities. */
function writeScratchPlugin(dir: string, plugin: ReferencePlugin, files: Map<string, string>): string {
  const needed = [...plugin.processModels, ...Object.values(plugin.fhirResources).flat()];
  const indexTs = `// Generated by scripts/run-reference-v1-plugins.ts: the reference's ${plugin.name} ${plugin.version} files with our activities.
import { definePlugin } from '${importUrl(join(ROOT, 'src/plugin-api/index.ts'))}';
import ours from '${importUrl(join(plugin.ours, 'index.ts'))}';

export default definePlugin({
  name: ${JSON.stringify(plugin.name)},
  version: ${JSON.stringify(plugin.version)},
  releaseDate: ${JSON.stringify(plugin.releaseDate)},
  apiVersion: 1,
  processModels: ${JSON.stringify(plugin.processModels)},
  fhirResources: ${JSON.stringify(plugin.fhirResources, null, 2)},
  activities: ours.activities,
});
`;
  return writePluginFolder(dir, plugin.folder, files, needed, indexTs, plugin.name);
}

const PING_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/ping';
const input = (task: Task, code: string) => task.input?.find((i) => i.type?.coding?.some((c) => c.code === code))?.valueString;

/** organisation -> ping-status code, from a finished start-ping Task. */
function pingStatuses(task: Task): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of task.output ?? []) {
    if (!o.type?.coding?.some((c) => c.system === PING_SYSTEM && c.code === 'ping-status')) continue;
    const parts = o.extension?.find((e) => e.url === 'http://dsf.dev/fhir/StructureDefinition/extension-ping-status')?.extension ?? [];
    const org = parts.find((p) => p.url === 'organization-identifier')?.valueIdentifier?.value ?? '?';
    const error = parts.find((p) => p.url === 'error-message')?.valueString;
    out[org] = `${o.valueCoding?.code ?? '?'}${error ? ` (${error})` : ''}`;
  }
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'ping-pong': { type: 'string' },
      'hello-world': { type: 'string' },
      'ping-pong-ref': { type: 'string', default: 'v1.0.1.0' },
      'hello-world-ref': { type: 'string', default: 'v1.5.0.0' },
      keep: { type: 'boolean', default: false },
    },
  });
  if (!values['ping-pong'] || !values['hello-world']) {
    console.error('usage: npx tsx scripts/run-reference-v1-plugins.ts --ping-pong <path> --hello-world <path> [--ping-pong-ref v1.0.1.0] [--hello-world-ref v1.5.0.0] [--keep]');
    return 2;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'dsf-reference-v1-'));
  const refPingPong = writeScratchPlugin(scratch, PING_PONG, readResources(resolve(values['ping-pong']), values['ping-pong-ref']!));
  const refHelloWorld = writeScratchPlugin(scratch, HELLO_WORLD, readResources(resolve(values['hello-world']), values['hello-world-ref']!));
  console.log(`scratch plugins in ${scratch}`);

  const checks = new CheckList();
  const check = (name: string, run: () => Promise<string>) => checks.check(name, run);

  const reference = [refPingPong, refHelloWorld];
  const oursPlugins = [PING_PONG.ours, HELLO_WORLD.ours];
  let network: TestNetwork | undefined;
  try {
    network = await startTestNetwork({
      sites: [
        { organization: 'Test_DIC_1', plugins: reference },
        { organization: 'Test_DIC_2', plugins: oursPlugins },
        { organization: 'Test_TTP', plugins: reference },
      ],
      log: (line) => console.log(`  ${line}`),
    });
    const dic1 = network.site('Test_DIC_1');
    const dic2 = network.site('Test_DIC_2');
    const ttp = network.site('Test_TTP');

    for (const site of [dic1, dic2, ttp]) {
      const runsReference = site !== dic2;
      await check(`${site.organization}: ${runsReference ? "the reference's files" : 'our plugins'} deployed`, async () => {
        const deployed = site.bpe.log.find((l) => l.includes('plugins deployed:'))?.replace(/^.*plugins deployed: /, '') ?? '';
        const v1 = (name: string) => deployed.includes(`${name} (API v1 files, converted)`);
        if (v1('dsf-process-ping-pong-1.0.1.0') !== runsReference || v1('dsf-process-hello-world-1.5.0.0') !== runsReference) throw new Error(`BPE log: ${deployed}`);
        const ads = await site.fhir.searchAll<ActivityDefinition>('ActivityDefinition', { status: 'active' });
        const urls = ads.map((a) => `${a.url?.split('/').pop()}|${a.version}`).sort();
        for (const expected of ['helloUser|1.5', 'helloWorld|1.5', 'ping|1.0', 'pingAutostart|1.0', 'pong|1.0']) if (!urls.includes(expected)) throw new Error(`${expected} missing; active: ${urls.join(', ')}`);
        const [taskPing] = await site.fhir.searchAll<StructureDefinition>('StructureDefinition', { url: 'http://dsf.dev/fhir/StructureDefinition/task-ping', version: '1.0' });
        return `BPE: ${deployed.replace(/;.*/, '')}; active: ${urls.join(', ')}; task-ping|1.0 based on ${taskPing?.baseDefinition}, profiles ${JSON.stringify(taskPing?.meta?.profile ?? [])}`;
      });
    }

    const ping = async (from: TestSite, expected: Record<string, string>) => {
      const started = await from.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/ping', '1.0', 'task-start-ping'));
      const done = await from.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 120_000 });
      const statuses = pingStatuses(done);
      if (done.status !== 'completed') throw new Error(`start Task ${done.status}: ${JSON.stringify(done.output)}`);
      for (const [org, status] of Object.entries(expected)) if (statuses[org] !== status) throw new Error(`${org}: ${statuses[org] ?? 'no status'}, expected ${status}; all: ${JSON.stringify(statuses)}`);
      // The pinged sites' ping Tasks end completed (their pong processes ran to the end).
      const businessKey = input(done, 'business-key');
      for (const org of Object.keys(expected)) {
        const target = network!.site(org);
        await waitFor(`the ping Task at ${org} completed`, async () => (await target.fhir.searchAll<Task>('Task', { status: 'completed' })).some((t) => input(t, 'message-name') === 'ping' && input(t, 'business-key') === businessKey), 60_000);
      }
      return `start Task completed, ${Object.entries(statuses).map(([o, s]) => `${o}: ${s}`).join(', ')}; ping Tasks completed at ${Object.keys(expected).join(', ')}`;
    };

    await check('ping from Test_DIC_1 (reference files) to Test_DIC_2 (ours) and Test_TTP (reference files)', () =>
      ping(dic1, { Test_DIC_2: 'pong-received', Test_TTP: 'pong-received' }),
    );
    await check('ping from Test_DIC_2 (ours) to Test_DIC_1 and Test_TTP (reference files)', () => ping(dic2, { Test_DIC_1: 'pong-received', Test_TTP: 'pong-received' }));

    await check('pingAutostart on Test_DIC_1 (reference files): two rounds, then stopped', async () => {
      const autostart = await dic1.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/pingAutostart', '1.0', 'task-start-ping-autostart'), {
        inputs: [{ type: { coding: [{ system: PING_SYSTEM, code: 'timer-interval' }] }, valueString: 'PT2S' }],
      });
      const running = await dic1.waitForTask(autostart.id!, (t) => t.status !== 'requested');
      if (running.status !== 'in-progress') throw new Error(`autostart Task ${running.status}`);
      const businessKey = input(running, 'business-key');
      const rounds = await waitFor(
        'two finished autostart pings',
        async () => {
          const done = (await dic1.fhir.searchAll<Task>('Task', { status: 'completed' })).filter((t) => input(t, 'message-name') === 'startPing' && input(t, 'business-key') === businessKey);
          return done.length >= 2 ? done : undefined;
        },
        120_000,
      );
      const stop = await dic1.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/pingAutostart', '1.0', 'task-stop-ping-autostart'));
      const stopped = await dic1.waitForTask(stop.id!, ['completed', 'failed']);
      const ended = await dic1.waitForTask(autostart.id!, ['completed', 'failed']);
      if (stopped.status !== 'completed' || ended.status !== 'completed') throw new Error(`stop Task ${stopped.status}, autostart Task ${ended.status}`);
      return `${rounds.length} rounds (${rounds.map((r) => JSON.stringify(pingStatuses(r))).join('; ')}), stop Task and autostart Task completed`;
    });

    await check('helloWorld on Test_DIC_1 (reference files)', async () => {
      const started = await dic1.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/helloWorld', '1.5', 'task-hello-world'));
      const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
      if (done.status !== 'completed') throw new Error(`Task ${done.status}: ${JSON.stringify(done.output)}`);
      const greeting = dic1.bpe.log.find((l) => l.includes('Hello World from organization'));
      return `Task completed; log: ${greeting?.trim() ?? '(no greeting line)'}`;
    });

    await check('helloUser on Test_DIC_1 (reference files): user task answered', async () => {
      const started = await dic1.startProcess(draftTaskIdentifier('http://dsf.dev/bpe/Process/helloUser', '1.5', 'task-hello-user'));
      const answered: QuestionnaireResponse = await dic1.answerUserTask({ task: started, answers: { 'string-example': 'from the script', 'text-example': 'text', 'boolean-example': true }, dropUnanswered: true });
      const done = await dic1.waitForTask(started.id!, ['completed', 'failed']);
      if (done.status !== 'completed') throw new Error(`Task ${done.status}: ${JSON.stringify(done.output)}`);
      return `QuestionnaireResponse ${answered.questionnaire} completed, Task completed`;
    });

    // Anything the servers complained about on the way (warnings are not failures, but worth reading).
    for (const site of [dic1, dic2, ttp]) {
      for (const [what, log] of [['BPE', site.bpe.log], ['FHIR server', site.fhirServer.log]] as const) {
        const complaints = log.filter((l) => /\b(WARN|ERROR)\b|"level":\s*(40|50)/.test(l));
        console.log(`${site.organization} ${what}: ${complaints.length} warning/error lines${complaints.length ? `, e.g.\n    ${complaints.slice(0, 5).join('\n    ')}` : ''}`);
      }
    }
  } catch (e) {
    checks.fail('network', (e as Error).stack ?? String(e));
  } finally {
    await network?.stop();
    if (!values.keep) rmSync(scratch, { recursive: true, force: true });
  }
  return checks.finish();
}

process.exitCode = await main();
