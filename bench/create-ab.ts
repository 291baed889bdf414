// In-run A/B of creates at 16 clients: the FHIR server of this checkout and of others (each a site with
// its own database), measured in adjacent segments of each round in alternating order, with a bare
// jsonb insert+commit from as many connections before and after each round. Prints per side creates/s,
// create / bare insert, p50, server and PostgreSQL CPU per create, and per round the ratio of each
// side's creates/s to the first side's: on a shared machine single rounds swing by half, so read the
// median and how many rounds were higher, never one round; the server's CPU per create is compared so
// too. Also the whole cost split per request: CPU of the server, of PostgreSQL and of this process (the
// load generator) per create, and of PostgreSQL and this process per bare insert (the bare inserts use
// the first side's database, whose server is idle then).
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import ./bin/ts-loader.mjs bench/create-ab.ts [rounds] [segment ms] [clients] <side>...
//
// A side is `name` (this checkout) or `name=<checkout dir>`, e.g. `old=/work/ab-x new`; DSF_AB_SETTINGS_<name>=
// '--max-semi-space-size=32 DSF_FHIR_DB_POOL_MAX=4' gives that side's server node options and environment
// variables (an A/B of runtime settings: two names for this checkout, one with settings).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { parseServerSettings, startBenchSite, type BenchSite } from './lib/bench-site.ts';
import { runFor, type LoadResult } from './lib/load.ts';
import { databaseCpu, databaseCpuSince } from './lib/database-cpu.ts';
import { spread } from './lib/rounds.ts';

const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const [roundsArg, segmentArg, clientsArg, ...sideArgs] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 10);
const SEGMENT_MS = Number(segmentArg ?? 1500);
const CLIENTS = Number(clientsArg ?? 16);
if (!sideArgs.length) throw new Error('name at least one side: `name` (this checkout) or `name=<checkout dir>`');

interface Segment {
  r: LoadResult;
  server: number;
  db: number;
  /** This process's CPU µs per request: the load generator's. */
  load: number;
}

/** This process's CPU µs so far. */
const ownCpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
interface Side {
  name: string;
  site: BenchSite;
  monitor: pg.Client;
  create: () => Promise<boolean>;
  segments: Segment[];
}

const certs = await generateCertificates({ dir: join(resolve('.dsf/bench'), 'certs'), organizations: ['Bench_Org'] });
const org = certs.organizations.Bench_Org!;
const client = new HttpsClient({ ca: readFileSync(certs.ca.certPath, 'utf8'), cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') }, { maxSockets: 64 });
const json = { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' };
const sides: Side[] = [];
let bare: pg.Pool | undefined;
let n = 0;
try {
  for (const arg of sideArgs) {
    const [name, cwd] = arg.split('=') as [string, string | undefined];
    const site = await startBenchSite(serverUrl, certs, 'Bench_Org', `dsf_create_ab_${name.replace(/\W/g, '_')}`, undefined, undefined, cwd, parseServerSettings(process.env[`DSF_AB_SETTINGS_${name}`]));
    const monitor = new pg.Client({ connectionString: site.databaseUrl });
    await monitor.connect();
    const create = () => client.request(`${site.baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/new', value: `n${n++}` }], active: true }) }).then((r) => r.status === 201);
    sides.push({ name, site, monitor, create, segments: [] });
  }
  bare = new pg.Pool({ connectionString: sides[0]!.site.databaseUrl, max: CLIENTS });
  await bare.query('CREATE TABLE bench_bare_insert (id uuid PRIMARY KEY, resource jsonb NOT NULL)');
  const bareBody = JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/bare', value: 'x' }], active: true });
  const bareInsert = () => bare!.query('INSERT INTO bench_bare_insert (id, resource) VALUES ($1, $2)', [randomUUID(), bareBody]).then(() => true);
  // Warm-up: prepared statements, V8's optimised code, the write function's plan per connection.
  for (const side of sides) await runFor('warm-up', CLIENTS, 3000, side.create);
  await runFor('warm-up', CLIENTS, 1000, bareInsert);
  const bareRounds: [number, number][] = [];
  const bareCosts: { db: number; load: number }[] = [];
  // A bare segment, its CPU per insert noted: PostgreSQL's for the first side's database, and this process's.
  const bareSegment = async () => {
    const db = await databaseCpu(sides[0]!.monitor);
    const own = ownCpu();
    const r = await runFor('bare', CLIENTS, SEGMENT_MS / 2, bareInsert);
    const load = (ownCpu() - own) / r.requests;
    const dbSpent = db && (await databaseCpuSince(sides[0]!.monitor, db));
    bareCosts.push({ db: (dbSpent ?? NaN) / r.requests, load });
    return r.rps;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const before = await bareSegment();
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      await runFor('untimed', CLIENTS, 150, side.create); // each segment starts with its sockets open
      const cpu = side.site.fhir.cpuMicros();
      const db = await databaseCpu(side.monitor);
      const own = ownCpu();
      const r = await runFor(side.name, CLIENTS, SEGMENT_MS, side.create);
      const load = (ownCpu() - own) / r.requests;
      const dbSpent = db && (await databaseCpuSince(side.monitor, db));
      side.segments.push({ r, server: (side.site.fhir.cpuMicros() - cpu) / r.requests, db: (dbSpent ?? NaN) / r.requests, load });
    }
    bareRounds.push([before, await bareSegment()]);
  }
  const median = (xs: number[]) => spread(xs).median;
  const list = (xs: number[], d = 0) => xs.map((x) => x.toFixed(d)).join(' ');
  console.log(`${CLIENTS} clients, ${ROUNDS} rounds of ${SEGMENT_MS} ms; bare inserts/s per round ${list(bareRounds.map(([a, b]) => (a + b) / 2))}`);
  console.log(`  CPU per bare insert: PostgreSQL ${median(bareCosts.map((x) => x.db)).toFixed(0)} µs, load generator ${median(bareCosts.map((x) => x.load)).toFixed(0)} µs`);
  for (const side of sides) {
    const s = side.segments;
    const toBare = s.map((x, i) => (2 * x.r.rps) / (bareRounds[i]![0] + bareRounds[i]![1]));
    console.log(`${side.name}: creates/s median ${median(s.map((x) => x.r.rps)).toFixed(0)} (${list(s.map((x) => x.r.rps))}); / bare insert ${median(toBare).toFixed(3)} (${list(toBare, 2)})`);
    console.log(`  p50 ${median(s.map((x) => x.r.p50ms)).toFixed(1)} ms; CPU per create: server ${median(s.map((x) => x.server)).toFixed(0)} µs, PostgreSQL ${median(s.map((x) => x.db)).toFixed(0)} µs, load generator ${median(s.map((x) => x.load)).toFixed(0)} µs; errors ${s.reduce((a, x) => a + x.r.errors, 0)}`);
  }
  for (const side of sides.slice(1)) {
    const ratios = side.segments.map((x, i) => x.r.rps / sides[0]!.segments[i]!.r.rps);
    console.log(`${side.name} / ${sides[0]!.name} per round: creates/s median ${median(ratios).toFixed(3)}, higher in ${ratios.filter((x) => x > 1).length} of ${ratios.length} (${list(ratios, 2)})`);
    const cpu = side.segments.map((x, i) => x.server / sides[0]!.segments[i]!.server);
    console.log(`  server CPU per create median ${median(cpu).toFixed(3)}, lower in ${cpu.filter((x) => x < 1).length} of ${cpu.length} (${list(cpu, 2)})`);
  }
} finally {
  client.close();
  await bare?.end();
  for (const side of sides) {
    await side.monitor.end();
    await side.site.stop();
  }
}
