// Browser sign-in by OpenID Connect (authorization-code flow with PKCE) against a real OpenID provider
// (npm oidc-provider over HTTPS with its development login form), in Debian's Chromium: no certificate,
// sign in, the session cookie (HttpOnly, Secure, SameSite=Lax) makes the account a local user of the
// role configuration, pages show data; sign out ends it. An account the role configuration does not
// know gets no data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { freePort } from '../../src/db/embedded.ts';
import { startTestSite, testCertificates, type TestSite } from '../support/fhir-site.ts';
import { startTestOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts';
import { chromiumMissing, launchBrowser, screenshot, type TestBrowser } from '../support/browser.ts';

const skip = chromiumMissing();
let site: TestSite;
let provider: TestOidcProvider;
let browser: TestBrowser;
/** The site's base URL (chosen here: the provider must know the redirect URI first). */
let baseUrl: string;

before(async () => {
  if (skip) return;
  const certs = await testCertificates();
  const caPem = readFileSync(certs.ca.certPath, 'utf8');
  const serverCert = certs.organizations['Third_Test_Organization']!.server;
  const port = await freePort();
  baseUrl = `https://localhost:${port}/fhir`;
  provider = await startTestOidcProvider({
    certPem: readFileSync(serverCert.certPath, 'utf8'),
    keyPem: readFileSync(serverCert.keyPath, 'utf8'),
    caPem,
    audience: 'dsf-fhir',
    clients: {},
    loginClients: { 'dsf-ui': `${baseUrl}/login/callback` },
  });
  site = await startTestSite({
    config: { apiPort: port, baseUrl },
    roleConfig: `
- researchers:
    email: researcher@test.org
    dsf-role: [READ, SEARCH, HISTORY, { CREATE: [Task] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
`,
    auth: {
      oidcLogin: {
        realmBaseUrl: provider.issuer,
        discoveryPath: '/.well-known/openid-configuration',
        clientId: 'dsf-ui',
        clientSecret: provider.clientSecret('dsf-ui'),
        trustedCas: [caPem],
        connectTimeoutMs: 5_000,
        readTimeoutMs: 10_000,
      },
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await provider?.close();
});

/** Signs in through the provider's development form (account name, then consent). */
async function signIn(page: import('playwright-core').Page, account: string): Promise<void> {
  await page.getByRole('link', { name: 'sign in with your account' }).click();
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  // Consent, when the provider asks for it.
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  if (await consent.isVisible({ timeout: 3_000 }).catch(() => false)) await consent.click();
}

test('sign in with OIDC, see data as a local user, sign out', { skip, timeout: 90_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    const first = await page.goto(`${baseUrl}/Organization`);
    assert.equal(first?.status(), 401);
    await screenshot(page, 'oidc-sign-in-offered');
    await signIn(page, 'researcher@test.org');
    await page.waitForURL(`${baseUrl}/Organization`);
    await page.locator('table.entries').waitFor();
    assert.match(await page.locator('header .who').innerText(), /User researcher@test\.org/);
    await screenshot(page, 'oidc-signed-in');

    const cookie = (await context.cookies(baseUrl)).find((c) => c.name === 'dsf_session');
    assert.ok(cookie, 'session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.ok(cookie.expires > Date.now() / 1000 && cookie.expires < Date.now() / 1000 + 31 * 60, 'expires with the session timeout');

    // A tampered cookie is no session.
    await context.addCookies([{ ...cookie, value: `${cookie.value.slice(0, -4)}AAAA` }]);
    assert.equal((await page.goto(`${baseUrl}/Organization`))?.status(), 401);
    await context.addCookies([cookie]);
    assert.equal((await page.goto(`${baseUrl}/Organization`))?.status(), 200);

    // A change (here a search by POST) from the page's own origin with the session cookie needs the
    // session's CSRF token, which the page carries for its script: missing or wrong is refused.
    const token = await page.locator('body').getAttribute('data-csrf');
    assert.ok(token, 'the page carries the session token');
    const post = (csrf: string | undefined) =>
      page.evaluate(
        async ({ url, csrf }) =>
          (await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/fhir+json', 'content-type': 'application/x-www-form-urlencoded', ...(csrf ? { 'x-dsf-csrf': csrf } : {}) }, body: '_count=1' })).status,
        { url: `${baseUrl}/Organization/_search`, csrf },
      );
    assert.equal(await post(undefined), 403);
    assert.equal(await post(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`), 403);
    assert.equal(await post(token), 200);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('h1', { hasText: 'Signed out' }).waitFor();
    assert.equal((await page.goto(`${baseUrl}/Organization`))?.status(), 401);
  } finally {
    await context.close();
  }
});

test('an account the role configuration does not know sees no data', { skip, timeout: 60_000 }, async () => {
  const context = await browser.context();
  const page = await context.newPage();
  try {
    await page.goto(`${baseUrl}/Organization`);
    await signIn(page, 'stranger@test.org');
    await page.waitForURL(`${baseUrl}/Organization`);
    assert.match(await page.locator('main').innerText(), /not a user of this site/);
    assert.equal(await page.locator('table.entries').count(), 0);
    await screenshot(page, 'oidc-unknown-account');
  } finally {
    await context.close();
  }
});
