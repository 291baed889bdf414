// Raw Binary throughput: a 64 MiB body streamed up (POST /Binary) and down (GET /Binary/{id}) over TLS,
// in MiB/s, with the FHIR server's resident memory growth while it happens (it should stay far below
// the body size: content is streamed in chunks into PostgreSQL large objects and back).
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { HttpsClient } from '../src/common/https-client.ts';

const MiB = 1024 * 1024;
const BODY_MIB = 64;
const ROUNDS = 3;

function body(): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      this.push(sent++ < BODY_MIB ? block : null);
    },
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function measureBinary(client: HttpsClient, baseUrl: string, securityContext: string, serverRssMiB: () => number, log: (s: string) => void): Promise<Record<string, unknown>> {
  const up: number[] = [];
  const down: number[] = [];
  const rssBefore = serverRssMiB();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, serverRssMiB())), 50);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      const created = await client.stream(`${baseUrl}/Binary`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-security-context': securityContext, prefer: 'return=minimal' },
        body: body(),
        timeoutMs: 300_000,
      });
      created.body.resume();
      if (created.status !== 201) throw new Error(`Binary upload failed: ${created.status}`);
      up.push(BODY_MIB / ((performance.now() - t) / 1000));

      t = performance.now();
      const read = await client.stream(String(created.headers.location).replace(/\/_history\/\d+$/, ''), { timeoutMs: 300_000 });
      let bytes = 0;
      for await (const chunk of read.body) bytes += (chunk as Buffer).length;
      if (read.status !== 200 || bytes !== BODY_MIB * MiB) throw new Error(`Binary download failed: ${read.status}, ${bytes} bytes`);
      down.push(BODY_MIB / ((performance.now() - t) / 1000));
    }
  } finally {
    clearInterval(sampler);
  }
  const result = { bodyMiB: BODY_MIB, uploadMiBps: +median(up).toFixed(1), downloadMiBps: +median(down).toFixed(1), serverRssGrowthMiB: Math.round(rssPeak - rssBefore) };
  log(`raw Binary ${BODY_MIB} MiB: upload ${result.uploadMiBps} MiB/s, download ${result.downloadMiBps} MiB/s (median of ${ROUNDS}); server RSS +${result.serverRssGrowthMiB} MiB at peak`);
  return result;
}
