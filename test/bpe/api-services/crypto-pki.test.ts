// Certificates, keys and key stores written by Java (Bouncy Castle PEM, JDK PKCS#12): reading,
// key-pair and purpose checks, chain validation like Java's PKIX trust manager, and a real TLS
// handshake on loopback with TLS settings made from the key stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { connect } from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CertificateValidationError, KeyStoreError } from '../../../src/plugin-api/services/crypto.ts';
import { createCryptoService } from '../../../src/bpe/api-services/crypto/crypto-service.ts';
import { createCa, issueCertificate } from '../../../src/common/x509-generate.ts';

const PKI = join(import.meta.dirname, '../../fixtures/java-interop/pki');
const crypto = createCryptoService();
const file = (name: string) => join(PKI, name);

test('reads PEM certificates from text, bytes, streams and files; rejects what is not a certificate', async () => {
  const text = readFileSync(file('ca.crt'), 'utf8');
  const fromText = await crypto.readCertificate(text);
  assert.match(fromText.subject, /CN=Interop Test CA/);
  assert.equal((await crypto.readCertificate(Buffer.from(text))).fingerprint256, fromText.fingerprint256);
  assert.equal((await crypto.readCertificate(Readable.from([Buffer.from(text)]))).fingerprint256, fromText.fingerprint256);
  const both = readFileSync(file('ca.crt'), 'utf8') + readFileSync(file('client.crt'), 'utf8');
  assert.equal((await crypto.readCertificates(both)).length, 2);
  assert.deepEqual(await crypto.readCertificates(''), []);
  await assert.rejects(crypto.readCertificate(''), /no PEM object/);
  await assert.rejects(crypto.readCertificate(readFileSync(file('client.key'), 'utf8')), /ENCRYPTED PRIVATE KEY is not a certificate/);
  await assert.rejects(crypto.readCertificates(both + readFileSync(file('client.key'), 'utf8')), /not a certificate/);
});

test('reads encrypted PKCS#8 keys only with the right password; checks key pairs', async () => {
  await assert.rejects(crypto.readPrivateKeyFile(file('client.key')), /PKCS#8 encrypted private key, password required/);
  await assert.rejects(crypto.readPrivateKeyFile(file('client.key'), 'wrong'), /wrong password/);
  const clientKey = await crypto.readPrivateKeyFile(file('client.key'), 'password');
  const serverKey = await crypto.readPrivateKeyFile(file('server.key'), 'password');
  const client = await crypto.readCertificateFile(file('client.crt'));
  const server = await crypto.readCertificateFile(file('server.crt'));
  assert.equal(crypto.isKeyPair(clientKey, client.publicKey), true);
  assert.equal(crypto.isKeyPair(serverKey, server.publicKey), true);
  assert.equal(crypto.isKeyPair(clientKey, server.publicKey), false);
  assert.equal(crypto.isKeyPair(undefined, server.publicKey), false);
  const ec = await crypto.createKeyPairGeneratorSecp384r1AndInitialize().generateKeyPair();
  assert.equal(crypto.isKeyPair(ec.privateKey, ec.publicKey), true);
  assert.equal(crypto.isKeyPair(ec.privateKey, client.publicKey), false);
});

test('purpose and expiry checks', async () => {
  const client = await crypto.readCertificateFile(file('client.crt'));
  const server = await crypto.readCertificateFile(file('server.crt'));
  const ca = await crypto.readCertificateFile(file('ca.crt'));
  assert.equal(crypto.isClientCertificate(client), true);
  assert.equal(crypto.isClientCertificate(server), false);
  assert.equal(crypto.isServerCertificate(server), true);
  assert.equal(crypto.isServerCertificate(client), false);
  assert.equal(crypto.isClientCertificate(ca), false);
  assert.equal(crypto.isCertificateExpired(ca), false);
  assert.equal(crypto.isCertificateExpired(await crypto.readCertificateFile(file('expired.crt'))), true);
});

test('PKCS#12 from the JDK: MAC and password checked, key entry with chain, trusted entries', async () => {
  const clientStore = await crypto.readKeyStorePkcs12File(file('client.p12'), 'password');
  assert.deepEqual(clientStore.aliases(), ['client']);
  assert.equal(clientStore.isKeyEntry('client'), true);
  const chain = clientStore.getCertificateChain('client')!;
  assert.equal(chain.length, 2);
  assert.equal(crypto.isKeyPair(clientStore.getKey('client', 'password'), chain[0]!.publicKey), true);
  assert.throws(() => clientStore.getKey('client', 'other'), KeyStoreError);
  await assert.rejects(crypto.readKeyStorePkcs12File(file('client.p12'), 'wrong'), (e: Error) => e instanceof KeyStoreError && /integrity check failed/.test(e.message));
  await assert.rejects(crypto.readKeyStorePkcs12(Buffer.from('not a key store'), 'password'), KeyStoreError);
  const trustStore = await crypto.readKeyStorePkcs12(readFileSync(file('ca.p12')), 'password');
  assert.equal(trustStore.isCertificateEntry('ca'), true);
  await assert.rejects(crypto.readKeyStoreJks(Buffer.alloc(10)), (e: Error) => e instanceof KeyStoreError && /keytool -importkeystore/.test(e.message));
});

test('chain validation as a Java PKIX trust manager: trusted CA, purpose, dates, issuer', async () => {
  const trustStore = await crypto.readKeyStorePkcs12File(file('ca.p12'), 'password');
  const client = await crypto.readCertificateFile(file('client.crt'));
  const server = await crypto.readCertificateFile(file('server.crt'));
  const expired = await crypto.readCertificateFile(file('expired.crt'));
  crypto.validateClientCertificate(trustStore, client);
  crypto.validateServerCertificate(trustStore, [server]);
  assert.throws(() => crypto.validateClientCertificate(trustStore, server), (e: Error) => e instanceof CertificateValidationError && /TLS client/.test(e.message));
  assert.throws(() => crypto.validateServerCertificate(trustStore, client), /TLS server/);
  assert.throws(() => crypto.validateClientCertificate(trustStore, expired), /expired/);
  assert.throws(() => crypto.validateClientCertificate(crypto.createKeyStoreForTrustedCertificates(server), client), /PKIX path building failed/);
  assert.throws(() => crypto.validateClientCertificate(trustStore, []), /empty certificate chain/);

  // A chain through an intermediate the caller supplies; the intermediate must be a CA.
  const root = await createCa({ commonName: 'Root' });
  const rootCert = await crypto.readCertificate(root.certPem);
  const leaf = await issueCertificate(root, { commonName: 'leaf', kind: 'client' });
  const leafCert = await crypto.readCertificate(leaf.certPem);
  crypto.validateClientCertificate(crypto.createKeyStoreForTrustedCertificates([rootCert]), [leafCert]);
  const notCa = await issueCertificate(root, { commonName: 'not a ca', kind: 'client' });
  const notCaCert = await crypto.readCertificate(notCa.certPem);
  const other = await issueCertificate({ certPem: notCa.certPem, keyPem: notCa.keyPem }, { commonName: 'below a non-CA', kind: 'client' });
  const otherCert = await crypto.readCertificate(other.certPem);
  assert.throws(
    () => crypto.validateClientCertificate(crypto.createKeyStoreForTrustedCertificates(rootCert), [otherCert, notCaCert]),
    CertificateValidationError,
  );
});

test('created key stores and TLS settings from them complete a real TLS handshake with client authentication', async () => {
  const trustStore = await crypto.readKeyStorePkcs12File(file('ca.p12'), 'password');
  const clientStore = await crypto.readKeyStorePkcs12File(file('client.p12'), 'password');
  const serverKey = await crypto.readPrivateKeyFile(file('server.key'), 'password');
  const serverCert = await crypto.readCertificateFile(file('server.crt'));
  const serverStore = crypto.createKeyStoreForPrivateKeyAndCertificateChain(serverKey, 'secret', [serverCert]);
  assert.equal(serverStore.aliases().length, 1);

  let seenClient: string | undefined;
  const server = createServer(
    // Node's TLS server takes PEM options, not a context: the client side uses createSslContext.
    {
      key: serverStore.getKey(serverStore.aliases()[0]!, 'secret')!.export({ type: 'pkcs8', format: 'pem' }),
      cert: serverStore.getCertificateChain(serverStore.aliases()[0]!)!.map((c) => c.toString()).join(''),
      ca: readFileSync(file('ca.crt'), 'utf8'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      seenClient = (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
      res.end('ok');
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      secureContext: crypto.createSslContext(trustStore, clientStore, 'password'),
      checkServerIdentity: () => undefined, // the Java-made server certificate names no host
    });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let response = '';
    for await (const chunk of socket) response += chunk;
    assert.match(response, /200 OK[\s\S]*ok$/);
    assert.equal(seenClient, 'interop-client');
    assert.throws(() => crypto.createSslContext(trustStore, clientStore, 'wrong'), KeyStoreError);
  } finally {
    server.close();
  }
});
