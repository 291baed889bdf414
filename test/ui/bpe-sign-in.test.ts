// Sign-in to the BPE view by OpenID Connect (authorization code flow with PKCE, the FHIR pages' sign-in
// code) in Debian's Chromium, against a one-site demo network whose BPE reads DEV_DSF_SERVER_AUTH_OIDC_*
// from the environment and a real OpenID provider (npm oidc-provider over HTTPS). A browser without a
// certificate gets the sign-in page (the BPE's server asks for a certificate but does not require one);
// an account the BPE role configuration gives ADMIN sees the instances; another account gets a 403 page
// without data; sign-out ends the session. The session cookie needs no server memory: a second process
// with the same DSF_SERVER_AUTH_OIDC_SESSION_KEY accepts it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { BPE_PORT_OFFSET, findFreeBasePort, startDemoNetwork, type NetworkSiteFile, type RunningDemo } from '../../src/cli/demo-network.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { OidcLogin, SESSION_COOKIE, type OidcLoginSettings } from '../../src/common/web/oidc-login.ts';
import { testCertificates } from '../support/fhir-site.ts';
import { startTestOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts';
import { chromiumMissing, launchBrowser, screenshot, type TestBrowser } from '../support/browser.ts';
import { dropDatabasesStartingWith } from '../support/database.ts';

const skip = chromiumMissing() || (!process.env.DSF_TEST_DATABASE_URL && 'DSF_TEST_DATABASE_URL is not set');
const prefix = `uisign_${randomBytes(3).toString('hex')}_`;
const SESSION_KEY = randomBytes(24).toString('base64');
const OIDC_ENV = [
  'DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW',
  'DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL',
  'DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID',
  'DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET',
  'DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TRUST_SERVER_CERTIFICATE_CAS',
  'DSF_SERVER_AUTH_OIDC_SESSION_KEY',
];
let dir: string;
let demo: RunningDemo;
let site: NetworkSiteFile;
let provider: TestOidcProvider;
let browser: TestBrowser;
let login: OidcLoginSettings;
let ui: string;

const email = (plays: string) => site.users.find((u) => u.name.endsWith(`-${plays}`))!.email;

before(async () => {
  if (skip) return;
  const certs = await testCertificates();
  const caPem = readFileSync(certs.ca.certPath, 'utf8');
  const providerCert = certs.organizations['Third_Test_Organization']!.server;
  const basePort = await findFreeBasePort(1);
  ui = `https://localhost:${basePort + BPE_PORT_OFFSET}/bpe/ui`;
  provider = await startTestOidcProvider({
    certPem: readFileSync(providerCert.certPath, 'utf8'),
    keyPem: readFileSync(providerCert.keyPath, 'utf8'),
    caPem,
    audience: 'dsf-bpe',
    clients: {},
    loginClients: { 'dsf-bpe': `${ui}/login/callback` },
  });
  login = {
    realmBaseUrl: provider.issuer,
    discoveryPath: '/.well-known/openid-configuration',
    clientId: 'dsf-bpe',
    clientSecret: provider.clientSecret('dsf-bpe'),
    trustedCas: [caPem],
    connectTimeoutMs: 5_000,
    readTimeoutMs: 10_000,
    sessionKey: SESSION_KEY,
  };
  // The demo hands its environment to each BPE (as an operator configures it); this test file runs in a process of its own.
  Object.assign(process.env, {
    DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL: login.realmBaseUrl,
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID: login.clientId,
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_SECRET: login.clientSecret,
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: caPem,
    DSF_SERVER_AUTH_OIDC_SESSION_KEY: SESSION_KEY,
  });
  dir = mkdtempSync(join(tmpdir(), 'dsf-ui-sign-in-'));
  demo = await startDemoNetwork({ dir, organizations: ['Test_DIC_1'], basePort, databaseUrl: process.env.DSF_TEST_DATABASE_URL, databasePrefix: prefix, log: () => {} });
  site = demo.network.sites[0]!;
  assert.equal(`${site.bpeBaseUrl}/ui`, ui);
  browser = await launchBrowser();
});

after(async () => {
  for (const name of OIDC_ENV) delete process.env[name];
  await browser?.close();
  await demo?.stop();
  await provider?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!skip) {
    await dropDatabasesStartingWith(process.env.DSF_TEST_DATABASE_URL!, prefix);
  }
});

/** From the BPE view's sign-in page through the provider's development form (account name, then consent). */
async function signIn(page: Page, account: string): Promise<void> {
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  if (await consent.isVisible({ timeout: 3_000 }).catch(() => false)) await consent.click();
}

test('without a certificate: the sign-in page over TLS, and the status endpoint refuses with 401', { skip, timeout: 60_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    const response = await page.goto(`${ui}/instances?state=running`);
    assert.equal(response?.status(), 401);
    assert.match(await page.locator('main').innerText(), /Not signed in/);
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).getAttribute('href'), '/bpe/ui/login?return=instances%3Fstate%3Drunning');
    assert.doesNotMatch(await page.locator('body').innerText(), /dsfdev_|helloUser/);
    await screenshot(page, 'bpe-sign-in-page');
  } finally {
    await context.close();
  }
  const http = new HttpsClient({ ca: readFileSync(demo.network.ca, 'utf8') });
  try {
    const status = await http.request(site.bpeBaseUrl);
    assert.equal(status.status, 401);
    assert.doesNotMatch(status.body, /processes|plugins/);
  } finally {
    http.close();
  }
});

test('an admin signs in, sees the instances, and signs out; the session is valid in another process with the same key', { skip, timeout: 120_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    await page.goto(`${ui}/instances?state=running`);
    await signIn(page, email('admin'));
    await page.waitForURL(`${ui}/instances?state=running`);
    await page.locator('h1', { hasText: 'Process instances' }).waitFor();
    assert.match(await page.locator('header .who').innerText(), new RegExp(`${email('admin')} · admin`));
    await page.goto(ui);
    await page.locator('table.entries').getByText('dsfdev_helloUser').waitFor();
    await screenshot(page, 'bpe-signed-in');

    const cookie = (await context.cookies(ui)).find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'session cookie');
    assert.equal(cookie.path, '/bpe/ui');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Lax');
    // Nothing is kept in the server's memory: any process with the site's key accepts the cookie, no other.
    assert.ok((await new OidcLogin(login).session(cookie.value))?.emails.includes(email('admin')));
    assert.equal(await new OidcLogin({ ...login, sessionKey: randomBytes(24).toString('base64') }).session(cookie.value), undefined);
    assert.equal(await new OidcLogin({ ...login, sessionKey: undefined }).session(cookie.value), undefined);

    // Sign-out is a POST from the view's own page: one from another origin (or without Origin) keeps the session.
    const http = new HttpsClient({ ca: readFileSync(demo.network.ca, 'utf8') });
    try {
      const withCookie = { cookie: `${SESSION_COOKIE}=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded' };
      for (const from of [{ origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
        const forged = await http.request(`${ui}/logout`, { method: 'POST', headers: { ...withCookie, ...from }, body: '' });
        assert.equal(forged.status, 403, JSON.stringify(from));
        assert.equal(forged.headers['set-cookie'], undefined);
      }
      const offered = await http.request(`${ui}/logout`, { headers: { cookie: withCookie.cookie } });
      assert.equal(offered.status, 200);
      assert.equal(offered.headers['set-cookie'], undefined, 'a GET signs nobody out');
      assert.equal((await http.request(`${ui}/instances`, { headers: { cookie: withCookie.cookie } })).status, 200, 'still signed in');

      // From the view's own origin a change with the cookie also needs the session's CSRF token of the forms' hidden field.
      const token = /<input type="hidden" name="dsf_csrf" value="([^"]+)">/.exec(offered.body)?.[1];
      assert.ok(token, 'the sign-out form carries the session token');
      const own = { ...withCookie, origin: new URL(ui).origin };
      for (const path of ['/logout', '/instances/00000000-0000-4000-8000-000000000000/cancel', '/jobs/00000000-0000-4000-8000-000000000000/retry']) {
        for (const body of ['', 'dsf_csrf=wrong', `dsf_csrf=${token.slice(0, -2)}`]) {
          const refused = await http.request(`${ui}${path}`, { method: 'POST', headers: own, body });
          assert.equal(refused.status, 403, `${path} ${body}`);
          assert.match(refused.body, /CSRF token of the session/);
          assert.equal(refused.headers['set-cookie'], undefined);
        }
      }
      // The right token passes: the unknown instance and job are 404 pages, not refusals.
      assert.equal((await http.request(`${ui}/instances/00000000-0000-4000-8000-000000000000/cancel`, { method: 'POST', headers: own, body: `dsf_csrf=${token}` })).status, 404);
      assert.equal((await http.request(`${ui}/jobs/00000000-0000-4000-8000-000000000000/retry`, { method: 'POST', headers: own, body: `dsf_csrf=${token}` })).status, 404);
      const instancesPage = await http.request(`${ui}/instances`, { headers: { cookie: withCookie.cookie } });
      assert.ok(instancesPage.body.includes(`name="dsf_csrf" value="${token}"`), 'the header\'s sign-out form carries it too');
    } finally {
      http.close();
    }

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('h1', { hasText: 'Signed out' }).waitFor();
    await screenshot(page, 'bpe-signed-out');
    const again = await page.goto(ui);
    assert.equal(again?.status(), 401);
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1);
  } finally {
    await context.close();
  }
});

test('an account without the ADMIN role gets a 403 page with no data', { skip, timeout: 90_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    await page.goto(`${ui}/instances`);
    await signIn(page, email('practitioner'));
    await page.waitForURL(`${ui}/instances`);
    assert.match(await page.locator('main').innerText(), /Forbidden/);
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /dsfdev_|helloUser|Process instances/);
    assert.equal(await page.locator('table').count(), 0);
    assert.equal((await page.goto(`${ui}/instances`))?.status(), 403);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1);
    await screenshot(page, 'bpe-sign-in-forbidden');
  } finally {
    await context.close();
  }
});

test('the sign-in steps over HTTP: PKCE towards the provider, a callback without its sign-in cookie or a forged session is refused', { skip, timeout: 60_000 }, async () => {
  const http = new HttpsClient({ ca: readFileSync(demo.network.ca, 'utf8') });
  try {
    const start = await http.request(`${ui}/login`);
    assert.equal(start.status, 302);
    const location = new URL(String(start.headers.location));
    assert.equal(location.origin, provider.issuer);
    assert.equal(location.searchParams.get('redirect_uri'), `${ui}/login/callback`);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(location.searchParams.get('state') && location.searchParams.get('nonce'));
    assert.match(String(start.headers['set-cookie']), /^dsf_login=[^;]+; Path=\/bpe\/ui; Max-Age=600; HttpOnly; Secure; SameSite=Lax/);

    const callback = await http.request(`${ui}/login/callback?state=${location.searchParams.get('state')}&code=forged`);
    assert.equal(callback.status, 401);
    assert.match(callback.body, /Sign-in failed/);
    assert.equal(callback.headers['set-cookie'], undefined);

    const forged = await http.request(ui, { headers: { cookie: `${SESSION_COOKIE}=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC` } });
    assert.equal(forged.status, 401);
    assert.doesNotMatch(forged.body, /dsfdev_/);
  } finally {
    http.close();
  }
});
