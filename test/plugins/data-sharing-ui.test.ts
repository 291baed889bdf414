// Data sharing on the demo network (npm start -- --data-repository N: Test_DIC_1, Test_TTP and the
// research platform Test_HRP with roles HRP and DMS), the use-and-access committee deciding in the web
// UI's user-task form in Debian's Chromium (playwright-core), signed in as the demo's committee user
// (practitioner-role UAC_USER); a practitioner without UAC_USER does not see the task. The demo's keys (linkage
// key at the DIC, pseudonym key at the TTP) let the run complete. Screenshots go to test-artifacts/ui/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { DATA_SHARING_REQUEST_DRAFT, findFreeBasePort, startDemoNetwork, type NetworkSiteFile, type RunningDemo } from '../../src/cli/demo-network.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { HttpFhirClient } from '../../src/bpe/client/http-fhir-client.ts';
import { findDraftTask, requestedTaskFrom } from '../../src/plugin-api/draft-tasks.ts';
import { waitFor } from '../../src/common/polling.ts';
import { chromiumMissing, launchBrowser, reloadUntil, screenshot, type TestBrowser } from '../support/browser.ts';
import { dropDatabasesStartingWith } from '../support/database.ts';

const skip = chromiumMissing() || (!process.env.DSF_TEST_DATABASE_URL && 'DSF_TEST_DATABASE_URL is not set');
const SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/data-sharing';
const prefix = `dsui_${randomBytes(3).toString('hex')}_`;
let dir: string;
let demo: RunningDemo;
let hrp: NetworkSiteFile;
let browser: TestBrowser;
let http: HttpsClient;

const user = (name: string) => {
  const u = hrp.users.find((x) => x.name === name)!;
  return { certPath: u.cert, keyPath: u.key };
};

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dsf-ds-ui-'));
  demo = await startDemoNetwork({
    dir,
    organizations: ['Test_DIC_1', 'Test_TTP'],
    dataRepositoryPatients: 100,
    basePort: await findFreeBasePort(3),
    databaseUrl: process.env.DSF_TEST_DATABASE_URL,
    databasePrefix: prefix,
    log: () => {},
  });
  hrp = demo.network.sites.find((s) => s.organization === 'Test_HRP')!;
  http = new HttpsClient({ cert: readFileSync(hrp.clientCert, 'utf8'), key: readFileSync(hrp.clientKey, 'utf8'), ca: readFileSync(demo.network.ca, 'utf8') });
  browser = await launchBrowser();
});

after(async () => {
  http?.close();
  await browser?.close();
  await demo?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!skip) {
    await dropDatabasesStartingWith(process.env.DSF_TEST_DATABASE_URL!, prefix);
  }
});

test('the committee member approves in the user-task form; the demo run completes with the DIC delivered', { skip, timeout: 300_000 }, async () => {
  assert.deepEqual(hrp.roles, ['HRP', 'DMS']);
  const fhir = new HttpFhirClient({ http, baseUrl: hrp.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 });
  const started = await fhir.create(requestedTaskFrom(await findDraftTask(fhir, DATA_SHARING_REQUEST_DRAFT)));

  // The committee's user task: an in-progress QuestionnaireResponse once the BPE has checked the request.
  await waitFor('the committee user task', async () => (await fhir.search('QuestionnaireResponse', { status: 'in-progress' })).entry?.[0], 60_000);
  // A practitioner of the HRP without UAC_USER does not even see the committee's user task.
  const origins = [new URL(hrp.fhirBaseUrl).origin];
  const other = await browser.context({ cert: user('Test_HRP-minimal'), origins });
  try {
    const page = await other.newPage();
    await page.goto(`${hrp.fhirBaseUrl}/QuestionnaireResponse?status=in-progress`);
    await page.getByText('Nothing found.').waitFor();
    assert.equal(await page.getByRole('link', { name: /^QuestionnaireResponse\// }).count(), 0);
  } finally {
    await other.close();
  }

  const open = async (as: string) => {
    const context = await browser.context({ cert: user(as), origins });
    const page = await context.newPage();
    await page.goto(`${hrp.fhirBaseUrl}/QuestionnaireResponse?status=in-progress`);
    const link = page.getByRole('link', { name: /^QuestionnaireResponse\// }).first();
    await reloadUntil(page, async () => (await link.count()) > 0, 'the committee\'s user task');
    await link.click();
    const form = page.locator('#answer-form');
    await form.waitFor();
    await form.locator('.field[data-link-id="approve"]').getByLabel('Yes').check();
    await form.locator('.field[data-link-id="comment"]').locator('input, textarea').first().fill('approved: ethics vote 2026-17');
    return { context, page, form };
  };
  const committee = await open('Test_HRP-committee');
  try {
    // The committee sees what it decides on: the request's project, purpose and criteria, which the
    // process wrote into the response's display items.
    const shown = await committee.form.innerText();
    assert.match(shown, /Project: \S+/);
    assert.match(shown, /Purpose: \S+\|\S+/);
    assert.match(shown, /Criteria: \w+\?/);
    await screenshot(committee.page, 'data-sharing-committee-form');
    await committee.form.getByRole('button', { name: 'Complete' }).click();
    await committee.page.locator('h1', { hasText: /completed|amended/ }).waitFor({ timeout: 60_000 });
  } finally {
    await committee.context.close();
  }

  const done = await waitFor(
    'the data-sharing request to finish',
    async () => {
      const t = await fhir.read<Task>('Task', started.id!);
      return t.status === 'completed' || t.status === 'failed' ? t : undefined;
    },
    240_000,
  );
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const out = (code: string) => done.output?.filter((o) => o.type?.coding?.some((c) => c.system === SYSTEM && c.code === code)) ?? [];
  assert.equal(out('decision')[0]?.valueCoding?.code, 'approved');
  assert.equal(out('comment')[0]?.valueString, 'approved: ethics vote 2026-17');
  assert.equal(out('site-status')[0]?.valueCoding?.code, 'delivered');
  assert.ok((out('persons')[0]?.valueInteger ?? 0) > 0, 'persons in the merged set');
});
