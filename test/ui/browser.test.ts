// The web UI in Debian's Chromium (playwright-core), against a one-site demo network (FHIR server + BPE
// with the shipped plugins and the test plugin ui-retry-plugin, real TLS, PostgreSQL): start helloUser
// from its draft Task, answer the user task in the form, see the instance complete in the BPE view with
// its diagram; a failed instance's incident retried in the BPE view; a resource page and a search page
// render; at 390x844 no page scrolls sideways; an unauthorised user sees no data. Screenshots of each
// page go to test-artifacts/ui/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { findFreeBasePort, startDemoNetwork, type NetworkSiteFile, type RunningDemo } from '../../src/cli/demo-network.ts';
import { readFileSync } from 'node:fs';
import { HttpsClient } from '../../src/common/https-client.ts';
import { HttpFhirClient } from '../../src/bpe/client/http-fhir-client.ts';
import { findDraftTask, requestedTaskFrom } from '../../src/plugin-api/draft-tasks.ts';
import { chromiumMissing, launchBrowser, reloadUntil, screenshot, type TestBrowser } from '../support/browser.ts';
import type { BrowserContext, Page } from 'playwright-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Task } from '@medplum/fhirtypes';
import { dropDatabasesStartingWith } from '../support/database.ts';

const HELLO_USER_DRAFT = 'http://dsf.dev/bpe/Process/helloUser/1.5/task-hello-user';
const UI_RETRY_DRAFT = 'http://test.org/bpe/Process/uiRetry/1.0/task-ui-retry';
const UI_RETRY_PLUGIN = fileURLToPath(new URL('../fixtures/ui-retry-plugin', import.meta.url));
/** Anything that waits for the engine (the machine may be busy). */
const ENGINE_WAIT_MS = 60_000;
const skip = chromiumMissing() || (!process.env.DSF_TEST_DATABASE_URL && 'DSF_TEST_DATABASE_URL is not set');
const prefix = `ui_${randomBytes(3).toString('hex')}_`;
let dir: string;
let demo: RunningDemo;
let site: NetworkSiteFile;
let browser: TestBrowser;

const user = (plays: string) => {
  const u = site.users.find((x) => x.name.endsWith(`-${plays}`))!;
  return { certPath: u.cert, keyPath: u.key };
};
const origins = () => [new URL(site.fhirBaseUrl).origin, new URL(site.bpeBaseUrl).origin];

/** A FHIR client with the site's organisation certificate (to start processes without the browser). */
function organizationClient(): { fhir: HttpFhirClient; close(): void } {
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca: readFileSync(demo.network.ca, 'utf8') });
  return { fhir: new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 30_000 }), close: () => http.close() };
}

/**
 * What another site can do: its page (served here from http://127.0.0.1, another site than https://localhost)
 * submits a form to `action` in the same browser, which presents the user's client certificate. Returns the
 * status of that cross-site post. `fields` are the form's inputs; with text/plain a name and value can spell JSON.
 */
async function crossSitePost(context: BrowserContext, action: string, enctype: string, fields: Record<string, string>): Promise<number> {
  const inputs = Object.entries(fields).map(([n, v]) => `<input type="hidden" name='${n.replaceAll("'", '&#39;')}' value='${v.replaceAll("'", '&#39;')}'>`);
  const markup = `<!DOCTYPE html><form method="post" action="${action}" enctype="${enctype}">${inputs.join('')}</form><script>document.forms[0].submit()</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(markup));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const page = await context.newPage();
  try {
    const answered = page.waitForResponse((r) => r.url() === action && r.request().method() === 'POST', { timeout: 20_000 });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return (await answered).status();
  } finally {
    await page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** How many pixels the page is wider than the window (the narrow-screen rule: none). */
function overflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dsf-ui-'));
  // The site's own plugin folder (the demo deploys it besides the shipped plugins): the test plugin.
  const processDir = join(dir, 'Test_DIC_1', 'process');
  mkdirSync(processDir, { recursive: true });
  symlinkSync(UI_RETRY_PLUGIN, join(processDir, 'ui-retry-plugin'), 'dir');
  demo = await startDemoNetwork({ dir, organizations: ['Test_DIC_1'], basePort: await findFreeBasePort(1), databaseUrl: process.env.DSF_TEST_DATABASE_URL, databasePrefix: prefix, log: () => {} });
  site = demo.network.sites[0]!;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!skip) {
    await dropDatabasesStartingWith(process.env.DSF_TEST_DATABASE_URL!, prefix);
  }
});

test('helloUser: start from its draft Task, answer the user task in the form, the Task completes', { skip, timeout: 180_000 }, async () => {
  const context = await browser.context({ cert: user('admin'), origins: origins() });
  const page = await context.newPage();
  try {
    await page.goto(`${site.fhirBaseUrl}/Task?status=draft`);
    await screenshot(page, 'draft-tasks');
    await page.getByRole('link', { name: /helloUser\/.*task-hello-user/ }).first().click();
    await page.locator('#start-form').waitFor();
    await screenshot(page, 'start-form');
    const draftUrl = page.url();
    await page.getByRole('button', { name: 'Start process' }).click();
    // The page of the new Task follows it.
    await page.waitForURL((url) => /\/Task\/[0-9a-f-]{36}$/.test(url.pathname) && url.href !== draftUrl);
    const taskUrl = page.url();
    await page.locator('h1 .status').waitFor();
    await screenshot(page, 'task-requested');

    await page.goto(`${site.fhirBaseUrl}/QuestionnaireResponse?status=in-progress`);
    const qrLink = page.getByRole('link', { name: /^QuestionnaireResponse\// }).first();
    await reloadUntil(page, async () => (await qrLink.count()) > 0, 'an in-progress QuestionnaireResponse', ENGINE_WAIT_MS);
    await screenshot(page, 'user-tasks');
    await qrLink.click();
    const form = page.locator('#answer-form');
    await form.waitFor();
    await form.getByLabel('A string answer').fill('hello from the browser');
    await form.getByLabel('A text answer').fill('line one\nline two');
    await form.getByLabel('An integer number').fill('42');
    await form.getByLabel('A date', { exact: true }).fill('2026-12-05');
    await form.locator('.field[data-link-id="boolean-example"]').getByLabel('Yes').check();
    await screenshot(page, 'user-task-form');
    // The server's refusal shows in the form: this once the answer goes without its author.
    await page.route('**/QuestionnaireResponse/*', async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      const { author: _author, ...rest } = JSON.parse(route.request().postData() ?? '{}');
      await route.continue({ postData: JSON.stringify(rest) });
    });
    await form.getByRole('button', { name: 'Complete' }).click();
    await form.locator('.message.error', { hasText: 'author' }).waitFor();
    assert.match(await form.locator('.message.error').innerText(), /HTTP 403/);
    await screenshot(page, 'user-task-form-refused');
    await page.unroute('**/QuestionnaireResponse/*');
    // Another site's form cannot answer it: a text/plain post whose body spells the completed response is refused.
    const qrUrl = page.url().split('?')[0]!;
    const completed = JSON.stringify({ resourceType: 'QuestionnaireResponse', id: qrUrl.split('/').pop(), status: 'completed' });
    assert.equal(await crossSitePost(context, qrUrl, 'text/plain', { [completed.slice(0, -1)]: '}' }), 403);
    assert.equal(await crossSitePost(context, site.fhirBaseUrl, 'application/x-www-form-urlencoded', { resourceType: 'Bundle' }), 403);
    assert.equal(await form.locator('button', { hasText: 'Complete' }).count(), 1, 'still in progress');
    await form.getByRole('button', { name: 'Complete' }).click();
    // The BPE marks a completed response 'amended' as soon as it has taken the answer; with events
    // delivered within milliseconds that can happen before the page has reloaded the response.
    await page.locator('h1', { hasText: /completed|amended/ }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'user-task-completed');

    await page.goto(taskUrl);
    await page.locator('h1', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'task-completed');

    // The BPE view: the process with its state, the finished instance with its diagram marked.
    await page.goto(`${site.bpeBaseUrl}/ui`);
    await page.locator('table.entries').getByText('dsfdev_helloUser').waitFor();
    await screenshot(page, 'bpe-processes');
    await page.goto(`${site.bpeBaseUrl}/ui/instances?state=finished`);
    await screenshot(page, 'bpe-instances-finished');
    const instanceHref = await page.getByRole('link', { name: /^dsfdev_helloUser/ }).first().getAttribute('href');
    await page.goto(new URL(instanceHref!, page.url()).href);
    await page.locator('h1 .status', { hasText: 'finished' }).waitFor();
    await page.locator('#diagram[data-rendered="true"]').waitFor({ timeout: 20_000 });
    assert.ok((await page.locator('#diagram .djs-element.completed').count()) >= 3, 'completed elements marked in the diagram');
    assert.match(await page.locator('table.entries').innerText(), /userTask/);
    await screenshot(page, 'bpe-instance');
  } finally {
    await context.close();
  }
});

test('a resource page and a search page render, also 390 px wide', { skip, timeout: 60_000 }, async () => {
  for (const width of [1280, 390]) {
    const context = await browser.context({ cert: user('practitioner'), origins: origins(), width, height: 844 });
    const page = await context.newPage();
    try {
      await page.goto(`${site.fhirBaseUrl}/Organization`);
      await page.locator('table.entries').waitFor();
      assert.ok((await page.locator('table.entries tbody tr').count()) >= 1);
      await screenshot(page, `search-organizations-${width}`);
      await page.locator('table.entries tbody tr a').first().click();
      await page.locator('h1 .type', { hasText: 'Organization' }).waitFor();
      await page.locator('label[for="view-json"]').click();
      assert.match(await page.locator('.tab-json pre').innerText(), /"resourceType": "Organization"/);
      await page.locator('label[for="view-html"]').click();
      await screenshot(page, `organization-${width}`);
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number;
      assert.ok(overflow <= 1, `no horizontal scrolling at ${width} px (${overflow} px too wide)`);
    } finally {
      await context.close();
    }
  }
});

test('cancel a running instance in the BPE view; changes only from its own pages', { skip, timeout: 120_000 }, async () => {
  const ca = readFileSync(demo.network.ca, 'utf8');
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca });
  const admin = site.users.find((u) => u.name.endsWith('-admin'))!;
  const adminHttp = new HttpsClient({ cert: readFileSync(admin.cert, 'utf8'), key: readFileSync(admin.key, 'utf8'), ca });
  const context = await browser.context({ cert: user('admin'), origins: origins(), width: 390, height: 844 });
  const page = await context.newPage();
  try {
    const fhir = new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 30_000 });
    const task = await fhir.create(requestedTaskFrom(await findDraftTask(fhir, HELLO_USER_DRAFT)));
    // The instance waits in its user task: running.
    await page.goto(`${site.bpeBaseUrl}/ui/instances?state=running`);
    for (let i = 0; i < 40 && (await page.getByRole('link', { name: /^dsfdev_helloUser/ }).count()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    await screenshot(page, 'bpe-instances-running-390');
    await page.getByRole('link', { name: /^dsfdev_helloUser/ }).first().click();
    await page.locator('#diagram[data-rendered="true"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#diagram .djs-element.active').count(), 1, 'the user task is active');
    await screenshot(page, 'bpe-instance-running-390');
    const instanceUrl = page.url();

    // A form posted from elsewhere (no Origin of this view) changes nothing.
    const forged = await adminHttp.request(`${instanceUrl}/cancel`, { method: 'POST', headers: { origin: 'https://evil.test' } });
    assert.equal(forged.status, 403);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Cancel instance' }).click();
    await page.locator('h1 .status', { hasText: 'cancelled' }).waitFor();
    await screenshot(page, 'bpe-instance-cancelled-390');
    assert.ok(task.id);
  } finally {
    await context.close();
    http.close();
    adminHttp.close();
  }
});

test('the BPE view is for admins only', { skip, timeout: 60_000 }, async () => {
  const context = await browser.context({ cert: user('practitioner'), origins: origins() });
  const page = await context.newPage();
  try {
    const response = await page.goto(`${site.bpeBaseUrl}/ui`);
    assert.equal(response?.status(), 403);
    assert.doesNotMatch(await page.locator('body').innerText(), /dsfdev_|helloUser/);
    await screenshot(page, 'bpe-forbidden');
  } finally {
    await context.close();
  }
});

test('without a known certificate a browser sees no data', { skip, timeout: 60_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    const response = await page.goto(`${site.fhirBaseUrl}/Task?status=draft`);
    assert.equal(response?.status(), 401);
    await screenshot(page, 'unauthorised');
    const text = await page.locator('body').innerText();
    assert.match(text, /Not signed in/);
    assert.doesNotMatch(text, /hello|Test_DIC_1-|task-/i);
    assert.equal(await page.locator('#dsf-resource').count(), 0);
  } finally {
    await context.close();
  }
});

test('a failed instance shows its incident in the BPE view; Retry completes it', { skip, timeout: 180_000 }, async () => {
  const client = organizationClient();
  const context = await browser.context({ cert: user('admin'), origins: origins() });
  const page = await context.newPage();
  try {
    const task = await client.fhir.create(requestedTaskFrom(await findDraftTask(client.fhir, UI_RETRY_DRAFT)));
    // The flaky step fails once; its one retry used up, the instance is listed as failed.
    await page.goto(`${site.bpeBaseUrl}/ui/instances?state=failed`);
    const link = page.getByRole('link', { name: /^testorg_uiRetry/ }).first();
    await reloadUntil(page, async () => (await link.count()) > 0, 'the failed testorg_uiRetry instance', ENGINE_WAIT_MS);
    await screenshot(page, 'bpe-instances-failed');
    await link.click();
    await page.locator('h1 .status', { hasText: 'failed' }).waitFor();
    const incident = page.locator('ul.issues li.error', { hasText: 'FlakyStep' });
    assert.match(await incident.innerText(), /failed on its first run/);
    await page.locator('#diagram[data-rendered="true"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#diagram .djs-element.failed').count(), 1, 'the failed step marked in the diagram');
    await screenshot(page, 'bpe-instance-incident');

    // Another site's form cannot retry it (the browser presents the admin's certificate there too).
    const retryAction = new URL((await incident.locator('form').getAttribute('action'))!, page.url()).href;
    assert.equal(await crossSitePost(context, retryAction, 'application/x-www-form-urlencoded', {}), 403);
    await page.reload();
    assert.equal(await page.locator('ul.issues li.error', { hasText: 'FlakyStep' }).count(), 1, 'the incident is still there');
    await incident.getByRole('button', { name: 'Retry' }).click();
    await page.waitForLoadState();
    await reloadUntil(page, async () => (await page.locator('h1 .status', { hasText: 'finished' }).count()) > 0, 'the retried instance finished', ENGINE_WAIT_MS);
    assert.equal(await page.locator('ul.issues li.error').count(), 0, 'no incident left');
    assert.match(await page.locator('dl.card').innerText(), /succeeded on retry/);
    await screenshot(page, 'bpe-instance-retried');

    // The start Task completes with the instance.
    const deadline = Date.now() + ENGINE_WAIT_MS;
    let status = '';
    while ((status = (await client.fhir.read<Task>('Task', task.id!)).status) !== 'completed' && Date.now() < deadline) await page.waitForTimeout(500);
    assert.equal(status, 'completed');
  } finally {
    await context.close();
    client.close();
  }
});

test('at 390x844 the resource, search, user task and BPE instance list pages do not scroll sideways', { skip, timeout: 180_000 }, async () => {
  const client = organizationClient();
  const context = await browser.context({ cert: user('admin'), origins: origins(), width: 390, height: 844 });
  const page = await context.newPage();
  try {
    // A user task waiting for its answer.
    const task = await client.fhir.create(requestedTaskFrom(await findDraftTask(client.fhir, HELLO_USER_DRAFT)));
    await page.goto(`${site.fhirBaseUrl}/Task?status=draft`);
    await page.locator('table.entries').waitFor();
    assert.ok((await overflow(page)) <= 0, `search page ${await overflow(page)} px too wide`);
    await page.goto(`${site.fhirBaseUrl}/Task/${task.id}`);
    await page.locator('h1 .type', { hasText: 'Task' }).waitFor();
    assert.ok((await overflow(page)) <= 0, `resource page ${await overflow(page)} px too wide`);
    await screenshot(page, 'task-390');

    await page.goto(`${site.fhirBaseUrl}/QuestionnaireResponse?status=in-progress`);
    const qrLink = page.getByRole('link', { name: /^QuestionnaireResponse\// }).first();
    await reloadUntil(page, async () => (await qrLink.count()) > 0, 'an in-progress QuestionnaireResponse', ENGINE_WAIT_MS);
    await qrLink.click();
    await page.locator('#answer-form').waitFor();
    assert.ok((await overflow(page)) <= 0, `user task form ${await overflow(page)} px too wide`);
    await screenshot(page, 'user-task-form-390');

    await page.goto(`${site.bpeBaseUrl}/ui/instances`);
    await page.locator('table.entries').waitFor();
    assert.ok((await overflow(page)) <= 0, `BPE instance list ${await overflow(page)} px too wide`);
    await screenshot(page, 'bpe-instances-390');
    await page.goto(`${site.bpeBaseUrl}/ui`);
    assert.ok((await overflow(page)) <= 0, `BPE processes ${await overflow(page)} px too wide`);
    await screenshot(page, 'bpe-processes-390');
  } finally {
    await context.close();
    client.close();
  }
});
