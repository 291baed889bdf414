// X.509 helpers checked against real TLS: a Node https server asks for client certificates, and
// what it sees is compared with what our helpers compute from the files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  headerCertificateToPem,
  parseCertificatePem,
  splitPemBundle,
  thumbprintSha512,
  toDer,
  verifyChain,
} from '../../src/common/x509.ts';
import { createCa, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/common/x509-generate.ts';

const DAY = 24 * 60 * 60 * 1000;

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let serverCert: IssuedCertificate;
let client: IssuedCertificate;
let expired: IssuedCertificate;
let notYetValid: IssuedCertificate;
let foreign: IssuedCertificate;
let server: Server;
let port: number;

interface SeenByServer {
  authorized: boolean;
  authorizationError: string | null;
  thumbprint: string | null;
}

before(async () => {
  ca = await createCa({ commonName: 'Test CA', validDays: 30 });
  otherCa = await createCa({ commonName: 'Other CA', validDays: 30 });
  serverCert = await issueCertificate(ca, { commonName: 'localhost', kind: 'server' });
  client = await issueCertificate(ca, { commonName: 'org1.test', kind: 'client', organization: 'org1.test' });
  expired = await issueCertificate(ca, { commonName: 'old', kind: 'client', validFrom: new Date(Date.now() - 10 * DAY), validDays: 2 });
  notYetValid = await issueCertificate(ca, { commonName: 'future', kind: 'client', validFrom: new Date(Date.now() + 5 * DAY), validDays: 10 });
  foreign = await issueCertificate(otherCa, { commonName: 'stranger', kind: 'client' });

  // As the FHIR server will: ask for a certificate, never refuse the handshake, decide afterwards.
  server = createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerX509Certificate();
    const seen: SeenByServer = {
      authorized: socket.authorized,
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
      thumbprint: peer ? thumbprintSha512(peer.raw) : null,
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One HTTPS request that checks the server's certificate strictly against our CA. */
function callServer(clientCert?: { certPem: string; keyPem: string }, servername = 'localhost', trust = ca.certPem): Promise<SeenByServer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername,
        path: '/',
        ca: trust,
        cert: clientCert?.certPem,
        key: clientCert?.keyPem,
        rejectUnauthorized: true,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as SeenByServer));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('a client certificate from the test CA is seen by a TLS server, with the thumbprint of the file', async () => {
  const seen = await callServer(client);
  assert.equal(seen.authorized, true, String(seen.authorizationError));
  assert.equal(seen.thumbprint, thumbprintSha512(client.certPem));
  assert.equal(seen.thumbprint, client.thumbprint);
  assert.match(client.thumbprint, /^[0-9a-f]{128}$/);
  assert.equal(verifyChain(client.certPem, [ca.certPem]), true);
});

test('without a client certificate the server sees none', async () => {
  const seen = await callServer(undefined);
  assert.equal(seen.thumbprint, null);
  assert.equal(seen.authorized, false);
});

test('an expired client certificate reaches the server but verifyChain rejects it as expired', async () => {
  const seen = await callServer(expired);
  assert.equal(seen.thumbprint, expired.thumbprint);
  assert.equal(seen.authorized, false);
  assert.equal(seen.authorizationError, 'CERT_HAS_EXPIRED');
  const result = verifyChain(expired.certPem, [ca.certPem]);
  assert.notEqual(result, true);
  assert.equal(result !== true && result.reason, 'expired');
});

test('a not-yet-valid client certificate is rejected as not yet valid', async () => {
  const seen = await callServer(notYetValid);
  assert.equal(seen.thumbprint, notYetValid.thumbprint);
  assert.equal(seen.authorizationError, 'CERT_NOT_YET_VALID');
  const result = verifyChain(notYetValid.certPem, [ca.certPem]);
  assert.equal(result !== true && result.reason, 'not-yet-valid');
  // The same certificate is fine once its time has come.
  assert.equal(verifyChain(notYetValid.certPem, [ca.certPem], new Date(Date.now() + 6 * DAY)), true);
});

test('a client certificate from another CA is rejected as untrusted', async () => {
  const seen = await callServer(foreign);
  assert.equal(seen.thumbprint, foreign.thumbprint);
  assert.equal(seen.authorized, false);
  const result = verifyChain(foreign.certPem, [ca.certPem]);
  assert.equal(result !== true && result.reason, 'untrusted-issuer');
  assert.equal(verifyChain(foreign.certPem, [ca.certPem, otherCa.certPem]), true);
  // A bundle file holding both CAs counts as both.
  assert.equal(verifyChain(foreign.certPem, [ca.certPem + otherCa.certPem]), true);
});

test('verifyChain checks the validity of the certificate at the given time and rejects a forged issuer name', async () => {
  const late = verifyChain(client.certPem, [ca.certPem], new Date(Date.now() + 2000 * DAY));
  assert.equal(late !== true && late.reason, 'expired');
  // Same subject as our CA, different key: the name matches but the signature does not.
  const impostor = await createCa({ commonName: 'Test CA', validDays: 30 });
  const forged = await issueCertificate(impostor, { commonName: 'org1.test', kind: 'client' });
  const result = verifyChain(forged.certPem, [ca.certPem]);
  assert.equal(result !== true && result.reason, 'untrusted-issuer');
  const garbage = verifyChain('not a certificate', [ca.certPem]);
  assert.equal(garbage !== true && garbage.reason, 'invalid-certificate');
});

test('the server certificate names localhost and 127.0.0.1 and nothing else', async () => {
  assert.equal((await callServer(client, 'localhost')).authorized, true);
  const byIp = await new Promise<boolean>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, ca: ca.certPem, rejectUnauthorized: true, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(byIp, true);
  await assert.rejects(callServer(client, 'other.example'), /altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
  await assert.rejects(callServer(client, 'localhost', otherCa.certPem), /self-signed|unable to verify|UNABLE_TO_VERIFY/i);
  const san = new X509Certificate(serverCert.certPem).subjectAltName;
  assert.equal(san, 'DNS:localhost, IP Address:127.0.0.1');
});

test('RSA 2048 CA and client certificates work with Node TLS too', async () => {
  const rsaCa = await createCa({ commonName: 'RSA CA', keyAlgorithm: 'rsa-2048' });
  const rsaClient = await issueCertificate(rsaCa, { commonName: 'rsa-client', kind: 'both', keyAlgorithm: 'rsa-2048' });
  assert.equal(new X509Certificate(rsaClient.certPem).publicKey.asymmetricKeyType, 'rsa');
  const seen = await callServer(rsaClient);
  assert.equal(seen.thumbprint, rsaClient.thumbprint);
  assert.equal(verifyChain(rsaClient.certPem, [rsaCa.certPem]), true);
  // An EC certificate issued by the RSA CA is signed with RSA.
  const mixed = await issueCertificate(rsaCa, { commonName: 'ec-under-rsa', kind: 'client' });
  assert.equal(verifyChain(mixed.certPem, [rsaCa.certPem]), true);
});

test('thumbprintSha512 agrees with Node for PEM text, PEM bytes and DER', () => {
  const expected = new X509Certificate(client.certPem).fingerprint512.replace(/:/g, '').toLowerCase();
  assert.equal(thumbprintSha512(client.certPem), expected);
  assert.equal(thumbprintSha512(Buffer.from(client.certPem)), expected);
  assert.equal(thumbprintSha512(toDer(client.certPem)), expected);
  assert.throws(() => thumbprintSha512('hello'), /no PEM certificate/);
});

test('parseCertificatePem reads names, e-mail, validity and thumbprint', async () => {
  const user = await issueCertificate(ca, { commonName: 'Doe, "Jane"', kind: 'client', email: 'jane@org1.test', organization: 'org1.test' });
  const info = parseCertificatePem(user.certPem);
  assert.equal(info.commonName, 'Doe, "Jane"');
  assert.equal(info.email, 'jane@org1.test');
  assert.match(info.subject, /O=org1\.test/);
  assert.equal(info.issuer, 'CN=Test CA');
  assert.equal(info.thumbprint, user.thumbprint);
  assert.ok(info.notBefore.getTime() <= Date.now() && info.notAfter.getTime() > Date.now());
  assert.deepEqual(info.der, toDer(user.certPem));

  const old = parseCertificatePem(expired.certPem);
  assert.ok(old.notAfter.getTime() < Date.now());
  assert.equal(old.email, undefined);
});

test('parseCertificatePem falls back to the SAN rfc822Name when the subject has no e-mail', async () => {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const { webcrypto } = await import('node:crypto');
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=san-only',
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'san@org.test' }])],
  });
  const info = parseCertificatePem(cert.toString('pem'));
  assert.equal(info.commonName, 'san-only');
  assert.equal(info.email, 'san@org.test');
});

test('splitPemBundle finds every certificate among other text', () => {
  const text = `Bag Attributes\n${ca.certPem}\nsubject=whatever\n${otherCa.certPem}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`;
  const certs = splitPemBundle(text);
  assert.equal(certs.length, 2);
  assert.equal(thumbprintSha512(certs[0]!), thumbprintSha512(ca.certPem));
  assert.equal(thumbprintSha512(certs[1]!), thumbprintSha512(otherCa.certPem));
  assert.deepEqual(splitPemBundle('nothing here'), []);
});

test('headerCertificateToPem normalises nginx and Apache header forms to PEM', () => {
  const pem = client.certPem;
  const nginxEscaped = encodeURIComponent(pem);
  assert.match(nginxEscaped, /%0A/);
  const apache = pem.trim().replace(/\n/g, ' ');
  const nginxLegacy = pem.trim().replace(/\n/g, '\n\t');
  const bareBase64 = toDer(pem).toString('base64');
  for (const [label, value] of Object.entries({ nginxEscaped, apache, nginxLegacy, bareBase64, plain: pem })) {
    const normalised = headerCertificateToPem(value);
    assert.ok(normalised, label);
    assert.match(normalised, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/, label);
    assert.equal(thumbprintSha512(normalised), client.thumbprint, label);
  }
  assert.equal(headerCertificateToPem([apache, 'ignored']), headerCertificateToPem(pem));
});

test('headerCertificateToPem returns undefined for values that are not certificates', () => {
  for (const value of [undefined, '', '   ', '(null)', 'hello world', '%ZZ', '-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----', 'QUJD']) {
    assert.equal(headerCertificateToPem(value), undefined, String(value));
  }
  const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----';
  assert.equal(headerCertificateToPem(key), undefined);
});

test('a certificate from a CA that has itself expired is rejected, naming the CA', async () => {
  const oldCa = await createCa({ commonName: 'Old CA', validFrom: new Date(Date.now() - 40 * DAY), validDays: 30 });
  const leaf = await issueCertificate(oldCa, { commonName: 'still-valid-leaf', kind: 'client', validDays: 5 });
  const result = verifyChain(leaf.certPem, [oldCa.certPem]);
  assert.equal(result !== true && result.reason, 'expired');
  assert.match(result !== true ? result.message : '', /issuing CA "CN=Old CA"/);
  const earlier = verifyChain(leaf.certPem, [oldCa.certPem], new Date(Date.now() - 20 * DAY));
  assert.equal(earlier !== true && earlier.reason, 'not-yet-valid');
});
