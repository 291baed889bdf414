// Stopping the BPE mails the errors its mail rate limit held back (one summary), against a real SMTP
// server (smtp-server) on loopback; an SMTP server that hangs delays the stop by at most
// DSF_BPE_MAIL_ON_ERROR_SHUTDOWN_WAIT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { startBpeServer } from '../../../src/bpe/bpe-server.ts';
import type { BpeConfig } from '../../../src/bpe/config.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { bpeConfig, recordingLogger } from './bpe-support.ts';

let site: TestSite;
let db: TestDatabase;
let smtp: SmtpSink;
let received: string[] = [];
const pluginDirectory = mkdtempSync(join(tmpdir(), 'dsf-no-plugins-'));

before(async () => {
  site = await startTestSite();
  db = await createTestDatabase('dsf_bpe_mail_shutdown');
  smtp = await startSmtpSink();
  received = smtp.raw;
});
after(async () => {
  await smtp?.close();
  await db?.drop();
  await site?.stop();
  rmSync(pluginDirectory, { recursive: true, force: true });
});

function configWithErrorMails(smtpPort: number, shutdownWaitMs?: number): BpeConfig {
  return bpeConfig(site.certs, 'Test_Organization', site.baseUrl, {
    pluginDirectory,
    mail: {
      host: '127.0.0.1',
      port: smtpPort,
      useSmtps: false,
      fromAddress: 'bpe@test.org',
      toAddresses: ['ops@test.org'],
      toAddressesCc: [],
      replyToAddresses: [],
      sendMailOnErrorLogEvent: true,
      mailOnErrorMaxPerInterval: 1,
      mailOnErrorIntervalMs: 3_600_000,
      mailOnErrorShutdownWaitMs: shutdownWaitMs,
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('on stop the errors held back in the current window are mailed as a summary', async () => {
  const bpe = await startBpeServer(configWithErrorMails(smtp.port), { pool: db.pool, logger: recordingLogger().logger, jobPollIntervalMs: 50 });
  const start = received.length;
  try {
    await bpe.connected();
    for (let i = 0; i < 4; i++) bpe.core.logger.child('process').error(`Task/${i} failed: remote site refused`);
    for (let i = 0; i < 100 && received.length < start + 1; i++) await sleep(25);
    await sleep(200);
    assert.equal(received.length - start, 1, 'one mail in the window, three errors held back');
  } finally {
    await bpe.stop();
  }
  // stop() has returned: the summary is already at the SMTP server.
  assert.equal(received.length - start, 2);
  assert.match(received[start + 1]!, /Subject: DSF BPE at \S+: 3 more errors/);
});

test('an SMTP server that hangs delays the stop by at most the configured wait', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const bpe = await startBpeServer(configWithErrorMails((silent.address() as AddressInfo).port, 1_000), { pool: db.pool, logger: recordingLogger().logger, jobPollIntervalMs: 50 });
  try {
    await bpe.connected();
    for (let i = 0; i < 3; i++) bpe.core.logger.error(`failure ${i}`);
    for (let i = 0; i < 100 && sockets.size === 0; i++) await sleep(20);
    assert.ok(sockets.size > 0, 'the first mail is on its way');
    const started = Date.now();
    await bpe.stop();
    const took = Date.now() - started;
    // The rest of the stop takes well under a second on loopback; the mail wait adds at most 1 s.
    assert.ok(took < 5_000, `stop took ${took} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
