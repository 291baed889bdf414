// BPE: Task-to-process start latency, from sending the create of a requested Task to the FHIR server
// until the process's first activity runs in the BPE (websocket event, Task handler, engine start),
// as a ratio to the create itself (the response time of the same requests) measured in the same run.
// The FHIR server runs as `dsf fhir` in a child process, the BPE in this process.
import { mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { createPool, withDatabase } from '../src/db/pool.ts';
import { startBpeServer } from '../src/bpe/bpe-server.ts';
import { readBpeConfig } from '../src/bpe/config.ts';
import { BpeLogger } from '../src/bpe/services/logging.ts';
import { startBenchSite } from './lib/bench-site.ts';

const ORG = 'Bench_Org';
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
};

function task(businessKey: string) {
  return {
    resourceType: 'Task',
    meta: { profile: ['http://bench.org/fhir/StructureDefinition/task-latency|1.0'] },
    instantiatesCanonical: 'http://bench.org/bpe/Process/latency|1.0',
    status: 'requested',
    intent: 'order',
    authoredOn: new Date().toISOString(),
    requester: { type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: ORG } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: ORG } }] },
    input: [
      { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'message-name' }] }, valueString: 'go' },
      { type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'business-key' }] }, valueString: businessKey },
    ],
  };
}

export async function run(serverUrl: string, log: (s: string) => void, options: { tasks?: number } = {}): Promise<Record<string, unknown>> {
  const dir = resolve('.dsf/bench');
  mkdirSync(dir, { recursive: true });
  const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: [ORG] });
  const org = certs.organizations[ORG]!;
  const site = await startBenchSite(serverUrl, certs, ORG, 'dsf_bench_bpe');
  const bpeDb = `dsf_bench_bpe_engine_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${bpeDb}`);
  const pool = createPool(withDatabase(serverUrl, bpeDb), 10);
  const probes = new Map<string, (t: number) => void>();
  (globalThis as { dsfBenchProbe?: (k: string) => void }).dsfBenchProbe = (k) => probes.get(k)?.(performance.now());
  const bpe = await startBpeServer(
    readBpeConfig({
      DEV_DSF_BPE_FHIR_SERVER_BASE_URL: site.baseUrl,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: org.client.keyPath,
      DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certs.ca.certPath,
      DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: resolve('bench/plugins'),
    }),
    { pool, logger: new BpeLogger(() => {}) },
  );
  const http = new HttpsClient({ ca: readFileSync(certs.ca.certPath, 'utf8'), cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') }, { maxSockets: 16 });
  try {
    await bpe.connected();
    const n = options.tasks ?? 300;
    const warmup = 30;
    const createMs: number[] = [];
    const startMs: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const key = randomUUID();
      const started = new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`process for ${key} did not start`)), 30_000);
        probes.set(key, (t) => {
          clearTimeout(timer);
          res(t);
        });
      });
      const t0 = performance.now();
      const r = await http.request(`${site.baseUrl}/Task`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' },
        body: JSON.stringify(task(key)),
      });
      const t1 = performance.now();
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.body}`);
      const t2 = await started;
      probes.delete(key);
      if (i >= warmup) {
        createMs.push(t1 - t0);
        startMs.push(t2 - t0);
      }
    }
    const out = {
      tasks: n,
      createP50ms: pct(createMs, 50),
      createP99ms: pct(createMs, 99),
      startP50ms: pct(startMs, 50),
      startP99ms: pct(startMs, 99),
      ratioP50: pct(startMs, 50) / pct(createMs, 50),
      ratioP99: pct(startMs, 99) / pct(createMs, 99),
    };
    log(`Task create (baseline)              p50 ${out.createP50ms.toFixed(2)} ms  p99 ${out.createP99ms.toFixed(2)} ms  ratio 1`);
    log(`Task created -> first activity runs  p50 ${out.startP50ms.toFixed(2)} ms  p99 ${out.startP99ms.toFixed(2)} ms  ratio p50 ${out.ratioP50.toFixed(2)}  p99 ${out.ratioP99.toFixed(2)}`);
    return out;
  } finally {
    delete (globalThis as { dsfBenchProbe?: unknown }).dsfBenchProbe;
    http.close();
    await bpe.stop();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${bpeDb} WITH (FORCE)`).catch(() => {});
    await admin.end();
    await site.stop();
  }
}
