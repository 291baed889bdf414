// The `dsf` sub-commands as scripts run them (a child process each), against two real sites on
// loopback: exit codes 0 ok, 1 failure, 2 usage or configuration; status, task list/show with the
// chain and trace id across both sites, plugin verify, init.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../src/common/polling.ts';
import { requestedTask } from '../bpe/server/bpe-support.ts';
import { startTwoSites, type TwoSites } from '../bpe/server/two-sites.ts';
import { copyTestPlugin, FIXTURE_PLUGIN } from '../bpe/server/plugin-fixture.ts';
import { freePort } from '../../src/db/embedded.ts';
import { traceIdOf } from '../../src/common/trace.ts';
import { parseEnvFile } from '../../src/cli/env-file.ts';
import { readFhirServerConfig } from '../../src/fhir/config.ts';
import type { NetworkFile } from '../../src/cli/demo-network.ts';
import { networkSiteEntry } from '../support/network-file.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function dsf(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TS_LOADER, MAIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let sites: TwoSites;
let networkFile: string;
const work = mkdtempSync(join(tmpdir(), 'dsf-cli-'));

before(async () => {
  sites = await startTwoSites({ statusHost: '127.0.0.1', statusPort: 0 }, { statusHost: '127.0.0.1', statusPort: 0 });
  const certs = sites.a.fhir.certs;
  const entry = (s: typeof sites.a) =>
    networkSiteEntry({ organization: s.identifier, fhirBaseUrl: s.fhir.baseUrl, fhirStatusUrl: s.fhir.server.status!.url, bpeStatusUrl: s.bpe.status!.url }, certs.organizations[s.organization]!);
  const network: NetworkFile = { ca: certs.ca.certPath, userPkcs12Password: '', parentOrganization: 'Test_Consortium', sites: [entry(sites.a), entry(sites.b)] };
  networkFile = join(work, 'network.json');
  writeFileSync(networkFile, JSON.stringify(network));
});
after(() => sites?.stop());

test('dsf status: both sites up and connected (exit 0, --json); a part that is down gives exit 1; bad usage exit 2', async () => {
  const ok = await dsf(['status', '--network', networkFile, '--json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const report = JSON.parse(ok.stdout);
  assert.equal(report.length, 2);
  for (const s of report) {
    assert.equal(s.ok, true);
    assert.deepEqual(s.parts.map((p: any) => [p.part, p.up]), [['fhir', true], ['bpe', true]]);
    const bpe = s.parts[1].details;
    assert.equal(bpe.connected, true);
    assert.ok(bpe.processes.some((p: any) => p.process === 'testorg_send|1.0' && p.state === 'ACTIVE'));
  }
  const text = await dsf(['status', '--network', networkFile, '--site', sites.b.identifier]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`^${sites.b.identifier.replace(/\./g, '\\.')}: ok`, 'm'));
  assert.match(text.stdout, /BPE up, connected to https:\/\/localhost:\d+\/fhir/);
  assert.match(text.stdout, /processes active \(\d+\/\d+\): .*testorg_send\|1\.0/);

  const down = await dsf(['status', '--fhir', `http://127.0.0.1:${await freePort()}`, '--bpe', sites.a.bpe.status!.url]);
  assert.equal(down.code, 1, down.stdout);
  assert.match(down.stdout, /FAILING/);
  assert.match(down.stdout, /FHIR down .*ECONNREFUSED/);
  assert.equal((await dsf(['status', '--network', join(work, 'none.json')])).code, 2);
  assert.equal((await dsf(['status', '--network', networkFile, '--site', 'nobody'])).code, 2);
});

test('dsf task list and task show: status, outputs, and the chain of the request across both sites with its trace id', async () => {
  const { a, b } = sites;
  const businessKey = `bk-cli-${Date.now()}`;
  const id = (await a.fhir.client.create(requestedTask({ process: 'send', message: 'send', requester: a.identifier, recipient: a.identifier, businessKey, inputs: { 'target-organization': b.identifier } }))).id;
  await waitFor('the send Task completed', async () => (await a.fhir.client.get(`/Task/${id}`)).json.status === 'completed', 30_000);
  // B's ping Task is completed by B's process once it answered.
  await waitFor('B completed the ping', async () => {
    const shown = await dsf(['task', 'show', id, '--site', a.identifier, '--network', networkFile, '--json']);
    const chain = JSON.parse(shown.stdout).chain;
    return chain.length >= 3 && chain.every((t: any) => t.status === 'completed');
  }, 30_000);

  const list = await dsf(['task', 'list', '--site', a.identifier, '--network', networkFile, '--json', '--count', '50']);
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout).find((t: any) => t.id === id);
  assert.ok(listed, 'the started Task is listed');
  assert.equal(listed.status, 'completed');
  assert.ok(listed.outputs.some((o: string) => /^send-status: sent pong:/.test(o)), listed.outputs.join('\n'));
  const completedOnly = JSON.parse((await dsf(['task', 'list', '--site', a.identifier, '--network', networkFile, '--json', '--status', 'failed'])).stdout);
  assert.ok(completedOnly.every((t: any) => t.status === 'failed'));
  assert.equal((await dsf(['task', 'list', '--site', a.identifier, '--network', networkFile, '--status', 'finished'])).code, 2);

  const trace = traceIdOf(businessKey);
  const shown = await dsf(['task', 'show', id, '--site', a.identifier, '--network', networkFile]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`trace +${trace}`));
  // The chain: A's start Task, the ping at B, the pong back at A; each at the site that holds it.
  const json = JSON.parse((await dsf(['task', 'show', id, '--site', a.identifier, '--network', networkFile, '--json'])).stdout);
  assert.deepEqual(json.chain.map((t: any) => [t.site, t.message]), [
    [a.identifier, 'send'],
    [b.identifier, 'ping'],
    [a.identifier, 'pong'],
  ]);
  assert.ok(json.chain.every((t: any) => t.traceId === trace));
  // Both BPEs logged the trace id: A when it sent to B (traceparent header), B when its process started.
  assert.ok(a.logLines.some((l) => l.includes(`sent to ${b.fhir.baseUrl} [trace: ${trace}]`)), a.logLines.filter((l) => l.includes('trace')).join('\n'));
  assert.ok(b.logLines.some((l) => /Started process testorg_receive\|1\.0/.test(l) && l.includes(`trace: ${trace}`)), b.logLines.filter((l) => l.includes('trace')).join('\n'));
  assert.ok(a.logLines.some((l) => /Correlated message pong/.test(l) && l.includes(`trace: ${trace}`)));

  const missing = await dsf(['task', 'show', '00000000-0000-4000-8000-000000000000', '--site', a.identifier, '--network', networkFile]);
  assert.equal(missing.code, 1);
});

test('dsf plugin verify: a good plugin passes (exit 0), a broken one is refused with its problems listed (exit 1)', async () => {
  const good = await dsf(['plugin', 'verify', FIXTURE_PLUGIN], { TEST_PLUGIN_GREETING: 'hi' });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /^ok +test-plugin-1\.0\.0\.0: testorg_hello\|1\.0/m);
  const copy = copyTestPlugin();
  copy.edit('bpe/hello.bpmn', (t) => t.replace('id="testorg_hello"', 'id="hello"'));
  const bad = await dsf(['plugin', 'verify', copy.directory, '--json'], { TEST_PLUGIN_GREETING: 'hi' });
  assert.equal(bad.code, 1);
  const r = JSON.parse(bad.stdout);
  assert.equal(r.ok, false);
  assert.ok(r.refused[0].problems.some((p: string) => /process id 'hello' does not match/.test(p)), JSON.stringify(r.refused));
  const noPlaceholder = await dsf(['plugin', 'verify', FIXTURE_PLUGIN]);
  assert.equal(noPlaceholder.code, 1);
  assert.match(noPlaceholder.stdout, /TEST_PLUGIN_GREETING not set/);
  assert.equal((await dsf(['plugin', 'verify', join(work, 'no-such-folder')])).code, 2);
});

test('dsf init: a .env and initial bundle that `dsf site` accepts; missing answers and an existing configuration are usage errors', async () => {
  const dir = join(work, 'site');
  const r = await dsf(['init', '--dir', dir, '--org', 'hospital.example.org', '--fhir-base-url', 'https://localhost:8443/fhir', '--test-certificates', '--status-port', '10100']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const env = parseEnvFile(readFileSync(join(dir, 'site.env'), 'utf8'));
  assert.equal(env.DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE, 'hospital.example.org');
  assert.equal(env.DEV_DSF_SERVER_STATUS_PORT, '10100');
  assert.equal(env.DSF_BPE_SERVER_STATUS_PORT, '10101');
  assert.ok(existsSync(env.DEV_DSF_SERVER_CERTIFICATE!));
  const config = readFhirServerConfig(env);
  assert.equal(config.baseUrl, 'https://localhost:8443/fhir');
  assert.match(config.organizationThumbprint ?? '', /^[0-9a-f]{128}$/);
  const bundle = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'));
  assert.deepEqual(bundle.entry.map((e: any) => e.resource.resourceType), ['Organization', 'Endpoint']);
  assert.equal(bundle.entry[1].resource.address, 'https://localhost:8443/fhir');

  const again = await dsf(['init', '--dir', dir, '--org', 'hospital.example.org', '--fhir-base-url', 'https://localhost:8443/fhir', '--test-certificates']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /--force/);
  const noOrg = await dsf(['init', '--dir', join(work, 'other'), '--fhir-base-url', 'https://localhost/fhir', '--test-certificates']);
  assert.equal(noOrg.code, 2);
  assert.match(noOrg.stderr, /--org is required/);
  const insecure = await dsf(['init', '--dir', join(work, 'third'), '--org', 'x.org', '--fhir-base-url', 'http://localhost/fhir', '--test-certificates']);
  assert.equal(insecure.code, 2);
  assert.match(insecure.stderr, /DEV_DSF_FHIR_SERVER_BASE_URL must be an https:\/\/ URL/);
  assert.ok(!existsSync(join(work, 'third', 'site.env')), 'nothing written for a bad configuration');
});
