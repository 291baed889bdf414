// PKCS#12 files written by src/common/pkcs12.ts: OpenSSL (through Node's TLS) loads them with the right
// password only, and a client presenting one is seen by a real TLS server with the certificate it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { createSecureContext, type PeerCertificate, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createCa, issueCertificate } from '../../src/common/x509-generate.ts';
import { createPkcs12 } from '../../src/common/pkcs12.ts';

for (const keyAlgorithm of ['ec-p256', 'rsa-2048'] as const) {
  test(`a PKCS#12 of an ${keyAlgorithm} client certificate works as the TLS client identity`, async () => {
    const ca = await createCa({ commonName: 'PKCS12 Test CA', keyAlgorithm });
    const server = await issueCertificate(ca, { commonName: 'localhost', kind: 'server', keyAlgorithm });
    const user = await issueCertificate(ca, { commonName: 'user', kind: 'client', email: 'user@test.org', keyAlgorithm });
    const pfx = createPkcs12({ keyPem: user.keyPem, certificatePems: [user.certPem, ca.certPem], password: 'password', friendlyName: 'user' });

    assert.doesNotThrow(() => createSecureContext({ pfx, passphrase: 'password' }));
    assert.throws(() => createSecureContext({ pfx, passphrase: 'wrong' }), /mac verify failure|bad decrypt|mac/i);

    let seen: PeerCertificate | undefined;
    const srv = https.createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      seen = (req.socket as TLSSocket).getPeerCertificate();
      res.end('ok');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as AddressInfo).port;
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, servername: 'localhost', path: '/', ca: ca.certPem, pfx, passphrase: 'password', agent: false }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      assert.equal(body, 'ok');
      assert.equal(seen?.fingerprint256, new X509Certificate(user.certPem).fingerprint256);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
}

test('the plugin API PKCS#12 reader (as Java reads it) finds the key entry with its chain', async () => {
  const { readPkcs12 } = await import('../../src/bpe/api-services/crypto/pkcs12-reader.ts');
  const ca = await createCa({ commonName: 'PKCS12 Test CA' });
  const user = await issueCertificate(ca, { commonName: 'user', kind: 'client' });
  const store = readPkcs12(createPkcs12({ keyPem: user.keyPem, certificatePems: [user.certPem, ca.certPem], password: 'password', friendlyName: 'user' }), 'password');
  assert.deepEqual(store.aliases(), ['user']);
  assert.ok(store.isKeyEntry('user'));
  assert.deepEqual(store.getCertificateChain('user')!.map((c) => c.fingerprint256), [new X509Certificate(user.certPem).fingerprint256, new X509Certificate(ca.certPem).fingerprint256]);
  assert.ok(store.getKey('user', 'password'));
});
