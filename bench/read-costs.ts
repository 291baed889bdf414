// Where a read's server CPU goes: an attribution ladder measured in one run. Each rung is a route that
// does a little more of a read than the one before, all answering with the same JSON text (a Patient
// as a read returns it) over the same mTLS setup and load generator as bench/fhir.bench.ts:
//   baseline   bench/lib/baseline-server.ts in its own process (the bench's TLS route)
//   bare       the same fastify route inside the FHIR server's process
//   hooks      our fastify app (identity, request scope, log line, metrics) around the fixed text
//   context    + the request context (authorization) and route parameters
//   store      + the read's service and store call (coalesced statement), without version headers
//   read       the read itself (GET Patient/id)
//   sfixed     a search's request and answer (Organization?identifier=, the searchset's bytes) through the
//              hooks, without the search: what the search's HTTP shape costs over the hooks rung
//   search     Organization?identifier= (the bench's token search)
//   name       Organization?name=Org%20NN (the bench's string search: one match each, Org 10 to Org 99)
// Per rung: server process CPU, PostgreSQL backend CPU and load generator CPU per request (medians of
// rounds alternating the rungs), and response header bytes. Optional, per rung at the end:
// DSF_LADDER_SYSCALLS=1 system calls and context switches per request of the server (perf stat), and
// DSF_LADDER_STRACE=1 the server's system calls by name per request (strace -c: slows the server,
// counts hold).
//
// DSF_LADDER_ONLY=bare,hooks limits the rungs; DSF_LADDER_AB=<checkout> adds that code's rungs (A/B, below).
//
// Reading an A/B: the per-rung lines "CPU here / @B" give each round's ratio; the coalescers' lines give
// each side's statements per request and items on their own round by round, and "statements here / @B"
// their ratio. Same code on both sides gives statements ratios near 1 in every round; a side whose items
// on their own jump (0.02 to 0.2-0.3) from one round on and stay there is not coalescing as before, and
// its CPU figures from there on measure that, not the code. Code before the identity cache's shared
// lookups (src/fhir/auth/identity-cache.ts, 2026-12-07) does so about 30 s after seeding, on whichever
// site's cache entry expired under concurrent requests (docs/performance.md, "the ladder A/B's drift"):
// against such a checkout compare the rounds before it, or both orders.
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import ./bin/ts-loader.mjs bench/read-costs.ts [rounds] [segment ms] [clients]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { startChild } from './lib/child.ts';
import { countConnections } from './lib/connection-count.ts';
import { databaseCpu, databaseCpuSince } from './lib/database-cpu.ts';
import { parseServerSettings, startBenchSite } from './lib/bench-site.ts';
import { runFor, runLoad } from './lib/load.ts';
import { spread } from './lib/rounds.ts';

const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.argv[2] ?? 5);
const SEGMENT_MS = Number(process.argv[3] ?? 1000);
const CLIENTS = Number(process.argv[4] ?? 16);

const dir = resolve('.dsf/bench');
const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: ['Bench_Org'] });
const org = certs.organizations.Bench_Org!;
// DSF_LADDER_AB=<another checkout>: that code's probe server too, as a second site (its own database),
// each of its rungs measured right after the same rung here ("name@B"): an A/B in one run, where the
// machine's load moves both alike.
const otherCheckout = process.env.DSF_LADDER_AB;
// DSF_LADDER_A=<checkout>: site A from there (to swap the sides of an A/B).
// DSF_LADDER_SETTINGS_A / DSF_LADDER_SETTINGS_B='--max-semi-space-size=32 DSF_FHIR_DB_POOL_MAX=4': node options
// and environment of that side's server only (an A/B of runtime settings: DSF_LADDER_AB=. for the same code).
const site = await startBenchSite(serverUrl, certs, 'Bench_Org', 'dsf_ladder', ['bench/lib/read-ladder-server.ts'], /BARE (\d+)/, process.env.DSF_LADDER_A, parseServerSettings(process.env.DSF_LADDER_SETTINGS_A));
const siteB = otherCheckout ? await startBenchSite(serverUrl, certs, 'Bench_Org', 'dsf_ladder_b', ['bench/lib/read-ladder-server.ts'], /BARE (\d+)/, otherCheckout, parseServerSettings(process.env.DSF_LADDER_SETTINGS_B)).catch(async (e) => {
  await site.stop();
  throw e;
}) : undefined;
const client = new HttpsClient({ ca: readFileSync(certs.ca.certPath, 'utf8'), cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') }, { maxSockets: 64 });
const json = { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' };
const monitors: pg.Client[] = [];
let baseline: Awaited<ReturnType<typeof startChild>> | undefined;


type Rung = [name: string, url: (i: number) => string, cpu: () => number, monitor: pg.Client | undefined, stats?: string];

/** Seeds a site (200 Patients, 100 Organizations), gives it the read's body to answer with, and returns its rungs. */
async function rungsOf(s: typeof site, suffix: string): Promise<{ rungs: Rung[]; sample: string }> {
  const base = s.baseUrl;
  const monitor = new pg.Client({ connectionString: s.databaseUrl });
  await monitor.connect();
  monitors.push(monitor);
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await client.request(`${base}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/pid', value: `p${i}` }], active: true }) });
    if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${r.body}`);
    ids.push(JSON.parse(r.body).id);
  }
  for (let i = 0; i < 100; i++) {
    const r = await client.request(`${base}/Organization`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Organization', meta: { ...TAG.meta, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] }, identifier: [{ system: ORG_ID, value: `org-${i}` }], active: true, name: `Org ${i}` }) });
    if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${r.body}`);
  }
  // Statistics now, not whenever autovacuum gets to each site's fresh database: without them the search's
  // plans cost several times as much, and the two sites of an A/B would be planned on different footing.
  await monitor.query('ANALYZE');
  const sample = (await client.request(`${base}/Patient/${ids[0]}`, { headers: json })).body;
  await client.request(`${base}/_ladder/body`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: sample });
  const searchSample = (await client.request(`${base}/Organization?identifier=${ORG_ID}|org-0`, { headers: json })).body;
  await client.request(`${base}/_ladder/search-body`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: searchSample });
  const pick = (i: number) => ids[i % ids.length];
  const cpu = () => s.fhir.cpuMicros();
  const rungs: Rung[] = [
    ['bare', () => `https://localhost:${s.fhir.match[1]}/fixed`, cpu, undefined],
    ['hooks', () => `${base}/_ladder/fixed`, cpu, monitor],
    ['context', (i) => `${base}/_ladder/context/Patient/${pick(i)}`, cpu, monitor],
    ['store', (i) => `${base}/_ladder/store/Patient/${pick(i)}`, cpu, monitor],
    ['read', (i) => `${base}/Patient/${pick(i)}`, cpu, monitor],
    ['sfixed', (i) => `${base}/_ladder/search-fixed/Organization?identifier=${ORG_ID}|org-${i % 100}`, cpu, monitor],
    ['search', (i) => `${base}/Organization?identifier=${ORG_ID}|org-${i % 100}`, cpu, monitor],
    ['name', (i) => `${base}/Organization?name=Org%20${10 + (i % 90)}`, cpu, monitor],
  ];
  // The coalescers' counters of the rungs that run statements (bench/lib/read-ladder-server.ts).
  const stats = `${base}/_ladder/stats`;
  return { rungs: rungs.map(([n, url, cpu, monitor]): Rung => [n + suffix, url, cpu, monitor, ['store', 'read', 'search', 'name'].includes(n) ? stats : undefined]), sample };
}

try {
  const a = await rungsOf(site, '');
  const b = siteB ? await rungsOf(siteB, '@B') : undefined;
  baseline = await startChild(['bench/lib/baseline-server.ts', org.server.certPath, org.server.keyPath, certs.ca.certPath, String(a.sample.length)], {}, /PORT (\d+)/);
  // Connections the load generator opened (TLS handshakes), per segment: a site whose keep-alive sockets were dropped pays new ones.
  let opened = 0;
  countConnections(client, () => opened++);
  const get = (url: string) => client.request(url, { headers: json }).then((r) => r.status === 200);
  const rungs: Rung[] = [['baseline', () => `https://localhost:${baseline!.match[1]}/fixed`, () => baseline!.cpuMicros(), undefined], ...a.rungs.flatMap((r, k) => (b ? [r, b.rungs[k]!] : [r]))];
  // DSF_LADDER_ONLY=bare,hooks: only these rungs (e.g. for a CPU profile with DSF_BENCH_CPU_PROF).
  const only = process.env.DSF_LADDER_ONLY?.split(',');
  if (only) rungs.splice(0, rungs.length, ...rungs.filter(([n]) => only.includes(n.replace(/@B$/, ''))));
  // Bytes of each rung's answer: status line and headers as sent, and the body.
  for (const [name, url] of rungs) {
    const r = await client.request(url(0), { headers: json });
    const head = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    console.log(`${name.padEnd(9)} ${r.status} headers ${head.length + 17} bytes, body ${Buffer.byteLength(r.body)} bytes: ${Object.keys(r.headers).join(', ')}`);
  }
  for (const [name, url] of rungs) await runFor(name, CLIENTS, 1500, (i) => get(url(i))); // warm-up
  const figures = new Map<string, { server: number[]; db: number[]; client: number[]; rps: number[]; batches: number; coalesced: number; held: number; requests: number; statements: number[]; own: number[]; opened: number[] }>(rungs.map(([n]) => [n, { server: [], db: [], client: [], rps: [], batches: 0, coalesced: 0, held: 0, requests: 0, statements: [], own: [], opened: [] }]));
  // Batch statements and items answered from them so far, reads' and searches' together.
  const counters = async (url: string | undefined) => {
    if (!url) return undefined;
    const r = await client.request(url, { headers: json }).catch(() => undefined);
    if (r?.status !== 200) return undefined;
    const s = JSON.parse(r.body) as Record<string, { batchStatements: number; coalesced: number; heldBatches?: number }>;
    return { batches: s.reads!.batchStatements + s.searches!.batchStatements, coalesced: s.reads!.coalesced + s.searches!.coalesced, held: (s.reads!.heldBatches ?? NaN) + (s.searches!.heldBatches ?? NaN) };
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url, cpu, monitor, statsUrl] of round % 2 ? [...rungs].reverse() : rungs) {
      const o0 = opened;
      await runLoad(name, CLIENTS, CLIENTS, 20_000, (i) => get(url(i)));
      const k0 = await counters(statsUrl);
      const s0 = cpu();
      const d0 = monitor ? await databaseCpu(monitor) : undefined;
      const c0 = process.cpuUsage();
      const r = await runFor(name, CLIENTS, SEGMENT_MS, (i) => get(url(i)));
      const c = process.cpuUsage(c0);
      const f = figures.get(name)!;
      f.server.push((cpu() - s0) / r.requests);
      f.db.push(monitor && d0 ? ((await databaseCpuSince(monitor, d0)) ?? 0) / r.requests : 0);
      f.client.push((c.user + c.system) / r.requests);
      f.rps.push(r.rps);
      f.opened.push(opened - o0);
      const k = k0 && (await counters(statsUrl));
      if (k0 && k) {
        f.batches += k.batches - k0.batches;
        f.coalesced += k.coalesced - k0.coalesced;
        f.held += k.held - k0.held;
        f.requests += r.requests;
        const own = 1 - (k.coalesced - k0.coalesced) / r.requests;
        f.statements.push((k.batches - k0.batches) / r.requests + own);
        f.own.push(own);
      }
      if (r.errors) console.log(`${name}: ${r.errors} errors`);
    }
  }
  const fmt = (xs: number[]) => {
    const s = spread(xs);
    return `${s.median.toFixed(0).padStart(5)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  };
  console.log(`\n${CLIENTS} clients, ${ROUNDS} rounds of ${SEGMENT_MS} ms; µs per request, median (range):`);
  console.log(`${'rung'.padEnd(9)} ${'server'.padStart(18)} ${'db'.padStart(18)} ${'client'.padStart(18)} ${'req/s'.padStart(18)}`);
  for (const [name, f] of figures) console.log(`${name.padEnd(9)} ${fmt(f.server).padStart(18)} ${fmt(f.db).padStart(18)} ${fmt(f.client).padStart(18)} ${fmt(f.rps).padStart(18)}`);

  // Statements per request of the coalescers, over all rounds: batch statements, and items that ran on
  // their own (one item a request assumed: a read, or a search of one statement).
  for (const [name, f] of figures) {
    if (!f.requests) continue;
    const own = 1 - f.coalesced / f.requests;
    console.log(`${name.padEnd(9)} batch statements ${(f.batches / f.requests).toFixed(3)} per request, ${(f.coalesced / Math.max(1, f.batches)).toFixed(1)} items a batch; on their own ${own.toFixed(3)}; statements ${(f.batches / f.requests + own).toFixed(3)} per request; held ${(f.held / f.requests).toFixed(3)} per request (NaN: a server without holding)`);
    console.log(`${''.padEnd(9)} per round: statements ${f.statements.map((x) => x.toFixed(2)).join(' ')}; on their own ${f.own.map((x) => x.toFixed(2)).join(' ')}; req/s ${f.rps.map((x) => x.toFixed(0)).join(' ')}; connections opened ${f.opened.join(' ')}`);
  }

  // With DSF_LADDER_AB: per rung, this checkout's server and PostgreSQL CPU per request over the other's, round by round (adjacent segments).
  for (const [name, f] of figures) {
    const other = figures.get(`${name}@B`);
    if (!other) continue;
    for (const side of ['server', 'db'] as const) {
      if (!other[side].some((x) => x > 0)) continue;
      const ratios = f[side].map((x, k) => x / other[side][k]!);
      const s = spread(ratios);
      console.log(`${name.padEnd(9)} ${side.padEnd(6)} CPU here / @B: median ${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)}) over ${ratios.length} rounds; rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
    }
  }

  // With DSF_LADDER_AB: statements per request here over @B, round by round (1: both sides coalesce alike).
  for (const [name, f] of figures) {
    const other = figures.get(`${name}@B`);
    if (!other?.statements.length || other.statements.length !== f.statements.length) continue;
    const ratios = f.statements.map((x, k) => x / other.statements[k]!);
    console.log(`${name.padEnd(9)} statements here / @B: median ${spread(ratios).median.toFixed(3)}; rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  }

  // Each side's garbage collections over the whole run (seeding and warm-up included) and young generation's size at the end.
  for (const [s, suffix] of [[site, ''], ...(siteB ? [[siteB, '@B'] as const] : [])] as const) {
    const r = await client.request(`${s.baseUrl}/_ladder/gc`, { headers: json });
    if (r.status === 200) console.log(`gc${suffix.padEnd(7)} ${r.body}, resident ${s.fhir.rssMiB().toFixed(0)} MiB`);
  }

  // System calls per request of the serving process during one segment of each rung.
  const traced = async (name: string, url: (i: number) => string, pid: number, tool: 'perf' | 'strace') => {
    const args = tool === 'perf' ? ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter,context-switches', '-p', String(pid)] : ['-c', '-f', '-p', String(pid)];
    const p = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    p.stderr!.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 300));
    const r = await runFor(name, CLIENTS, SEGMENT_MS, (i) => get(url(i)));
    p.kill('SIGINT');
    await new Promise((res) => p.once('exit', res));
    if (tool === 'perf') {
      const counts = out.split('\n').map((l) => l.split(',')).filter((c) => c[2]).map((c) => `${c[2]} ${(Number(c[0]) / r.requests).toFixed(2)}`);
      console.log(`${name.padEnd(9)} per request: ${counts.join(', ')}`);
    } else {
      const calls = out.split('\n').map((l) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(l)).filter((m) => m && m[2] !== 'total').map((m) => `${m![2]} ${(Number(m![1]) / r.requests).toFixed(2)}`);
      console.log(`${name.padEnd(9)} per request (${r.requests}): ${calls.join(', ')}`);
    }
  };
  for (const tool of ['perf', 'strace'] as const) {
    if (!process.env[tool === 'perf' ? 'DSF_LADDER_SYSCALLS' : 'DSF_LADDER_STRACE']) continue;
    for (const [name, url] of rungs) await traced(name, url, name === 'baseline' ? baseline.proc.pid! : (name.endsWith('@B') ? siteB! : site).fhir.proc.pid!, tool);
  }
} finally {
  client.close();
  for (const m of monitors) await m.end();
  await baseline?.stop();
  await site.stop();
  await siteB?.stop();
}
