// Mail as the reference sends it, against a real SMTP server (smtp-server) on loopback: S/MIME signed
// mails that openssl verifies against the CA (and refuses when changed), and mail on ERROR log lines
// with the lines before them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPkcs12 } from '../../src/common/pkcs12.ts';
import { SmtpMailService } from '../../src/bpe/services/smtp-mail-service.ts';
import { createSmimeSigner, readPkcs12KeyStore } from '../../src/bpe/services/smime-signer.ts';
import { errorMailTap } from '../../src/bpe/services/error-mail.ts';
import { BpeLogger } from '../../src/bpe/services/logging.ts';
import { createMailService } from '../../src/bpe/services/mail-factory.ts';
import { readBpeConfig } from '../../src/bpe/config.ts';
import { testCertificates } from '../support/fhir-site.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink.ts';

let sink: SmtpSink;
let received: ReceivedMail[] = [];
let port: number;
const dir = mkdtempSync(join(tmpdir(), 'dsf-mail-'));

before(async () => {
  sink = await startSmtpSink();
  received = sink.mails;
  port = sink.port;
});
after(() => sink?.close());

const mailConfig = () => ({ host: '127.0.0.1', port, useSmtps: false, fromAddress: 'bpe@test.org', toAddresses: ['ops@test.org'], toAddressesCc: ['cc@test.org'], replyToAddresses: [] });

async function nextMail(count: number): Promise<ReceivedMail> {
  for (let i = 0; i < 200 && received.length < count; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(received.length >= count, 'the SMTP server received the mail');
  return received[count - 1]!;
}

test('S/MIME: a mail signed with the key of a PKCS#12 key store verifies with openssl against the CA; a changed one does not', async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const p12 = join(dir, 'signing.p12');
  writeFileSync(p12, createPkcs12({ keyPem: readFileSync(org.client.keyPath, 'utf8'), certificatePems: [readFileSync(org.client.certPath, 'utf8')], password: 'p12-secret' }));
  const config = readBpeConfig({
    DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://localhost/fhir',
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
    DEV_DSF_BPE_MAIL_HOST: '127.0.0.1',
    DEV_DSF_BPE_MAIL_PORT: String(port),
    DEV_DSF_BPE_MAIL_FROMADDRESS: 'bpe@test.org',
    DEV_DSF_BPE_MAIL_TOADDRESSES: 'ops@test.org',
    DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE: p12,
    DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE_PASSWORD: 'p12-secret',
  });
  const lines: string[] = [];
  const mail = createMailService(config, new BpeLogger((_l, m) => lines.push(m)));
  assert.ok(mail instanceof SmtpMailService);
  assert.ok(lines.some((l) => l.includes('S/MIME signed as')), lines.join('\n'));
  const before = received.length;
  await mail.send('Signed ✓', 'A research request needs your attention.\nSecond line.');
  const m = await nextMail(before + 1);
  assert.deepEqual(m.to, ['ops@test.org']);
  assert.match(m.raw, /Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256/);
  const file = join(dir, 'signed.eml');
  writeFileSync(file, m.raw);
  const verify = spawnSync('openssl', ['smime', '-verify', '-in', file, '-CAfile', certs.ca.certPath, '-purpose', 'any'], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.stderr, /Verification successful/);
  assert.match(verify.stdout, /Content-Type: text\/plain; charset=UTF-8/);
  const text = Buffer.from(verify.stdout.split('\r\n\r\n')[1] ?? verify.stdout.split('\n\n')[1]!, 'base64').toString('utf8');
  assert.equal(text, 'A research request needs your attention.\nSecond line.');

  // One changed character in the signed part: the signature no longer verifies.
  const lastBody = m.raw.indexOf('Content-Transfer-Encoding: base64') + 40;
  const tampered = m.raw.slice(0, lastBody) + (m.raw[lastBody] === 'A' ? 'B' : 'A') + m.raw.slice(lastBody + 1);
  writeFileSync(join(dir, 'tampered.eml'), tampered);
  const bad = spawnSync('openssl', ['smime', '-verify', '-in', join(dir, 'tampered.eml'), '-CAfile', certs.ca.certPath, '-purpose', 'any'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});

test('a wrong key store password is a clear error at start', async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const p12 = join(dir, 'other.p12');
  writeFileSync(p12, createPkcs12({ keyPem: readFileSync(org.client.keyPath, 'utf8'), certificatePems: [readFileSync(org.client.certPath, 'utf8')], password: 'right' }));
  assert.throws(() => readPkcs12KeyStore(p12, 'wrong'), /cannot open the PKCS#12 key store/);
  const store = readPkcs12KeyStore(p12, 'right');
  assert.match(createSmimeSigner(store.keyPem, store.chainPem).subject, /Test_Organization|CN=/);
});

test('mail on ERROR log lines: one mail per error with the lines before it; other levels send nothing', async () => {
  const tap = errorMailTap(new SmtpMailService(mailConfig()), { bufferSize: 4, logLocation: '/var/log/dsf/bpe.log', site: 'https://dsf.example.org/fhir' });
  const console: string[] = [];
  const logger = new BpeLogger((_l, m) => console.push(m)).tapped(tap).child('process');
  const before = received.length;
  for (let i = 1; i <= 5; i++) logger.info(`step ${i}`);
  logger.warn('a warning');
  await tap.idle();
  assert.equal(received.length, before, 'no mail for info and warn');
  logger.error('Task/123 failed: the other site refused it');
  await tap.idle();
  const m = await nextMail(before + 1);
  assert.deepEqual(m.to.sort(), ['cc@test.org', 'ops@test.org']);
  assert.match(m.raw, /Subject: DSF BPE error at https:\/\/dsf\.example\.org\/fhir: \[process\] Task\/123 failed/);
  const body = Buffer.from(m.raw.split('\r\n\r\n').slice(1).join('').replace(/\r\n/g, ''), 'base64').toString('utf8');
  assert.match(body, /ERROR \[process\] Task\/123 failed/);
  assert.match(body, /WARN  \[process\] a warning/);
  assert.match(body, /step 5/);
  assert.doesNotMatch(body, /step 3/, 'four lines: the error and the three before it');
  assert.match(body, /More in \/var\/log\/dsf\/bpe\.log/);
  assert.equal(console.length, 7, 'the lines still reach the log');
});
