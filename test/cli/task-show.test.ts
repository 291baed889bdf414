// `dsf task show` finds the chain of a request (every Task with its business key) by searching for the
// business key at each site, however many other Tasks a site wrote since: here more than a page of
// newer Tasks (the command once read only the newest 500 and missed the older ones of the chain).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '@medplum/fhirtypes';
import { showTask } from '../../src/cli/task-command.ts';
import type { NetworkFile } from '../../src/cli/demo-network.ts';
import { BPMN_MESSAGE_SYSTEM } from '../../src/common/trace.ts';
import { networkSiteEntry } from '../support/network-file.ts';
import { startTestSite, testOrganizationIdentifier, type TestSite } from '../support/fhir-site.ts';

const ORG = 'Test_Organization';
let site: TestSite;
let dir: string;
let networkFile: string;

before(async () => {
  site = await startTestSite({ organization: ORG });
  dir = mkdtempSync(join(tmpdir(), 'dsf-task-show-'));
  const c = site.certs.organizations[ORG]!;
  const network: NetworkFile = {
    ca: site.certs.ca.certPath,
    userPkcs12Password: '',
    parentOrganization: 'Test_Consortium',
    sites: [networkSiteEntry({ organization: testOrganizationIdentifier(ORG), fhirBaseUrl: site.baseUrl }, c)],
  };
  networkFile = join(dir, 'network.json');
  writeFileSync(networkFile, JSON.stringify(network));
});
after(async () => {
  await site?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function task(message: string, businessKey: string, authoredOn: string): Task {
  const identifier = { system: 'http://dsf.dev/sid/organization-identifier', value: testOrganizationIdentifier(ORG) };
  return {
    resourceType: 'Task',
    status: 'completed',
    intent: 'order',
    instantiatesCanonical: 'http://task-show.test/bpe/Process/chain|1.0',
    authoredOn,
    requester: { type: 'Organization', identifier },
    restriction: { recipient: [{ type: 'Organization', identifier }] },
    input: [
      { type: { coding: [{ system: BPMN_MESSAGE_SYSTEM, code: 'message-name' }] }, valueString: message },
      { type: { coding: [{ system: BPMN_MESSAGE_SYSTEM, code: 'business-key' }] }, valueString: businessKey },
    ],
  };
}

test('task show: the chain is found when more than 500 newer Tasks were written after it', { timeout: 120_000 }, async () => {
  const { store } = site.server;
  // Stored directly (the REST rules for Tasks are not the subject here).
  const [start, pong] = await store.transaction(async (c) => [
    (await store.create(c, task('start', 'chain-key', '2026-01-01T10:00:00Z'))).id,
    (await store.create(c, task('pong', 'chain-key', '2026-01-01T10:00:05Z'))).id,
  ]);
  await store.transaction(async (c) => {
    for (let i = 0; i < 520; i++) await store.create(c, task('start', `other-key-${i}`, '2026-01-02T10:00:00Z'));
  });

  const shown = await showTask(networkFile, testOrganizationIdentifier(ORG), start);
  assert.deepEqual(shown.unreachable, []);
  assert.equal(shown.task.businessKey, 'chain-key');
  assert.deepEqual(
    shown.chain.map((t) => [t.id, t.message]),
    [
      [start, 'start'],
      [pong, 'pong'],
    ],
  );
});

test('task show: a chain longer than a page of the search is followed to its end', { timeout: 120_000 }, async () => {
  const { store } = site.server;
  const ids = await store.transaction(async (c) => {
    const out: string[] = [];
    for (let i = 0; i < 510; i++) out.push((await store.create(c, task(`step-${i}`, 'long-chain', `2026-01-03T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`))).id);
    return out;
  });
  const shown = await showTask(networkFile, testOrganizationIdentifier(ORG), ids[0]!);
  assert.deepEqual(shown.unreachable, []);
  assert.deepEqual(
    shown.chain.map((t) => t.id),
    ids,
  );
});
