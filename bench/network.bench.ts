// Networks of DSF sites with the ping-pong plugin (`--only network`):
// - ping round trip between two sites (start Task created -> completed with the pong), p50/p99, as a
//   ratio to the create of that start Task (its response time) in the same run;
// - one ping fanning out to 2, 5 and 10 sites until every pong is in, as a ratio to the same create;
// - `npm start` until every site answers (FHIR /metadata and BPE status connected), cold (new folder)
//   and warm (second start), as a ratio to starting the `dsf` command that does nothing (`--help`);
// - resident memory: the `npm start` process per site (3 and 11 sites), and one site's FHIR server and
//   BPE as separate processes (the plugin test kit).
// The networks are the demo's (`npm start`'s code, all sites in this process, embedded PostgreSQL in a
// temporary folder); the BPEs poll for jobs every 200 ms, as `dsf bpe` does.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Task } from '@medplum/fhirtypes';
import { demoOrganizations, findFreeBasePort, startDemoNetwork, START_PING_DRAFT, type NetworkFile } from '../src/cli/demo-network.ts';
import { HttpFhirClient } from '../src/bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { findDraftTask, requestedTaskFrom } from '../src/plugin-api/draft-tasks.ts';
import { startTestNetwork } from '../src/testkit/index.ts';
import { TS_LOADER } from '../src/common/ts-loader-flag.ts';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
};
const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Resident set size of a process in bytes (Linux /proc). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

interface PingTiming {
  createMs: number;
  roundTripMs: number;
  pongs: number;
}

/** Creates the start-ping Task at a site and polls (every 5 ms) until it is completed. */
async function ping(client: HttpFhirClient, draft: Task): Promise<PingTiming> {
  const t0 = performance.now();
  const created = await client.createMinimal(requestedTaskFrom(draft));
  const t1 = performance.now();
  for (let i = 0; i < 12_000; i++) {
    const task = await client.read<Task>('Task', created.id);
    if (task.status === 'completed' || task.status === 'failed') {
      const t2 = performance.now();
      const pongs = (task.output ?? []).filter((o) => o.valueCoding?.code === 'pong-received').length;
      return { createMs: t1 - t0, roundTripMs: t2 - t0, pongs };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`ping Task ${created.id} did not end`);
}

async function withDemo<T>(sites: number, fn: (network: NetworkFile, client: HttpFhirClient) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-network-'));
  const demo = await startDemoNetwork({ dir, organizations: demoOrganizations(sites), basePort: await findFreeBasePort(sites), log: () => {} });
  const site = demo.network.sites[0]!;
  const http = new HttpsClient({ ca: readFileSync(demo.network.ca, 'utf8'), cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8') });
  try {
    return await fn(demo.network, new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 }));
  } finally {
    http.close();
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pings(client: HttpFhirClient, n: number, warmup: number, expectedPongs: number): Promise<PingTiming[]> {
  const draft = await findDraftTask(client, START_PING_DRAFT);
  const out: PingTiming[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const t = await ping(client, draft);
    if (t.pongs !== expectedPongs) throw new Error(`ping got ${t.pongs} pongs, expected ${expectedPongs}`);
    if (i >= warmup) out.push(t);
  }
  return out;
}

/** Spawns `npm start`'s command and resolves when every site answers; then stops it. */
export async function timeStart(dir: string, sites: number, basePort: number): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', TS_LOADER, 'src/cli/main.ts', 'demo', '--dir', dir, '--sites', String(sites), '--base-port', String(basePort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DSF_DEMO_DATABASE_URL: '' },
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const orgs = demoOrganizations(sites);
    const answered = new Set<string>();
    let http: HttpsClient | undefined;
    for (let i = 0; answered.size < sites * 2; i++) {
      if (child.exitCode !== null) throw new Error('the demo exited');
      if (i > 6_000) throw new Error('the demo did not answer within 5 minutes');
      const ca = join(dir, 'certs', 'ca.crt');
      const cert = join(dir, 'certs', orgs[0]!, 'client.crt');
      if (!http && existsSync(ca) && existsSync(cert)) {
        http = new HttpsClient({ ca: readFileSync(ca, 'utf8'), cert: readFileSync(cert, 'utf8'), key: readFileSync(join(dir, 'certs', orgs[0]!, 'client.key'), 'utf8') });
      }
      if (http) {
        for (let s = 0; s < sites; s++) {
          const fhir = `https://localhost:${basePort + s}/fhir/metadata`;
          const bpe = `https://localhost:${basePort + 1000 + s}/bpe`;
          for (const url of [fhir, bpe]) {
            if (answered.has(url)) continue;
            const r = await http.request(url, { timeoutMs: 2_000, connectTimeoutMs: 500 }).catch(() => undefined);
            if (r?.status === 200 && (url === fhir || JSON.parse(r.body).connected === true)) answered.add(url);
          }
        }
      }
      if (answered.size < sites * 2) await new Promise((r) => setTimeout(r, 50));
    }
    http?.close();
    return performance.now() - t0;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function timeCommand(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', TS_LOADER, ...args], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return performance.now() - t0;
}

export async function run(log: (s: string) => void, options: { pings?: number; fanOutPings?: number } = {}): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const n = options.pings ?? 50;

  // Round trip between two sites.
  const roundTrip = await withDemo(2, (_, client) => pings(client, n, 5, 1));
  const create = roundTrip.map((t) => t.createMs);
  const rt = roundTrip.map((t) => t.roundTripMs);
  results.roundTrip = { pings: n, createP50ms: pct(create, 50), createP99ms: pct(create, 99), roundTripP50ms: pct(rt, 50), roundTripP99ms: pct(rt, 99) };
  log(`start Task create (baseline)      p50 ${pct(create, 50).toFixed(1)} ms  p99 ${pct(create, 99).toFixed(1)} ms  ratio 1`);
  log(`ping round trip, 2 sites          p50 ${pct(rt, 50).toFixed(1)} ms  p99 ${pct(rt, 99).toFixed(1)} ms  ratio p50 ${(pct(rt, 50) / pct(create, 50)).toFixed(1)}  p99 ${(pct(rt, 99) / pct(create, 99)).toFixed(1)}`);

  // Fan-out to 2, 5, 10 sites; memory of the whole network in this process.
  const fanOut: Record<string, unknown> = {};
  const baseRss = process.memoryUsage().rss;
  for (const targets of [2, 5, 10]) {
    const m = options.fanOutPings ?? 10;
    const timings = await withDemo(targets + 1, async (_, client) => {
      const t = await pings(client, m, 2, targets);
      (fanOut as Record<string, number>)[`rssWith${targets + 1}SitesMiB`] = mib(process.memoryUsage().rss);
      return t;
    });
    const ms = timings.map((t) => t.roundTripMs);
    const c = timings.map((t) => t.createMs);
    fanOut[`to${targets}`] = { pings: m, p50ms: pct(ms, 50), p99ms: pct(ms, 99), ratioP50: pct(ms, 50) / pct(c, 50) };
    log(`ping fan-out to ${String(targets).padStart(2)} sites, all pongs p50 ${pct(ms, 50).toFixed(0)} ms  p99 ${pct(ms, 99).toFixed(0)} ms  ratio p50 ${(pct(ms, 50) / pct(c, 50)).toFixed(1)} (to its create)`);
  }
  results.fanOut = fanOut;
  const perSite = ((fanOut.rssWith11SitesMiB as number) - (fanOut.rssWith3SitesMiB as number)) / 8;
  results.memoryInOneProcess = { baseMiB: mib(baseRss), with3Sites: fanOut.rssWith3SitesMiB, with11Sites: fanOut.rssWith11SitesMiB, perAdditionalSiteMiB: perSite };
  log(`resident memory, all sites in one process: 3 sites ${fanOut.rssWith3SitesMiB} MiB, 11 sites ${fanOut.rssWith11SitesMiB} MiB: ${perSite.toFixed(1)} MiB per additional site`);

  // One site as separate processes (test kit): FHIR server and BPE after a few pings.
  const kit = await startTestNetwork({ sites: ['Bench_A', 'Bench_B'], plugins: [resolve('plugins/ping-pong')], env: {}, startTimeoutMs: 180_000 });
  try {
    const a = kit.site('Bench_A');
    const draft = await findDraftTask(a.fhir, START_PING_DRAFT);
    for (let i = 0; i < 5; i++) {
      const t = await a.fhir.create(requestedTaskFrom(draft));
      await a.waitForTask(t.id!, 'completed');
    }
    const fhirRss = rssOf(a.fhirServer.pid!);
    const bpeRss = rssOf(a.bpe.pid!);
    results.memorySeparateProcesses = { fhirServerMiB: mib(fhirRss), bpeMiB: mib(bpeRss) };
    log(`resident memory, one site as separate processes: FHIR server ${mib(fhirRss)} MiB + BPE ${mib(bpeRss)} MiB`);
  } finally {
    await kit.stop();
  }

  // npm start until every site answers: cold and warm, against the bare command.
  const bare = await timeCommand(['src/cli/main.ts', '--help']);
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-start-'));
  try {
    const port = await findFreeBasePort(3);
    const cold = await timeStart(dir, 3, port);
    const warm = await timeStart(dir, 3, port);
    const port10 = await findFreeBasePort(10);
    const cold10 = await timeStart(join(dir, 'ten'), 10, port10);
    const warm10 = await timeStart(join(dir, 'ten'), 10, port10);
    results.startUntilAnswering = { bareCommandMs: bare, cold3Ms: cold, warm3Ms: warm, cold10Ms: cold10, warm10Ms: warm10 };
    log(`dsf --help (baseline)                     ${(bare / 1000).toFixed(2)} s  ratio 1`);
    log(`npm start until 3 sites answer:  cold ${(cold / 1000).toFixed(1)} s (ratio ${(cold / bare).toFixed(1)}), warm ${(warm / 1000).toFixed(1)} s (ratio ${(warm / bare).toFixed(1)})`);
    log(`dsf demo --sites 10 until all answer: cold ${(cold10 / 1000).toFixed(1)} s (ratio ${(cold10 / bare).toFixed(1)}), warm ${(warm10 / 1000).toFixed(1)} s (ratio ${(warm10 / bare).toFixed(1)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
