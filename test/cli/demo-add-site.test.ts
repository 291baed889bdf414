// Onboarding a fourth organisation into a running demo network with the `dsf demo add-site` function:
// certificates from the demo CA, its own FHIR server and BPE, registration at the allow list
// organisation (Test_TTP), updateAllowList there, downloadAllowList at every member; then the new site
// pings every other site and is pinged, through `dsf start-process`. All of it without a deprecation
// warning (pg's about a client asked for a query while busy was one: pg 9 turns it into an error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { findFreeBasePort, START_PING_DRAFT, startDemoNetwork, type NetworkFile } from '../../src/cli/demo-network.ts';
import { addDemoSite } from '../../src/cli/demo-add-site.ts';
import { startProcess } from '../../src/cli/start-process.ts';
import { dropDatabasesStartingWith } from '../support/database.ts';
import { withDatabase } from '../../src/db/pool.ts';

/** Organisations that answered a ping with a pong, from the start Task's ping-status outputs. */
function pongsFrom(task: Task): string[] {
  return (task.output ?? [])
    .filter((o) => o.valueCoding?.code === 'pong-received')
    .map((o) => o.extension?.[0]?.extension?.find((e) => e.url === 'organization-identifier')?.valueIdentifier?.value ?? '?')
    .sort();
}

test('a fourth organisation joins the running demo with dsf commands, then pings and is pinged', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-onboard-'));
  const server = withDatabase(process.env.DSF_TEST_DATABASE_URL!, 'postgres');
  const prefix = `onboard_${randomBytes(4).toString('hex')}_`;
  const basePort = await findFreeBasePort(4);
  const lines: string[] = [];
  const warnings: string[] = [];
  const onWarning = (w: Error) => void (w.name === 'DeprecationWarning' && warnings.push(`${w.message}\n${w.stack}`));
  process.on('warning', onWarning);
  const demo = await startDemoNetwork({ dir, organizations: ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'], basePort, databaseUrl: server, databasePrefix: prefix, log: () => {} });
  let added: Awaited<ReturnType<typeof addDemoSite>> | undefined;
  try {
    assert.equal(demo.network.allowListOrganization, 'Test_TTP');
    added = await addDemoSite({ network: demo.networkFile, organization: 'Test_DIC_3', log: (l) => lines.push(l) });
    assert.equal(added.site.fhirBaseUrl, `https://localhost:${basePort + 3}/fhir`);
    assert.match(added.allowList, new RegExp(`^https://localhost:${basePort + 2}/fhir/Bundle/[^/]+/_history/\\d+$`));
    assert.match(lines.join('\n'), /\[5\/5\] downloadAllowList at Test_DIC_1, Test_DIC_2, Test_DIC_3/);
    const network = JSON.parse(readFileSync(demo.networkFile, 'utf8')) as NetworkFile;
    assert.deepEqual(network.sites.map((s) => s.organization), ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP', 'Test_DIC_3']);

    const ping = (site: string, input?: string[]) => startProcess({ network: demo.networkFile, site, draft: START_PING_DRAFT, input, wait: true, timeoutSeconds: 120 }, () => {});
    const fromNew = await ping('Test_DIC_3');
    assert.equal(fromNew.status, 'completed');
    assert.deepEqual(pongsFrom(fromNew), ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'], JSON.stringify(fromNew.output));
    const toNew = await ping('Test_DIC_1', [`http://dsf.dev/fhir/CodeSystem/ping|target-endpoints=Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|localhost:${basePort + 3}`]);
    assert.deepEqual(pongsFrom(toNew), ['Test_DIC_3'], JSON.stringify(toNew.output));
    // The others see the new site too: a ping from Test_DIC_2 to everyone reaches three sites.
    assert.deepEqual(pongsFrom(await ping('Test_DIC_2')), ['Test_DIC_1', 'Test_DIC_3', 'Test_TTP']);
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    await added?.stop();
    await demo.stop();
    await dropDatabasesStartingWith(server, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
});
