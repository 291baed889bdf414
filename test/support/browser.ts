// Debian's Chromium driven by playwright-core for the UI tests: headless, no sandbox (root in CI), a
// fresh profile per launch, nothing fetched from the network by the browser itself. Screenshots go to
// test-artifacts/ui/ (gitignored).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join('test-artifacts', 'ui');

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
}

export interface TestBrowser {
  /** A new context (own cookies) presenting this client certificate to the given origins, or none. */
  context(opts?: { cert?: { certPath: string; keyPath: string }; origins?: string[]; width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  // playwright's launch gives the browser a new, temporary user-data-dir of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    async context(opts = {}) {
      return browser.newContext({
        ignoreHTTPSErrors: true, // the demo CA is not in Chromium's store; the servers' certificates are the test's own
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
        clientCertificates: opts.cert ? (opts.origins ?? []).map((origin) => ({ origin, certPath: opts.cert!.certPath, keyPath: opts.cert!.keyPath })) : undefined,
      });
    },
    async close() {
      await browser.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Reloads the page until `visible` holds (the engine works in the background), at most `timeoutMs`. */
export async function reloadUntil(page: Page, visible: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await visible())) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs / 1000} s: ${what}`);
    await page.waitForTimeout(500);
    await page.reload();
  }
}
