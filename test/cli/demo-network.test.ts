// `npm start` runs `dsf demo`: these start the real command in a child process, as a user would, and
// start a ping with the command the demo prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreeBasePort } from '../../src/cli/demo-network.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { randomBytes } from 'node:crypto';
import { dropDatabasesStartingWith } from '../support/database.ts';
import { withDatabase } from '../../src/db/pool.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

interface Demo {
  output(): string;
  stop(): Promise<void>;
}

/** Runs `dsf demo` until it says the network is ready. */
async function startDemo(dir: string, basePort: number, extraArgs: string[], env: NodeJS.ProcessEnv): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', TS_LOADER, 'src/cli/main.ts', 'demo', '--dir', dir, '--base-port', String(basePort), ...extraArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  // The listing after 'network ready' (sites, web UIs) can reach the pipe in a later chunk: wait for its end.
  const ready = () => out.includes('network ready') && out.includes('Ping every other site');
  while (!ready() && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  if (!ready()) {
    await stop();
    assert.fail(`the demo did not start:\n${out}`);
  }
  return { output: () => out, stop };
}

function siteClient(network: any, site: any): HttpsClient {
  return new HttpsClient({ ca: readFileSync(network.ca, 'utf8'), cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8') });
}

/** Runs the `npx dsf start-process …` line the demo printed (through tsx, as npx dsf does). */
async function runPrintedPing(output: string): Promise<string> {
  const line = output.split('\n').find((l) => l.trim().startsWith('npx dsf start-process'));
  assert.ok(line, `the demo prints a command that starts a ping:\n${output}`);
  const args = line.trim().split(/\s+/).slice(2);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TS_LOADER, 'src/cli/main.ts', ...args], { timeout: 90_000 });
  return stdout;
}

test('dsf demo starts three sites (FHIR server + BPE) that know each other, pings across them, writes network.json and stops on SIGTERM', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-'));
  const basePort = await findFreeBasePort(3);
  // The test PostgreSQL server (CI: the machine's) instead of an embedded one; the next test covers that.
  const server = withDatabase(process.env.DSF_TEST_DATABASE_URL!, 'postgres');
  // Databases of its own on the shared server, removed afterwards.
  const prefix = `demo_${randomBytes(4).toString('hex')}_`;
  const demo = await startDemo(dir, basePort, ['--database-url', server, '--database-prefix', prefix], process.env);
  try {
    assert.match(demo.output(), /\[1\/5\] certificates/);
    assert.match(demo.output(), /\[4\/5\] starting 3 BPE\(s\)/);
    assert.equal(demo.output().match(/BPE of Test_\w+: 13 processes active, connected/g)?.length, 3);
    // Each site's web UI, and how to sign in with a user's PKCS#12 file (written with the certificates).
    assert.equal(demo.output().match(/web UI {3}https:\/\/localhost:\d+\/fhir\/Task\?status=draft {3}process engine view https:\/\/localhost:\d+\/bpe\/ui/g)?.length, 3);
    assert.match(demo.output(), /import a user's \.p12 file .*password 'password'/);
    const p12Files = [...demo.output().matchAll(/\(([^()\s]+-admin\.p12)\)/g)].map((m) => m[1]!);
    assert.equal(p12Files.length, 3);
    for (const p12 of p12Files) assert.ok(readFileSync(resolve(p12)).length > 0, p12);
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    assert.equal(network.sites.length, 3);
    assert.equal(network.parentOrganization, 'Test_Consortium');
    // The printed command pings the two other sites from the first one; both answer.
    const ping = await runPrintedPing(demo.output());
    assert.match(ping, /status completed/);
    assert.equal(ping.match(/ping-status: pong-received \(correlation-key=[^,]+, organization-identifier=Test_(DIC_2|TTP),/g)?.length, 2, ping);
    for (const site of network.sites) {
      const http = siteClient(network, site);
      try {
        const r = await http.request(`${site.fhirBaseUrl}/Organization?_include=Organization:endpoint`, { headers: { accept: 'application/fhir+json' } });
        assert.equal(r.status, 200);
        const bundle = JSON.parse(r.body);
        assert.deepEqual(bundle.entry.filter((e: any) => e.resource.resourceType === 'Organization').map((e: any) => e.resource.identifier[0].value).sort(), ['Test_Consortium', 'Test_DIC_1', 'Test_DIC_2', 'Test_TTP']);
        const endpoints = bundle.entry.filter((e: any) => e.resource.resourceType === 'Endpoint').map((e: any) => e.resource.address).sort();
        assert.deepEqual(endpoints, network.sites.map((s: any) => s.fhirBaseUrl).sort());
        const own = bundle.entry.find((e: any) => e.resource.identifier?.[0]?.value === site.organization);
        assert.equal(own.resource.extension[0].valueString, site.thumbprint);
        // Roles through the parent organisation's affiliations: DIC for the DICs, TTP for the TTP.
        const roles = await http.request(`${site.fhirBaseUrl}/OrganizationAffiliation?primary-organization:identifier=http://dsf.dev/sid/organization-identifier|Test_Consortium`, { headers: { accept: 'application/fhir+json' } });
        const byMember = Object.fromEntries(
          JSON.parse(roles.body).entry.map((e: any) => [e.resource.participatingOrganization.identifier.value, e.resource.code.map((c: any) => c.coding[0].code).join(',')]),
        );
        assert.deepEqual(byMember, { Test_DIC_1: 'DIC', Test_DIC_2: 'DIC', Test_TTP: 'TTP' });
        // The BPE's status endpoint, at bpeBaseUrl.
        const bpe = JSON.parse((await http.request(site.bpeBaseUrl)).body);
        assert.equal(bpe.organization, site.organization);
        assert.equal(bpe.connected, true);
        assert.deepEqual(bpe.plugins, ['dsf-process-allow-list-1.0.0.1', 'dsf-ts-process-data-sharing-0.1.0.0', 'dsf-ts-process-feasibility-0.1.0.0', 'dsf-process-hello-world-1.5.0.0', 'dsf-process-ping-pong-1.0.1.0']);
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
    await dropDatabasesStartingWith(server, prefix);
  }
  assert.match(demo.output(), /SIGTERM: stopping/);
});

test('npm start as a newcomer runs it: embedded PostgreSQL, data kept across a restart', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-demo-embedded-')); // 0700: as root, the cluster is relocated
  const relocation = mkdtempSync(join(tmpdir(), 'dsf-demo-relocated-'));
  chmodSync(relocation, 0o755);
  const basePort = await findFreeBasePort(3);
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
    // The BPEs find their plugins' resources in place and write nothing.
    const deployments = readFileSync(join(dir, 'logs', 'Test_DIC_1-bpe.log'), 'utf8').match(/plugins deployed: .*/g) ?? [];
    assert.deepEqual(deployments.map((l) => l.replace(/^.*; /, '')), ['FHIR resources created 65, updated 0, deleted 0, unchanged 0', 'FHIR resources created 0, updated 0, deleted 0, unchanged 65']);
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

test('dsf demo --sites N: N-1 data integration centres and a trusted third party', async () => {
  const { demoOrganizations } = await import('../../src/cli/demo-network.ts');
  assert.deepEqual(demoOrganizations(1), ['Test_DIC_1']);
  assert.deepEqual(demoOrganizations(3), ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP']);
  assert.equal(demoOrganizations(10).length, 10);
  assert.throws(() => demoOrganizations(0), /--sites must be a whole number/);
});
