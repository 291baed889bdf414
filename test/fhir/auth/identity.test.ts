// Identities from client certificates over real mutual TLS: organisations by thumbprint (local,
// remote, via an Endpoint), local users from the role configuration, the reverse-proxy header, and
// every way to be refused (401 with an OperationOutcome).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import { createCa, issueCertificate, type IssuedCertificate } from '../../../src/common/x509-generate.ts';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { hasRole, isDsfAdmin, type Identity } from '../../../src/fhir/types/identity.ts';
import { siteEntries, THUMBPRINT_EXTENSION } from '../../../src/fhir/init-bundle.ts';
import { EventListener } from '../../../src/fhir/events/event-listener.ts';
import { IdentityProvider } from '../../../src/fhir/auth/identity-provider.ts';
import { RoleConfig } from '../../../src/fhir/auth/role-config.ts';
import { FhirTestClient, startTestSite, testCertificates, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
let caPem: string;
let caKeyPem: string;
let practitionerThumbprint: string;
const extraClients: HttpsClient[] = [];

before(async () => {
  const probe = await testCertificates();
  practitionerThumbprint = probe.users['practitioner']!.thumbprint;
  site = await startTestSite({
    remoteOrganizations: true,
    roleConfig: `
- practitioner-by-thumbprint:
    thumbprint: ${practitionerThumbprint}
    dsf-role: [READ, SEARCH, { CREATE: [Task, QuestionnaireResponse] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
- admins-by-email:
    email: admin@test.org
    dsf-role: [CREATE, READ, UPDATE, DELETE, SEARCH, HISTORY]
    practitioner-role: http://dsf.dev/fhir/CodeSystem/practitioner-role|DSF_ADMIN
`,
    auth: { trustedProxyAddresses: ['127.0.0.1'] },
  });
  caPem = readFileSync(site.certs.ca.certPath, 'utf8');
  caKeyPem = readFileSync(site.certs.ca.keyPath, 'utf8');
});

after(async () => {
  for (const c of extraClients) c.close();
  await site?.stop();
});

function clientWith(cert?: IssuedCertificate): FhirTestClient {
  const http = new HttpsClient(cert ? { cert: cert.certPem, key: cert.keyPem, ca: caPem } : { ca: caPem });
  extraClients.push(http);
  return new FhirTestClient(http, site.baseUrl);
}

function assertUnauthorized(r: { status: number; json: any }, pattern?: RegExp) {
  assert.equal(r.status, 401, JSON.stringify(r.json));
  assert.equal(r.json?.resourceType, 'OperationOutcome');
  assert.ok(['login', 'security'].includes(r.json.issue[0].code), r.json.issue[0].code);
  if (pattern) assert.match(r.json.issue[0].diagnostics, pattern);
}

const testCa = () => ({ certPem: caPem, keyPem: caKeyPem });
const newClientCert = (name: string, extra: Partial<Parameters<typeof issueCertificate>[1]> = {}) => issueCertificate(testCa(), { commonName: name, kind: 'client', ...extra });

/** One request from a chosen local address, without a client certificate unless given. */
function rawRequest(path: string, opts: { localAddress?: string; headers?: Record<string, string>; cert?: IssuedCertificate }): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${site.baseUrl}${path}`,
      { ca: caPem, agent: false, localAddress: opts.localAddress, cert: opts.cert?.certPem, key: opts.cert?.keyPem, headers: { accept: 'application/fhir+json', ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('without a client certificate every route answers 401 with an OperationOutcome, /metadata included', async () => {
  const anonymous = clientWith();
  for (const path of ['/metadata', '/Organization', '/Organization/00000000-0000-4000-8000-000000000001', '/NoSuchRoute/x/y/z']) {
    assertUnauthorized(await anonymous.get(path), /client certificate is required/);
  }
  assertUnauthorized(await anonymous.post('/Patient', { resourceType: 'Patient' }));
  assertUnauthorized(await anonymous.post('', { resourceType: 'Bundle', type: 'batch', entry: [] }));
});

test('the local organisation gets the local identity with every role and can create', async () => {
  const identity = await site.server.identities.resolveCertificate(readFileSync(site.certs.organizations['Test_Organization']!.client.certPath));
  assert.equal(identity.kind, 'organization');
  assert.equal(identity.local, true);
  assert.equal(identity.organizationIdentifier, testOrganizationIdentifier('Test_Organization'));
  assert.ok(hasRole(identity, 'PERMANENT_DELETE', 'Organization') && hasRole(identity, 'WEBSOCKET'));
  assert.equal(identity.kind === 'organization' && identity.endpoint?.address, site.baseUrl);
  assert.equal(identity.thumbprint, site.certs.organizations['Test_Organization']!.client.thumbprint);
  assert.ok(identity.expiresAt instanceof Date && identity.expiresAt.getTime() > Date.now());
  const r = await site.client.post('/Patient', { resourceType: 'Patient', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] } });
  assert.equal(r.status, 201, r.body);
});

test('a remote organisation gets a remote identity: create Task only, read/search/history everything', async () => {
  const external = site.certs.organizations['External_Test_Organization']!.client;
  const identity = await site.server.identities.resolveCertificate(readFileSync(external.certPath));
  assert.equal(identity.kind, 'organization');
  assert.equal(identity.local, false);
  assert.equal(identity.organizationIdentifier, testOrganizationIdentifier('External_Test_Organization'));
  assert.ok(hasRole(identity, 'CREATE', 'Task'));
  assert.ok(!hasRole(identity, 'CREATE', 'Organization'));
  assert.ok(hasRole(identity, 'READ', 'Organization') && hasRole(identity, 'SEARCH') && hasRole(identity, 'HISTORY'));
  assert.ok(!hasRole(identity, 'UPDATE', 'Task') && !hasRole(identity, 'DELETE', 'Task') && !hasRole(identity, 'WEBSOCKET'));
  assert.equal(identity.kind === 'organization' && identity.endpoint?.address, `https://${testOrganizationIdentifier('External_Test_Organization')}/fhir`);
  const r = await site.clientFor('External_Test_Organization').get('/Organization');
  assert.equal(r.status, 200);
});

test('certificates from an untrusted CA, expired or not yet valid are refused with 401', async () => {
  const otherCa = await createCa({ commonName: 'Some Other CA' });
  const untrusted = await issueCertificate(otherCa, { commonName: 'Test_Organization', kind: 'client' });
  assertUnauthorized(await clientWith(untrusted).get('/metadata'), /no trusted CA issued/);

  const day = 24 * 60 * 60 * 1000;
  const expired = await newClientCert('expired', { validFrom: new Date(Date.now() - 60 * day), validDays: 30 });
  assertUnauthorized(await clientWith(expired).get('/metadata'), /expired/);

  const notYetValid = await newClientCert('not-yet-valid', { validFrom: new Date(Date.now() + 30 * day), validDays: 30 });
  assertUnauthorized(await clientWith(notYetValid).get('/metadata'), /not valid before/);
});

test('a trusted certificate that belongs to no organisation and no configured user is refused with 401', async () => {
  const unknown = await newClientCert('nobody', { email: 'nobody@test.org' });
  assertUnauthorized(await clientWith(unknown).get('/metadata'), /Unknown client certificate/);
  await assert.rejects(site.server.identities.resolveCertificate(unknown.certPem), (e: any) => e.status === 401);
});

test('an inactive Organization gives no identity', async () => {
  const cert = await newClientCert('inactive-org');
  const entries = siteEntries({ organizationIdentifier: 'inactive.test', thumbprints: [cert.thumbprint], fhirBaseUrl: 'https://inactive.test/fhir' }, 7);
  (entries[0]!.resource as Organization).active = false;
  const r = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle);
  assert.equal(r.status, 200, r.body);
  assertUnauthorized(await clientWith(cert).get('/metadata'), /Unknown client certificate/);
});

test('an Endpoint carrying the thumbprint identifies its managing Organization, with that Endpoint', async () => {
  const orgCert = await newClientCert('endpoint-org');
  const endpointCert = await newClientCert('endpoint-only');
  const entries = siteEntries({ organizationIdentifier: 'endpoint-org.test', thumbprints: [orgCert.thumbprint], fhirBaseUrl: 'https://endpoint-org.test/fhir' }, 8);
  (entries[1]!.resource as Endpoint).extension = [{ url: THUMBPRINT_EXTENSION, valueString: endpointCert.thumbprint }];
  const r = await site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle);
  assert.equal(r.status, 200, r.body);

  const identity = await site.server.identities.resolveCertificate(endpointCert.certPem);
  assert.equal(identity.kind, 'organization');
  assert.equal(identity.local, false);
  assert.equal(identity.organizationIdentifier, 'endpoint-org.test');
  assert.equal(identity.kind === 'organization' && identity.endpoint?.address, 'https://endpoint-org.test/fhir');
  assert.equal((await clientWith(endpointCert).get('/metadata')).status, 200);
});

test('local users: a certificate matched by thumbprint, another by e-mail, with roles from the YAML', async () => {
  const practitioner = await site.server.identities.resolveCertificate(readFileSync(site.certs.users['practitioner']!.certPath));
  assert.equal(practitioner.kind, 'practitioner');
  assert.equal(practitioner.local, true);
  assert.equal(practitioner.organizationIdentifier, testOrganizationIdentifier('Test_Organization'));
  assert.equal(practitioner.kind === 'practitioner' && practitioner.email, 'practitioner@test.org');
  assert.ok(hasRole(practitioner, 'READ', 'Patient') && hasRole(practitioner, 'SEARCH'));
  assert.ok(hasRole(practitioner, 'CREATE', 'Task') && hasRole(practitioner, 'CREATE', 'QuestionnaireResponse'));
  assert.ok(!hasRole(practitioner, 'CREATE', 'Organization') && !hasRole(practitioner, 'UPDATE', 'Task'));
  assert.deepEqual(practitioner.kind === 'practitioner' && practitioner.practitionerRoles, [{ system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: 'DIC_USER' }]);
  assert.ok(!isDsfAdmin(practitioner));

  const admin: Identity = await site.server.identities.resolveCertificate(readFileSync(site.certs.users['admin']!.certPath));
  assert.equal(admin.kind, 'practitioner');
  assert.ok(isDsfAdmin(admin));
  assert.ok(hasRole(admin, 'UPDATE', 'Task') && !hasRole(admin, 'PERMANENT_DELETE', 'Task'));

  assert.equal((await site.clientFor('practitioner').get('/metadata')).status, 200);
  assert.equal((await site.clientFor('admin').get('/metadata')).status, 200);
});

test('X-ClientCert from a trusted proxy address identifies the caller; from any other address it is ignored', async () => {
  const external = readFileSync(site.certs.organizations['External_Test_Organization']!.client.certPath, 'utf8');
  // nginx's $ssl_client_escaped_cert form.
  const header = { 'X-ClientCert': encodeURIComponent(external) };
  assert.equal((await rawRequest('/metadata', { localAddress: '127.0.0.1', headers: header })).status, 200);
  // Apache's form: PEM with the line breaks turned into spaces.
  assert.equal((await rawRequest('/metadata', { localAddress: '127.0.0.1', headers: { 'x-clientcert': external.replace(/\n/g, ' ') } })).status, 200);

  // From 127.0.0.2 the header is not believed: no certificate at all.
  assertUnauthorized(await rawRequest('/metadata', { localAddress: '127.0.0.2', headers: header }), /client certificate is required/);
  // ... and the TLS certificate counts, not a header naming someone unknown.
  const unknown = await newClientCert('header-unknown');
  const local = { certPem: readFileSync(site.certs.organizations['Test_Organization']!.client.certPath, 'utf8'), keyPem: readFileSync(site.certs.organizations['Test_Organization']!.client.keyPath, 'utf8'), thumbprint: '' };
  assert.equal((await rawRequest('/metadata', { localAddress: '127.0.0.2', cert: local, headers: { 'X-ClientCert': encodeURIComponent(unknown.certPem) } })).status, 200);
  // From the trusted address the header wins over the proxy's own TLS certificate.
  assertUnauthorized(await rawRequest('/metadata', { localAddress: '127.0.0.1', cert: local, headers: { 'X-ClientCert': encodeURIComponent(unknown.certPem) } }), /Unknown client certificate/);
  assertUnauthorized(await rawRequest('/metadata', { localAddress: '127.0.0.1', headers: { 'X-ClientCert': 'not a certificate' } }), /holds no certificate/);
});

test('identities are cached and refreshed when the Organization changes: deactivated -> 401, reactivated -> 200', async () => {
  const third = site.clientFor('Third_Test_Organization');
  assert.equal((await third.get('/metadata')).status, 200);
  assert.equal((await third.get('/metadata')).status, 200);
  assert.ok(site.server.identities.cache.size > 0);

  const search = await site.client.get(`/Organization?identifier=http://dsf.dev/sid/organization-identifier|${testOrganizationIdentifier('Third_Test_Organization')}`);
  const organization = search.json.entry[0].resource as Organization;
  const deactivated = await site.client.put(`/Organization/${organization.id}`, { ...organization, active: false });
  assert.equal(deactivated.status, 200, deactivated.body);
  assertUnauthorized(await third.get('/metadata'), /Unknown client certificate/);

  const reactivated = await site.client.put(`/Organization/${organization.id}`, { ...deactivated.json, active: true });
  assert.equal(reactivated.status, 200, reactivated.body);
  assert.equal((await third.get('/metadata')).status, 200);
});

test('a connection keeps its identity only while the cache and the certificate hold it', async () => {
  // A local user by e-mail whose certificate ends in a few seconds; one keep-alive connection from an
  // address that is not a trusted proxy (a proxy's requests name their callers in a header each).
  const ports = new Set<number>();
  const get = () =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = https.request(`${site.baseUrl}/metadata`, { agent, headers: { accept: 'application/fhir+json' } }, (res) => {
        ports.add(res.socket.localPort!);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      });
      req.on('error', reject);
      req.end();
    });
  // The change stream still delivering the setup's Organizations would clear the cache meanwhile.
  const quietBy = Date.now() + 15_000;
  for (let seen = -1; seen !== site.server.identities.cache.generation && Date.now() < quietBy; ) {
    seen = site.server.identities.cache.generation;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const validFrom = new Date(Date.now() - 24 * 60 * 60 * 1000 + 4_000);
  const cert = await newClientCert('short-lived', { email: 'admin@test.org', validFrom, validDays: 1 });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.2', ca: caPem, cert: cert.certPem, key: cert.keyPem });
  try {
    assert.equal((await get()).status, 200);
    assert.equal((await get()).status, 200);
    // Cleared (as by a write of an Organization): the next request on the connection looks it up again.
    site.server.identities.cache.clear();
    assert.equal((await get()).status, 200);
    assert.ok(site.server.identities.cache.size > 0, 'looked up again after the clear');
    assert.equal((await get()).status, 200);
    // Past the certificate's end, on the same connection: refused.
    const generation = site.server.identities.cache.generation;
    const notAfter = validFrom.getTime() + 24 * 60 * 60 * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, notAfter - Date.now()) + 1_100));
    assertUnauthorized(await get(), /expired/);
    assert.equal(site.server.identities.cache.generation, generation, 'not cleared meanwhile: what ended was the identity kept on the connection');
    assert.equal(ports.size, 1, 'one connection');
  } finally {
    agent.destroy();
  }
});

test('a bearer token is refused with 401 when OIDC is not enabled', async () => {
  assertUnauthorized(await clientWith().get('/metadata', { authorization: 'Bearer abc.def.ghi' }), /Bearer tokens are not accepted/);
});

test('another process sharing the database drops its cached identities when a change commits (event stream)', async () => {
  const other = new IdentityProvider({
    pool: site.db.pool,
    localOrganizationIdentifier: testOrganizationIdentifier('Test_Organization'),
    trustedClientCas: [caPem],
    roleConfig: RoleConfig.empty(),
  });
  // As a second server process would: its own event stream feeds its identity cache.
  const stream = new EventListener(site.db.pool.options, { onChange: async (change) => other.observe(change), onGap: () => other.observeGap() });
  await stream.start();
  try {
    const identity = await other.resolveCertificate(readFileSync(site.certs.organizations['External_Test_Organization']!.client.certPath));
    assert.ok(identity.kind === 'organization' && identity.endpoint?.id);
    assert.equal(other.cache.size, 1);

    // The write goes through the server, whose hooks know nothing of `other`: only the NOTIFY reaches it.
    const endpoint = identity.kind === 'organization' ? identity.endpoint! : undefined;
    const r = await site.client.put(`/Endpoint/${endpoint!.id}`, { ...endpoint, name: 'renamed endpoint' });
    assert.equal(r.status, 200, r.body);
    const deadline = Date.now() + 10_000;
    while (other.cache.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(other.cache.size, 0);
    const refreshed = await other.resolveCertificate(readFileSync(site.certs.organizations['External_Test_Organization']!.client.certPath));
    assert.equal(refreshed.kind === 'organization' && refreshed.endpoint?.name, 'renamed endpoint');
  } finally {
    await stream.stop();
  }
});
