// `npm start` runs `dsf demo`: this starts the real command in a child process, as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { HttpsClient } from '../../src/common/https-client.ts';

test('dsf demo starts three sites that know each other, writes network.json and stops on SIGTERM', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-'));
  const basePort = await freePort();
  const env = { ...process.env };
  // The demo may use the test PostgreSQL server (CI) instead of starting its own.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--dir', dir, '--base-port', String(basePort), ...(env.DSF_TEST_DATABASE_URL ? ['--database-url', env.DSF_TEST_DATABASE_URL.replace(/\/[^/]*$/, `/postgres`)] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 90_000;
    while (!out.includes('network ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    assert.match(out, /network ready/, out);
    assert.match(out, /\[1\/6\] certificates/);
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    assert.equal(network.sites.length, 3);
    const ca = readFileSync(network.ca, 'utf8');
    for (const site of network.sites) {
      const http = new HttpsClient({ ca, cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8') });
      try {
        const r = await http.request(`${site.fhirBaseUrl}/Organization?_include=Organization:endpoint`, { headers: { accept: 'application/fhir+json' } });
        assert.equal(r.status, 200);
        const bundle = JSON.parse(r.body);
        assert.deepEqual(bundle.entry.filter((e: any) => e.resource.resourceType === 'Organization').map((e: any) => e.resource.identifier[0].value).sort(), ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP']);
        const endpoints = bundle.entry.filter((e: any) => e.resource.resourceType === 'Endpoint').map((e: any) => e.resource.address).sort();
        assert.deepEqual(endpoints, network.sites.map((s: any) => s.fhirBaseUrl).sort());
        const own = bundle.entry.find((e: any) => e.resource.identifier?.[0]?.value === site.organization);
        assert.equal(own.resource.extension[0].valueString, site.thumbprint);
      } finally {
        http.close();
      }
    }
    // Each site's users: recognised by certificate (PEM and PKCS#12) with their roles from the role configuration.
    assert.equal(network.userPkcs12Password, 'password');
    for (const site of network.sites) {
      assert.deepEqual(site.users.map((u: any) => u.plays.split(' ')[0]), ['practitioner', 'DSF_ADMIN', 'minimal']);
      assert.match(readFileSync(site.roleConfig, 'utf8'), /practitioner-role:\n\s+- http:\/\/dsf\.dev\/fhir\/CodeSystem\/practitioner-role\|(DIC|TTP)_USER/);
      const [practitioner, admin, minimal] = site.users;
      const asUser = (u: any, pkcs12: boolean) =>
        new HttpsClient(pkcs12 ? { ca, pfx: readFileSync(u.p12), passphrase: network.userPkcs12Password } : { ca, cert: readFileSync(u.cert, 'utf8'), key: readFileSync(u.key, 'utf8') });
      const status = async (u: any, path: string, pkcs12 = false) => {
        const http = asUser(u, pkcs12);
        try {
          return (await http.request(`${site.fhirBaseUrl}${path}`, { headers: { accept: 'application/fhir+json' } })).status;
        } finally {
          http.close();
        }
      };
      assert.equal(await status(practitioner, '/Organization'), 200, `${practitioner.name} reads Organizations`);
      assert.equal(await status(admin, '/Organization', true), 200, `${admin.name} with its PKCS#12`);
      assert.equal(await status(minimal, '/Task', true), 200, `${minimal.name} searches Tasks`);
      assert.equal(await status(minimal, '/Organization'), 403, `${minimal.name} has no READ role for Organization`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  assert.match(out, /SIGTERM: stopping/);
});
