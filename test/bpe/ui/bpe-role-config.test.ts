// DEV_DSF_BPE_SERVER_ROLECONFIG: who may use the BPE view (role ADMIN), every problem reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpeRoleConfig } from '../../../src/bpe/ui/bpe-role-config.ts';

const THUMB = 'a'.repeat(128);

test('ADMIN rules match by thumbprint, e-mail (any case), token role or group; others are no admins', () => {
  const problems: string[] = [];
  const config = BpeRoleConfig.parse(
    `
- admin-cert:
    thumbprint: ${THUMB.toUpperCase()}
    dsf-role: [ADMIN]
- admin-mail:
    email: Admin@Site.test
    dsf-role: ADMIN
- keycloak-admins:
    token-role: bpe-admin
    token-group: /admins
    dsf-role: [ADMIN]
- no-role:
    email: user@site.test
`,
    problems,
  );
  assert.deepEqual(problems, []);
  assert.equal(config.isAdmin({ thumbprint: THUMB }), true);
  assert.equal(config.isAdmin({ emails: ['admin@site.test'] }), true);
  assert.equal(config.isAdmin({ tokenRoles: ['bpe-admin'] }), true);
  assert.equal(config.isAdmin({ tokenGroups: ['/admins'] }), true);
  assert.equal(config.isAdmin({ emails: ['user@site.test'] }), false);
  assert.equal(config.isAdmin({ thumbprint: 'b'.repeat(128) }), false);
  assert.equal(BpeRoleConfig.parse(undefined, problems).isAdmin({ thumbprint: THUMB }), false);
});

test('a bad configuration lists every problem', () => {
  const problems: string[] = [];
  BpeRoleConfig.parse(
    `
- a:
    email: x@y.test
    dsf-role: [READ, ADMIN]
    colour: blue
- b: just text
`,
    problems,
  );
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.ok(problems.every((p) => p.startsWith('DEV_DSF_BPE_SERVER_ROLECONFIG: ')));
  const notYaml: string[] = [];
  BpeRoleConfig.parse('- [unclosed', notYaml);
  assert.match(notYaml[0]!, /not valid YAML/);
});
