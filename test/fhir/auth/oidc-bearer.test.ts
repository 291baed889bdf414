// OIDC bearer tokens against a real OpenID provider (npm oidc-provider) over HTTPS with the test CA:
// tokens from the client-credentials grant, their e-mail/roles/groups mapped by the role configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { hasRole, isDsfAdmin } from '../../../src/fhir/types/identity.ts';
import { FhirTestClient, startTestSite, testCertificates, type TestSite } from '../../support/fhir-site.ts';
import { startTestOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.ts';

let site: TestSite;
let provider: TestOidcProvider;
let anonymous: FhirTestClient;
let http: HttpsClient;

before(async () => {
  const certs = await testCertificates();
  const caPem = readFileSync(certs.ca.certPath, 'utf8');
  const serverCert = certs.organizations['Third_Test_Organization']!.server;
  provider = await startTestOidcProvider({
    certPem: readFileSync(serverCert.certPath, 'utf8'),
    keyPem: readFileSync(serverCert.keyPath, 'utf8'),
    caPem,
    audience: 'dsf-fhir',
    clients: {
      'admin-client': { realm_access: { roles: ['dsf-admin', 'offline_access'] } },
      'client-role-client': { resource_access: { 'dsf-fhir': { roles: ['reader'] } } },
      'group-client': { groups: ['/dic-users'] },
      'email-client': { email: 'oidc.user@test.org', given_name: 'Olga', family_name: 'User' },
      'stranger-client': { email: 'stranger@test.org', realm_access: { roles: ['unrelated'] } },
    },
  });
  site = await startTestSite({
    roleConfig: `
- token-role-admins:
    token-role: dsf-admin
    dsf-role: [CREATE, READ, UPDATE, DELETE, SEARCH, HISTORY]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DSF_ADMIN]
- client-role-readers:
    token-role: dsf-fhir.reader
    dsf-role: [READ]
- dic-users:
    token-group: /dic-users
    dsf-role: [READ, SEARCH, { CREATE: [Task] }]
    practitioner-role: [http://dsf.dev/fhir/CodeSystem/practitioner-role|DIC_USER]
- by-email:
    email: oidc.user@test.org
    dsf-role: [HISTORY]
`,
    auth: {
      oidc: {
        realmBaseUrl: provider.issuer,
        discoveryPath: '/.well-known/openid-configuration',
        clientId: 'dsf-fhir',
        trustedCas: [caPem],
        connectTimeoutMs: 5_000,
        readTimeoutMs: 10_000,
      },
    },
  });
  http = new HttpsClient({ ca: caPem });
  anonymous = new FhirTestClient(http, site.baseUrl);
});

after(async () => {
  http?.close();
  await site?.stop();
  await provider?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('a token with a realm role from the configuration gives a DSF_ADMIN local user over HTTPS without a client certificate', async () => {
  const token = await provider.token('admin-client');
  const r = await anonymous.get('/Organization', bearer(token));
  assert.equal(r.status, 200, r.body);
  const identity = await site.server.identities.resolveToken(token);
  assert.equal(identity.kind, 'practitioner');
  assert.equal(identity.local, true);
  assert.ok(isDsfAdmin(identity));
  assert.ok(hasRole(identity, 'UPDATE', 'Task') && !hasRole(identity, 'WEBSOCKET'));
  assert.ok(identity.expiresAt && identity.expiresAt.getTime() > Date.now());
  assert.equal(identity.thumbprint, undefined);
});

test('client roles (resource_access.<client>.roles as <client>.<role>), groups and the email claim map through the YAML', async () => {
  const reader = await site.server.identities.resolveToken(await provider.token('client-role-client'));
  assert.deepEqual([...reader.roles.keys()], ['READ']);

  const group = await site.server.identities.resolveToken(await provider.token('group-client'));
  assert.ok(hasRole(group, 'CREATE', 'Task') && !hasRole(group, 'CREATE', 'Patient') && hasRole(group, 'SEARCH'));
  assert.deepEqual(group.kind === 'practitioner' && group.practitionerRoles, [{ system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: 'DIC_USER' }]);

  const byEmail = await site.server.identities.resolveToken(await provider.token('email-client'));
  assert.equal(byEmail.kind === 'practitioner' && byEmail.email, 'oidc.user@test.org');
  assert.equal(byEmail.displayName, 'Olga User');
  assert.deepEqual([...byEmail.roles.keys()], ['HISTORY']);
});

test('tokens that are malformed, expired, for another audience, signed by another key or of an unconfigured user give 401', async () => {
  const cases: [string, string, RegExp][] = [
    ['malformed', 'not.a.jwt', /not accepted/],
    ['expired', await provider.sign({ email: 'oidc.user@test.org' }, new Date(Date.now() - 60_000)), /expired/],
    ['other audience', await provider.token('admin-client', { resource: 'https://other-api.test' }), /not accepted/],
    ['unconfigured user', await provider.token('stranger-client'), /not belong to a configured local user/],
  ];
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const forged = await new SignJWT({ realm_access: { roles: ['dsf-admin'] } })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
    .setIssuer(provider.issuer)
    .setAudience('dsf-fhir')
    .setExpirationTime('5m')
    .sign(privateKey);
  cases.push(['forged signature', forged, /not accepted/]);
  assert.ok(await exportJWK(privateKey));

  for (const [name, token, pattern] of cases) {
    const r = await anonymous.get('/metadata', bearer(token));
    assert.equal(r.status, 401, `${name}: ${r.body}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(r.json.issue[0].diagnostics, pattern, name);
    assert.match(String(r.headers['www-authenticate']), /^Bearer/, name);
  }
});

test('without a token or certificate the request is refused; a certificate still works next to OIDC', async () => {
  const r = await anonymous.get('/metadata');
  assert.equal(r.status, 401);
  assert.equal((await site.client.get('/metadata')).status, 200);
});
