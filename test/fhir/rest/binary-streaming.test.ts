// A large Binary goes up and comes down as a stream: the server (in this process) never holds it whole.
// The body is generated on the fly and consumed by counting and hashing, so the client buffers nothing
// either; memory is sampled during both transfers and must stay far below the body size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';

const MiB = 1024 * 1024;
const BODY_BYTES = 200 * MiB;
/** Live external buffers: far below the body, far above what streaming needs (a few 256 KiB chunks, socket buffers). */
const LIVE_BUFFER_BOUND = 32 * MiB;
/** Resident memory moves with heap and allocator behaviour; buffering the body would still cross this. */
const RSS_BOUND = BODY_BYTES / 2;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let site: TestSite;
before(async () => {
  site = await startTestSite({ config: { maxBinaryBytes: 256 * MiB } });
});
after(() => site?.stop());

/**
 * Peak growth of live external buffers and of resident memory over a baseline. Each sample (every 1.5 s:
 * a full GC of this process's heap takes ~150 ms) follows two full GCs, so garbage is not taken for
 * buffering: V8 lets about 64 MB of dead external memory pile up between collections, and frees array
 * buffers of one collection only while sweeping, which the second collection completes.
 */
function memoryWatch(): { stop(): { arrayBuffers: number; rss: number } } {
  gc();
  gc();
  const base = process.memoryUsage();
  let peakArrayBuffers = base.arrayBuffers;
  let peakRss = base.rss;
  const timer = setInterval(() => {
    gc();
    gc();
    const m = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss);
  }, 1500);
  return {
    stop() {
      clearInterval(timer);
      return { arrayBuffers: peakArrayBuffers - base.arrayBuffers, rss: peakRss - base.rss };
    },
  };
}

/** BODY_BYTES of random data in 64 KiB chunks, hashed as they are produced. */
function generatedBody(hash: ReturnType<typeof createHash>): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= BODY_BYTES) return void this.push(null);
      const chunk = randomBytes(Math.min(64 * 1024, BODY_BYTES - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

test(`a ${BODY_BYTES / MiB} MiB Binary is uploaded and downloaded as a stream`, async () => {
  const orgs = await site.client.get('/Organization');
  const sentHash = createHash('sha256');

  const upWatch = memoryWatch();
  const up = await site.client.http.stream(`${site.baseUrl}/Binary`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-security-context': `Organization/${orgs.json.entry[0].resource.id}`, prefer: 'return=minimal' },
    body: generatedBody(sentHash),
    timeoutMs: 120_000,
  });
  up.body.resume();
  const upMemory = upWatch.stop();
  assert.equal(up.status, 201);
  const location = String(up.headers.location);

  const downWatch = memoryWatch();
  const down = await site.client.http.stream(location.replace(/\/_history\/\d+$/, ''), { timeoutMs: 120_000 });
  assert.equal(down.status, 200);
  assert.equal(down.headers['content-length'], String(BODY_BYTES));
  const receivedHash = createHash('sha256');
  let received = 0;
  for await (const chunk of down.body) {
    received += (chunk as Buffer).length;
    receivedHash.update(chunk as Buffer);
  }
  const downMemory = downWatch.stop();

  assert.equal(received, BODY_BYTES);
  assert.equal(receivedHash.digest('hex'), sentHash.digest('hex'));
  const size = await site.server.pool.query('SELECT size FROM binary_content');
  assert.equal(Number(size.rows[0].size), BODY_BYTES);
  for (const [phase, m] of [['upload', upMemory], ['download', downMemory]] as const) {
    process.stdout.write(`# ${phase}: peak growth arrayBuffers ${(m.arrayBuffers / MiB).toFixed(1)} MiB, rss ${(m.rss / MiB).toFixed(1)} MiB\n`);
    assert.ok(m.arrayBuffers < LIVE_BUFFER_BOUND, `${phase}: live external buffers grew by ${m.arrayBuffers} bytes`);
    assert.ok(m.rss < RSS_BOUND, `${phase}: resident memory grew by ${m.rss} bytes`);
  }
});
