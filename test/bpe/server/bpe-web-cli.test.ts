// `dsf bpe` as an operator runs it, with DEV_DSF_BPE_SERVER_BASE_URL: the BPE serves HTTPS itself (not
// only in the demo). The BPE view answers an ADMIN of DEV_DSF_BPE_SERVER_ROLECONFIG, a 401 page to a
// browser without a certificate (the handshake asks for one, does not require it), a 403 page without
// data to a certificate no ADMIN rule names; the status JSON needs a trusted certificate. A change posted
// from another origin is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { siteEnv } from '../../support/site-env.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { createCa, issueCertificate } from '../../../src/common/x509-generate.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
let fhir: TestSite;
let bpeDb: TestDatabase;
let dir: string;
before(async () => {
  fhir = await startTestSite();
  bpeDb = await createTestDatabase('dsf_bpe_web');
  dir = mkdtempSync(join(tmpdir(), 'dsf-bpe-web-'));
});
after(async () => {
  await fhir?.stop();
  await bpeDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('dsf bpe serves the BPE view over HTTPS: 200 to an admin certificate, 401 page without one, 403 page to a non-admin; cross-site posts refused', { timeout: 120_000 }, async () => {
  const certs = fhir.certs;
  const org = certs.organizations.Test_Organization!;
  const ca = readFileSync(certs.ca.certPath, 'utf8');
  const port = await freePort();
  const base = `https://localhost:${port}/bpe`;
  const roleConfig = join(dir, 'bpe-roles.yaml');
  writeFileSync(roleConfig, ['- admins:', '    email: admin@test.org', '    dsf-role:', '      - ADMIN', ''].join('\n'));
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, 'bpe'], {
    env: {
      PATH: process.env.PATH ?? '',
      DEV_DSF_BPE_FHIR_SERVER_BASE_URL: fhir.baseUrl,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
      DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certs.ca.certPath,
      DEV_DSF_BPE_DB_URL: bpeDb.url,
      DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: dirname(FIXTURE_PLUGIN),
      TEST_PLUGIN_GREETING: 'hello',
      DEV_DSF_BPE_SERVER_BASE_URL: base,
      DEV_DSF_SERVER_API_PORT: String(port),
      DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
      DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
      DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: certs.ca.certPath,
      DEV_DSF_BPE_SERVER_ROLECONFIG: roleConfig,
      // As behind a reverse proxy on this machine that passes the client certificate in X-ClientCert.
      DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: '127.0.0.1',
      ...(process.env.DSF_DEFINITIONS_CACHE_DIR ? { DSF_DEFINITIONS_CACHE_DIR: process.env.DSF_DEFINITIONS_CACHE_DIR } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const as = (user?: string) => {
    const c = user ? certs.users[user]! : undefined;
    return new HttpsClient({ ca, ...(c ? { cert: readFileSync(c.certPath, 'utf8'), key: readFileSync(c.keyPath, 'utf8') } : {}) });
  };
  const admin = as('admin');
  const practitioner = as('practitioner');
  const anonymous = as();
  try {
    await waitFor('BPE connected', () => out.includes('BPE connected to its FHIR server'), 60_000);
    assert.match(out, new RegExp(`BPE view ${base}/ui`));

    const page = await admin.request(`${base}/ui`);
    assert.equal(page.status, 200, page.body);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /testorg_hello/);
    assert.match(page.body, /test-organization\.test/);
    const instances = await admin.request(`${base}/ui/instances?state=running`);
    assert.equal(instances.status, 200);

    const none = await anonymous.request(`${base}/ui/instances`);
    assert.equal(none.status, 401);
    assert.match(none.body, /Not signed in/);
    assert.doesNotMatch(none.body, /testorg_hello/);
    assert.equal((await anonymous.request(`${base}/status`)).status, 401);

    const forbidden = await practitioner.request(`${base}/ui`);
    assert.equal(forbidden.status, 403);
    assert.doesNotMatch(forbidden.body, /testorg_hello|<table/);
    // The status JSON needs only a trusted certificate.
    const status = JSON.parse((await practitioner.request(`${base}/status`)).body);
    assert.equal(status.organization, 'test-organization.test');
    assert.equal(status.connected, true);
    assert.ok(status.processes.some((p: { process: string; state: string }) => p.process === 'testorg_hello|1.0' && p.state === 'ACTIVE'), JSON.stringify(status.processes));

    // Behind a reverse proxy (a trusted address): the certificate in its header, checked against the trusted CAs.
    const proxied = (pem: string) => anonymous.request(`${base}/ui`, { headers: { 'x-clientcert': encodeURIComponent(pem) } });
    assert.equal((await proxied(readFileSync(certs.users.admin!.certPath, 'utf8'))).status, 200);
    assert.equal((await proxied(readFileSync(certs.users.practitioner!.certPath, 'utf8'))).status, 403);
    const otherCa = await createCa({ commonName: 'Other CA' });
    const stranger = await issueCertificate(otherCa, { commonName: 'stranger', kind: 'client', email: 'admin@test.org' });
    assert.equal((await proxied(stranger.certPem)).status, 401, 'a certificate of another CA is no one');
    assert.equal((await anonymous.request(`${base}/status`, { headers: { 'x-clientcert': encodeURIComponent(stranger.certPem) } })).status, 401);

    // Changes only from the view's own pages: another origin, or no Origin at all, is refused.
    const post = (path: string, headers: Record<string, string>) =>
      admin.request(`${base}/ui${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });
    const unknownJob = '00000000-0000-4000-8000-000000000000';
    const cases: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, {}, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of cases) {
      const refused = await post(`/jobs/${unknownJob}/retry`, headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(refused.body, /changes are accepted only from the pages of this view/);
      assert.equal((await post(`/instances/${unknownJob}/cancel`, headers)).status, 403);
    }
    // From the view itself the request passes the check (and finds no such job).
    assert.equal((await post(`/jobs/${unknownJob}/retry`, { origin: `https://localhost:${port}` })).status, 404);
    assert.equal((await post(`/jobs/${unknownJob}/retry`, { 'sec-fetch-site': 'same-origin' })).status, 404);
  } finally {
    for (const c of [admin, practitioner, anonymous]) c.close();
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out.slice(-2000));
});

test('dsf site serves the BPE view on a port of its own (DSF_BPE_SERVER_API_PORT) with the FHIR server certificate', { timeout: 120_000 }, async () => {
  const certs = fhir.certs;
  const org = certs.organizations.Test_Organization!;
  const ca = readFileSync(certs.ca.certPath, 'utf8');
  const siteFhirDb = await createTestDatabase('dsf_site_web_fhir');
  const siteBpeDb = await createTestDatabase('dsf_site_web_bpe');
  const [fhirPort, bpePort] = [await freePort(), await freePort()];
  const roleConfig = join(dir, 'site-bpe-roles.yaml');
  writeFileSync(roleConfig, ['- admins:', '    email: admin@test.org', '    dsf-role:', '      - ADMIN', ''].join('\n'));
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, 'site'], {
    env: {
      ...siteEnv({ certs, org, port: fhirPort, fhirDatabaseUrl: siteFhirDb.url, bpeDatabaseUrl: siteBpeDb.url, pluginDirectory: dirname(FIXTURE_PLUGIN) }),
      TEST_PLUGIN_GREETING: 'hello',
      DEV_DSF_BPE_SERVER_BASE_URL: `https://localhost:${bpePort}/bpe`,
      DSF_BPE_SERVER_API_PORT: String(bpePort),
      DEV_DSF_BPE_SERVER_ROLECONFIG: roleConfig,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const c = certs.users.admin!;
  const admin = new HttpsClient({ ca, cert: readFileSync(c.certPath, 'utf8'), key: readFileSync(c.keyPath, 'utf8') });
  try {
    await waitFor('BPE connected', () => out.includes('BPE connected to its FHIR server'), 60_000);
    const page = await admin.request(`https://localhost:${bpePort}/bpe/ui`);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /testorg_hello/);
    assert.match(page.body, new RegExp(`href="https://localhost:${fhirPort}/fhir/Task\\?status=draft"`));
  } finally {
    admin.close();
    child.kill('SIGTERM');
    const code = await exited;
    await siteFhirDb.drop();
    await siteBpeDb.drop();
    assert.equal(code, 0, out.slice(-2000));
  }
});

test('dsf site links the BPE view from the FHIR pages unless DSF_FHIR_SERVER_UI_BPE_URL says otherwise', async () => {
  const { siteEnvironment } = await import('../../../src/cli/site.ts');
  assert.equal(siteEnvironment({ DEV_DSF_BPE_SERVER_BASE_URL: 'https://bpe.example.org/bpe/' }).DSF_FHIR_SERVER_UI_BPE_URL, 'https://bpe.example.org/bpe/ui');
  assert.equal(siteEnvironment({ DEV_DSF_BPE_SERVER_BASE_URL: 'https://bpe.example.org/bpe', DSF_FHIR_SERVER_UI_BPE_URL: 'https://x.example.org/ui' }).DSF_FHIR_SERVER_UI_BPE_URL, 'https://x.example.org/ui');
  assert.equal(siteEnvironment({}).DSF_FHIR_SERVER_UI_BPE_URL, undefined);
});

test('dsf site refuses a BPE HTTPS port equal to the FHIR server port', async () => {
  const org = fhir.certs.organizations.Test_Organization!;
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, 'site'], {
    env: {
      PATH: process.env.PATH ?? '',
      DEV_DSF_FHIR_SERVER_BASE_URL: 'https://localhost:18443/fhir',
      DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'test-organization.test',
      DEV_DSF_SERVER_API_PORT: '18443',
      DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
      DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
      DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: fhir.certs.ca.certPath,
      DEV_DSF_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
      DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
      DEV_DSF_FHIR_DB_URL: bpeDb.url,
      DEV_DSF_BPE_DB_URL: bpeDb.url,
      DEV_DSF_BPE_SERVER_BASE_URL: 'https://localhost:18443/bpe',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 2, out);
  assert.match(out, /DSF_BPE_SERVER_API_PORT: the BPE's HTTPS server needs a port of its own/);
});
