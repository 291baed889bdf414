// Error mails cannot flood the operator's mailbox: against a real SMTP server (smtp-server) on loopback, a
// burst of errors gives at most the configured number of mails plus one summary (identical errors folded,
// S/MIME signed like every mail), and an SMTP server that is down or hangs never slows the logging.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { SmtpMailService } from '../../src/bpe/services/smtp-mail-service.ts';
import { errorMailTap } from '../../src/bpe/services/error-mail.ts';
import { BpeLogger } from '../../src/bpe/services/logging.ts';
import { createMailService } from '../../src/bpe/services/mail-factory.ts';
import { signedMailConfig, signingKeyStore, verifySmime } from '../support/smime-mail.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';

let received: string[] = [];
let sink: SmtpSink;
let port: number;

before(async () => {
  sink = await startSmtpSink();
  received = sink.raw;
  port = sink.port;
});
after(() => sink?.close());

const mailConfig = (p: number) => ({ host: '127.0.0.1', port: p, useSmtps: false, fromAddress: 'bpe@test.org', toAddresses: ['ops@test.org'], toAddressesCc: [], replyToAddresses: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function plainBody(raw: string): string {
  return Buffer.from(raw.split('\r\n\r\n').slice(1).join('').replace(/\r\n/g, ''), 'base64').toString('utf8');
}

async function waitForMails(count: number, ms = 5000): Promise<void> {
  for (let i = 0; i < ms / 25 && received.length < count; i++) await sleep(25);
}

test('200 errors in a burst: at most N mails at once and one summary when the interval ends, identical errors folded', async () => {
  const reports: string[] = [];
  const tap = errorMailTap(new SmtpMailService(mailConfig(port)), { bufferSize: 3, logLocation: 'the BPE log', site: 'https://dsf.example.org/fhir', maxPerInterval: 5, intervalMs: 1500, report: (l) => reports.push(l) });
  const logger = new BpeLogger(() => {}).tapped(tap).child('process');
  const start = received.length;
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) logger.error(i % 2 ? 'Task/1 failed: https://dic2.test/fhir refused the connection' : `Task/2 failed: timeout`);
  const burstMs = performance.now() - t0;
  assert.ok(burstMs < 500, `logging 200 errors took ${burstMs.toFixed(0)} ms`);
  await tap.idle();
  assert.equal(received.length - start, 5, 'the first five errors are mailed, the rest held back');
  await waitForMails(start + 6);
  await tap.idle();
  await sleep(200);
  assert.equal(received.length - start, 6, 'N mails plus one summary');
  const raw = received[start + 5]!;
  assert.match(raw, /Subject: DSF BPE at https:\/\/dsf\.example\.org\/fhir: 195 more errors/);
  const body = plainBody(raw);
  assert.match(body, /logged 195 more errors between \d{4}-\d\d-\d\dT\S+ and \d{4}-\d\d-\d\dT\S+/);
  assert.match(body, /\s98 × \[process\] Task\/1 failed: https:\/\/dic2\.test\/fhir refused the connection/);
  assert.match(body, /\s97 × \[process\] Task\/2 failed: timeout/);
  assert.equal(body.split('\n').filter((l) => l.includes(' × ')).length, 2, 'one line per distinct error');
  assert.deepEqual(reports, []);

  // A new window: errors are mailed again.
  logger.error('Task/3 failed');
  await tap.idle();
  await waitForMails(start + 7);
  assert.equal(received.length - start, 7);
  tap.flush();
  await tap.idle();
  assert.equal(received.length - start, 7, 'no summary when nothing was held back');
});

test('SMTP down (connection refused): logging does not wait, failures are reported, the queue stays bounded', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const reports: string[] = [];
  const tap = errorMailTap(new SmtpMailService(mailConfig(deadPort)), { bufferSize: 2, logLocation: 'the BPE log', site: 'https://dsf.example.org/fhir', maxPerInterval: 4, intervalMs: 60_000, report: (l) => reports.push(l) });
  const logger = new BpeLogger(() => {}).tapped(tap);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) logger.error(`failure ${i}`);
  assert.ok(performance.now() - t0 < 500, 'logging does not wait for SMTP');
  await tap.idle();
  assert.equal(reports.filter((r) => r.startsWith('error mail not sent')).length, 4, reports.join('\n'));
  tap.flush();
  await tap.idle();
  assert.equal(reports.filter((r) => r.startsWith('error mail not sent')).length, 5, 'the summary was tried once too');
});

test('SMTP hangs (accepts, never answers): logging does not wait, mails beyond the queue are dropped and counted', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const reports: string[] = [];
  const tap = errorMailTap(new SmtpMailService(mailConfig((silent.address() as AddressInfo).port)), { bufferSize: 2, logLocation: 'the BPE log', site: 'x', maxPerInterval: 3, intervalMs: 60_000, report: (l) => reports.push(l) });
  const logger = new BpeLogger(() => {}).tapped(tap);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) logger.error(`failure ${i}`);
  tap.flush(); // the summary: one more for the queue (3 + 1 fits)
  for (let i = 0; i < 200; i++) logger.error(`again ${i}`); // a second window: its mails no longer fit
  assert.ok(performance.now() - t0 < 500, 'logging does not wait for SMTP');
  assert.ok(reports.some((r) => r.startsWith('error mail dropped')), reports.join('\n'));
  for (let i = 0; i < 100 && sockets.size === 0; i++) await sleep(20);
  // The server goes away: the waiting mails fail quickly instead of after the 30 s SMTP timeout.
  for (const s of sockets) s.destroy();
  silent.close();
  const closer = setInterval(() => {
    for (const s of sockets) s.destroy();
  }, 20);
  try {
    await tap.idle();
  } finally {
    clearInterval(closer);
  }
  assert.ok(reports.filter((r) => r.startsWith('error mail not sent')).length <= 5, 'at most the one being sent and the queue were tried');
});

test('the summary mail is S/MIME signed like every mail (openssl verifies it against the CA)', async () => {
  const store = await signingKeyStore();
  const config = signedMailConfig(store, port, { DSF_BPE_MAIL_ON_ERROR_MAX_PER_INTERVAL: '1', DSF_BPE_MAIL_ON_ERROR_INTERVAL: 'PT0.5S' });
  assert.equal(config.mail.mailOnErrorMaxPerInterval, 1);
  assert.equal(config.mail.mailOnErrorIntervalMs, 500);
  const mail = createMailService(config, new BpeLogger(() => {}));
  const tap = errorMailTap(mail, { bufferSize: 2, logLocation: 'the BPE log', site: config.fhirServerBaseUrl, maxPerInterval: config.mail.mailOnErrorMaxPerInterval, intervalMs: config.mail.mailOnErrorIntervalMs });
  const logger = new BpeLogger(() => {}).tapped(tap);
  const start = received.length;
  for (let i = 0; i < 3; i++) logger.error('the same failure');
  await waitForMails(start + 2);
  assert.equal(received.length - start, 2);
  const raw = received[start + 1]!;
  assert.match(raw, /2 more errors/);
  assert.match(raw, /Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256/);
  const verify = verifySmime(raw, store.caPath);
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.text, /\s2 × \[bpe\] the same failure/);
});
