// Mail as the reference sends it, against a real SMTP server (smtp-server) on loopback: S/MIME signed
// mails that openssl verifies against the CA (and refuses when changed), and mail on ERROR log lines
// with the lines before them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpMailService } from '../../src/bpe/services/smtp-mail-service.ts';
import { createSmimeSigner, readPkcs12KeyStore } from '../../src/bpe/services/smime-signer.ts';
import { errorMailTap } from '../../src/bpe/services/error-mail.ts';
import { BpeLogger } from '../../src/bpe/services/logging.ts';
import { createMailService } from '../../src/bpe/services/mail-factory.ts';
import { signedMailConfig, signingKeyStore, verifySmime } from '../support/smime-mail.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink.ts';

let sink: SmtpSink;
let received: ReceivedMail[] = [];
let port: number;

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
  const store = await signingKeyStore();
  const config = signedMailConfig(store, port);
  const lines: string[] = [];
  const mail = createMailService(config, new BpeLogger((_l, m) => lines.push(m)));
  assert.ok(mail instanceof SmtpMailService);
  assert.ok(lines.some((l) => l.includes('S/MIME signed as')), lines.join('\n'));
  const before = received.length;
  await mail.send('Signed ✓', 'A research request needs your attention.\nSecond line.');
  const m = await nextMail(before + 1);
  assert.deepEqual(m.to, ['ops@test.org']);
  assert.match(m.raw, /Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256/);
  const verify = verifySmime(m.raw, store.caPath);
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.stderr, /Verification successful/);
  assert.match(verify.stdout, /Content-Type: text\/plain; charset=UTF-8/);
  assert.equal(verify.text, 'A research request needs your attention.\nSecond line.');

  // One changed character in the signed part: the signature no longer verifies.
  const lastBody = m.raw.indexOf('Content-Transfer-Encoding: base64') + 40;
  const tampered = m.raw.slice(0, lastBody) + (m.raw[lastBody] === 'A' ? 'B' : 'A') + m.raw.slice(lastBody + 1);
  assert.notEqual(verifySmime(tampered, store.caPath).status, 0);
});

test('a wrong key store password is a clear error at start', async () => {
  const p12 = await signingKeyStore('right');
  assert.throws(() => readPkcs12KeyStore(p12.path, 'wrong'), /cannot open the PKCS#12 key store/);
  const store = readPkcs12KeyStore(p12.path, 'right');
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
