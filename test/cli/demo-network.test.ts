// `npm start` runs `dsf demo`: these start the real command in a child process, as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { HttpsClient } from '../../src/common/https-client.ts';

interface Demo {
  output(): string;
  stop(): Promise<void>;
}

/** Runs `dsf demo` until it says the network is ready. */
async function startDemo(dir: string, basePort: number, extraArgs: string[], env: NodeJS.ProcessEnv): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--dir', dir, '--base-port', String(basePort), ...extraArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  const deadline = Date.now() + 90_000;
  while (!out.includes('network ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  if (!out.includes('network ready')) {
    await stop();
    assert.fail(`the demo did not start:\n${out}`);
  }
  return { output: () => out, stop };
}

function siteClient(network: any, site: any): HttpsClient {
  return new HttpsClient({ ca: readFileSync(network.ca, 'utf8'), cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8') });
}

test('dsf demo starts three sites that know each other, writes network.json and stops on SIGTERM', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-'));
  const basePort = await freePort();
  // The test PostgreSQL server (CI: the machine's) instead of an embedded one; the next test covers that.
  const server = process.env.DSF_TEST_DATABASE_URL!.replace(/\/[^/]*$/, `/postgres`);
  const demo = await startDemo(dir, basePort, ['--database-url', server], process.env);
  try {
    assert.match(demo.output(), /\[1\/6\] certificates/);
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    assert.equal(network.sites.length, 3);
    for (const site of network.sites) {
      const http = siteClient(network, site);
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
    const ca = readFileSync(network.ca, 'utf8');
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
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(demo.output(), /SIGTERM: stopping/);
});

test('npm start as a newcomer runs it: embedded PostgreSQL, data kept across a restart', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-embedded-')); // 0700: as root, the cluster is relocated
  const relocation = mkdtempSync(join(tmpdir(), 'dsf-demo-relocated-'));
  chmodSync(relocation, 0o755);
  const basePort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DSF_EMBEDDED_POSTGRES_ROOT_DIR: relocation };
  delete env.DSF_DEMO_DATABASE_URL;
  delete env.DSF_TEST_DATABASE_URL;
  let demo = await startDemo(dir, basePort, [], env);
  let patientId: string;
  try {
    assert.match(demo.output(), /starting embedded PostgreSQL/);
    assert.match(demo.output(), /PostgreSQL ready on 127\.0\.0\.1:\d+/);
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    const site = network.sites[0];
    const http = siteClient(network, site);
    try {
      const created = await http.request(`${site.fhirBaseUrl}/Patient`, {
        method: 'POST',
        headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, active: true }),
      });
      assert.equal(created.status, 201, created.body);
      patientId = JSON.parse(created.body).id;
    } finally {
      http.close();
    }
  } finally {
    await demo.stop();
  }
  demo = await startDemo(dir, basePort, [], env);
  try {
    assert.doesNotMatch(demo.output(), /created a PostgreSQL cluster/, 'the second start reuses the cluster');
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    const site = network.sites[0];
    const http = siteClient(network, site);
    try {
      const read = await http.request(`${site.fhirBaseUrl}/Patient/${patientId}`, { headers: { accept: 'application/fhir+json' } });
      assert.equal(read.status, 200, read.body);
    } finally {
      http.close();
    }
  } finally {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(relocation, { recursive: true, force: true });
  }
});
