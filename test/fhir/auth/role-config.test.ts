// The role configuration YAML (DEV_DSF_FHIR_SERVER_ROLECONFIG) and the authentication settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRoleConfig } from '../../../src/fhir/auth/role-config.ts';
import { readFhirServerConfig } from '../../../src/fhir/config.ts';
import { ConfigError } from '../../../src/common/config-reader.ts';

const T1 = 'a'.repeat(128);
const T2 = 'b'.repeat(128);

test('the reference documentation examples parse: lists or single values, typed dsf-roles, practitioner roles', () => {
  const problems: string[] = [];
  const config = parseRoleConfig(
    `
- certificate-admins:
    thumbprint:
      - ${T1}
      - ${T2}
    dsf-role: [CREATE, READ, UPDATE, DELETE, SEARCH, HISTORY]
    practitioner-role:
      - http://dsf.dev/fhir/CodeSystem/practitioner-role|DSF_ADMIN
- token-role-admins:
    token-role: admin
    dsf-role: READ
- practitioner-test-user:
    email: practitioner@test.org
    token-group: [/group-a]
    dsf-role: [READ, { CREATE: [Task] }, { CREATE: [QuestionnaireResponse] }]
`,
    problems,
  );
  assert.deepEqual(problems, []);
  assert.equal(config.rules.length, 3);
  assert.ok(config.hasThumbprint(T2));

  const admin = config.match({ thumbprint: T1 });
  assert.deepEqual(admin.rules, ['certificate-admins']);
  assert.equal(admin.dsfRoles.get('UPDATE'), 'all');
  assert.deepEqual(admin.practitionerRoles, [{ system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: 'DSF_ADMIN' }]);

  // Every matching rule applies; e-mail matching ignores case; typed grants of one role merge.
  const user = config.match({ emails: ['Practitioner@Test.org'], tokenRoles: ['admin'] });
  assert.deepEqual(user.rules, ['token-role-admins', 'practitioner-test-user']);
  assert.equal(user.dsfRoles.get('READ'), 'all');
  assert.deepEqual([...(user.dsfRoles.get('CREATE') as Set<string>)].sort(), ['QuestionnaireResponse', 'Task']);

  assert.deepEqual(config.match({ tokenGroups: ['/group-b'], emails: ['other@test.org'] }).rules, []);
});

test('empty values mean no rules', () => {
  for (const text of [undefined, '', '|', '""', '# nothing\n']) {
    const problems: string[] = [];
    assert.equal(parseRoleConfig(text, problems).rules.length, 0);
    assert.deepEqual(problems, []);
  }
});

test('every problem of a bad configuration is listed', () => {
  const problems: string[] = [];
  parseRoleConfig(
    `
- bad-values:
    thumbprint: ABC
    email: not-an-address
    dsf-role: [READ, FLY, { CREATE: [NoSuchType] }, 42]
    practitioner-role: [DSF_ADMIN]
    colour: blue
- matches-nobody:
    dsf-role: [READ]
- not-a-map: 17
- bad-values:
    thumbprint: ${T1}
`,
    problems,
  );
  const text = problems.join('\n');
  for (const expected of [/'ABC' is not a SHA-512 thumbprint/, /'not-an-address' is not an e-mail address/, /unknown role 'FLY'/, /CREATE must list resource types/, /got 42/, /must have the form system\|code/, /unknown property 'colour'/, /'matches-nobody': matches nobody/, /'not-a-map': expected a map/]) {
    assert.match(text, expected);
  }
  const notYaml: string[] = [];
  parseRoleConfig('- a: [unclosed', notYaml);
  assert.match(notYaml[0]!, /not valid YAML/);
  const notList: string[] = [];
  parseRoleConfig('rule: {}', notList);
  assert.match(notList[0]!, /expected a YAML list/);
});

test('the FHIR server configuration reads the authentication variables and reports their problems at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-role-config-'));
  const file = join(dir, 'roles.yaml');
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
  writeFileSync(file, `- from-file:\n    email: someone@test.org\n    dsf-role: [READ]\n`);
  const base = {
    DEV_DSF_FHIR_SERVER_BASE_URL: 'https://dsf.test/fhir',
    DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'dsf.test',
    DEV_DSF_SERVER_CERTIFICATE: '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----',
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----',
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: caFile,
  };
  const config = readFhirServerConfig({
    ...base,
    DEV_DSF_FHIR_SERVER_ROLECONFIG: file,
    DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER: 'SSL-Client-Cert',
    DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: '10.0.0.5, ::1',
    DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN: 'true',
    DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL: 'https://keycloak.test/realms/dsf',
    DEV_DSF_SERVER_AUTH_OIDC_CLIENT_ID: 'dsf-fhir',
  });
  assert.equal(config.auth?.clientCertificateHeader, 'SSL-Client-Cert');
  assert.deepEqual(config.auth?.trustedProxyAddresses, ['10.0.0.5', '::1']);
  assert.deepEqual(config.auth?.roleConfig.rules.map((r) => r.name), ['from-file']);
  assert.equal(config.auth?.oidc?.realmBaseUrl, 'https://keycloak.test/realms/dsf');
  assert.equal(config.auth?.oidc?.discoveryPath, '/.well-known/openid-configuration');
  assert.equal(config.auth?.oidc?.audience, undefined);
  assert.equal(readFhirServerConfig(base).auth?.clientCertificateHeader, 'X-ClientCert');
  assert.equal(readFhirServerConfig(base).auth?.oidc, undefined);

  assert.throws(
    () =>
      readFhirServerConfig({
        ...base,
        DEV_DSF_FHIR_SERVER_ROLECONFIG: '- r:\n    dsf-role: [JUMP]\n    email: a@b.org',
        DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES: 'proxy.local',
        DEV_DSF_SERVER_AUTH_OIDC_BEARER_TOKEN: 'true',
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const text = e.problems.join('\n');
      assert.match(text, /unknown role 'JUMP'/);
      assert.match(text, /'proxy.local' is not an IP address/);
      assert.match(text, /DEV_DSF_SERVER_AUTH_OIDC_PROVIDER_REALM_BASE_URL is required/);
      return true;
    },
  );
  const { DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: _cas, ...withoutCas } = base;
  assert.throws(
    () => readFhirServerConfig(withoutCas),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.problems.join('\n'), /DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS is required/);
      return true;
    },
  );
});
