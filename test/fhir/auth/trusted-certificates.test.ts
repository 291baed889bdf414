// The memo of verified client certificates must never outlive the validity of the certificate or of
// the CA that issued it, and must not remember rejections as trust.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCa, issueCertificate } from '../../../src/common/x509-generate.ts';
import { parseCertificatePem } from '../../../src/common/x509.ts';
import { TrustedCertificates } from '../../../src/fhir/auth/trusted-certificates.ts';

const DAY = 86_400_000;

test('a remembered certificate is trusted only within its own and its issuer\'s validity', async () => {
  const ca = await createCa({ commonName: 'Short CA', validDays: 10 });
  const leaf = await issueCertificate(ca, { commonName: 'org.test', kind: 'client', validDays: 30 });
  const other = await createCa({ commonName: 'Other CA', validDays: 30 });
  const stranger = await issueCertificate(other, { commonName: 'stranger', kind: 'client' });
  const trusted = new TrustedCertificates([ca.certPem]);
  const { der, thumbprint } = parseCertificatePem(leaf.certPem);

  assert.equal(trusted.check(thumbprint, der), true);
  assert.equal(trusted.check(thumbprint, der), true, 'second check from the memo');
  // The CA expires after 10 days although the leaf says 30: the memo must not keep trusting it.
  const late = trusted.check(thumbprint, der, new Date(Date.now() + 15 * DAY));
  assert.notEqual(late, true);
  assert.equal((late as { reason: string }).reason, 'expired');
  const early = trusted.check(thumbprint, der, new Date(Date.now() - 2 * DAY));
  assert.notEqual(early, true);

  const s = parseCertificatePem(stranger.certPem);
  for (let i = 0; i < 2; i++) assert.equal((trusted.check(s.thumbprint, s.der) as { reason: string }).reason, 'untrusted-issuer');
});
