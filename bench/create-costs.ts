// Where the cost of a create goes, counted rather than timed (figures that hold on a loaded machine):
// per create, the statements the server sends (by connection: request pool or change-stream listener),
// rows and index entries written per table, WAL records and bytes of the site's database, and CPU µs of
// the server process and of each kind of PostgreSQL backend; at 1 and at 16 clients.
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import ./bin/ts-loader.mjs bench/create-costs.ts [creates]
//
// Statements are counted from PostgreSQL's log (log_statement = all, set for the site's database only);
// WAL from pg_waldump over the LSN range of each run, keeping records of the site's database. Both need
// this process to run on the database's host with read access to its log and WAL (root on a dev box);
// without, those figures are left out.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { processCpuMicros } from './lib/child.ts';
import { startBenchSite } from './lib/bench-site.ts';
import { runLoad } from './lib/load.ts';

const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const creates = Number(process.argv[2] ?? 400);

const dir = resolve('.dsf/bench');
const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: ['Bench_Org'] });
const org = certs.organizations.Bench_Org!;
const site = await startBenchSite(serverUrl, certs, 'Bench_Org', 'dsf_costs');
const dbName = new URL(site.databaseUrl).pathname.slice(1);
const client = new HttpsClient({ ca: readFileSync(certs.ca.certPath, 'utf8'), cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') }, { maxSockets: 64 });
const json = { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' };
const monitor = new pg.Client({ connectionString: site.databaseUrl, application_name: 'dsf-create-costs' });
await monitor.connect();
const settings = (await monitor.query(`SELECT current_setting('data_directory') AS data, current_setting('log_directory') AS logdir, current_setting('logging_collector') AS collector, oid FROM pg_database WHERE datname = current_database()`)).rows[0];
const logFile = ['/var/log/postgresql/postgresql-15-main.log', join(settings.data, settings.logdir)].find((f) => existsSync(f) && statSync(f).isFile());
const walDir = join(settings.data, 'pg_wal');
let n = 0;
const create = () => client.request(`${site.baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/new', value: `n${n++}` }], active: true }) }).then((r) => r.status === 201);

const tableStats = async () =>
  new Map((await monitor.query(`SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS changed, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del, seq_scan, seq_tup_read, idx_scan FROM pg_stat_user_tables`)).rows.map((r) => [r.relname as string, r]));
const indexCounts = async () => new Map((await monitor.query(`SELECT t.relname AS tab, count(*)::int AS n FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = 'public' GROUP BY 1`)).rows.map((r) => [r.tab as string, r.n as number]));
const backendCpu = async () => {
  const rows = (await monitor.query(`SELECT pid, application_name AS app FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;
  const m = new Map<string, number>();
  for (const r of rows) {
    try {
      m.set(`${r.app || 'pool'}#${r.pid}`, processCpuMicros(r.pid));
    } catch {
      // ended meanwhile
    }
  }
  return m;
};
// Write statements of a run: each autocommit write statement is one transaction, recorded with every
// version it wrote (change_xact), whether it called the write function or not.
const lastChangeSeq = async () => Number((await monitor.query(`SELECT coalesce(max(change_seq), 0) AS n FROM resources`)).rows[0].n);
const writeTransactionsAfter = async (seq: number) => Number((await monitor.query(`SELECT count(DISTINCT change_xact) AS n FROM resources WHERE change_seq > $1`, [seq])).rows[0].n);
const lsn = async () => (await monitor.query(`SELECT pg_current_wal_insert_lsn()::text AS l, pg_walfile_name(pg_current_wal_insert_lsn()) AS f`)).rows[0] as { l: string; f: string };

/** pg_waldump of [from, to): records and bytes of this database (by relation, and all of it). */
function walOf(from: string, to: string): { records: number; bytes: number; fpi: number; byRel: Map<string, number> } | undefined {
  let out: string;
  try {
    out = execFileSync('/usr/lib/postgresql/15/bin/pg_waldump', ['-p', walDir, '-s', from, '-e', to], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
    if (!out) return undefined;
  }
  const res = { records: 0, bytes: 0, fpi: 0, byRel: new Map<string, number>() };
  for (const line of out.split('\n')) {
    const rel = new RegExp(`rel \\d+/${settings.oid}/(\\d+)`).exec(line);
    const len = /len \(rec\/tot\):\s*\d+\/\s*(\d+)/.exec(line);
    if (!rel || !len) continue;
    res.records++;
    res.bytes += Number(len[1]);
    if (/FPW|FPI/.test(line)) res.fpi++;
    res.byRel.set(rel[1]!, (res.byRel.get(rel[1]!) ?? 0) + Number(len[1]));
  }
  return res;
}

const statementLog = () => (logFile ? readFileSync(logFile, 'utf8').length : 0);
const statementsSince = (offset: number) => {
  if (!logFile) return undefined;
  const lines = readFileSync(logFile, 'utf8').slice(offset).split('\n').filter((l) => l.includes(`@${dbName} `) && /LOG:\s+(statement|execute)/.test(l));
  const counts = new Map<string, number>();
  for (const l of lines) {
    const text = l.replace(/^.*LOG:\s+(statement|execute [^:]*):\s*/, '').replace(/\s+/g, ' ').slice(0, 90);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
};

async function withNewSessions(sql: string): Promise<void> {
  await monitor.query(sql);
  await monitor.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  await new Promise((res) => setTimeout(res, 1500));
  for (let i = 0; i < 20; i++) await create().catch(() => false); // the first may meet an ended connection
}

try {
  for (let i = 0; i < 50; i++) await create(); // warm-up: prepared statements, JIT, caches
  const relNames = new Map((await monitor.query(`SELECT relfilenode::text AS f, relname FROM pg_class`)).rows.map((r) => [r.f as string, r.relname as string]));
  if (logFile) {
    // Statements per sequential create. A setting applies to new sessions only: the server's connections
    // are ended, and reconnect (the pool and the change-stream listener do so by themselves).
    await withNewSessions(`ALTER DATABASE ${dbName} SET log_statement = 'all'`);
    const offset = statementLog();
    const N = 50;
    for (let i = 0; i < N; i++) await create();
    await new Promise((res) => setTimeout(res, 300));
    const counts = statementsSince(offset)!;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`== ${(total / N).toFixed(2)} statements per create (1 client):`);
    for (const [t, c] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${(c / N).toFixed(2)}  ${t}`);
    await withNewSessions(`ALTER DATABASE ${dbName} RESET log_statement`);
  }
  // DSF_COSTS_CLIENTS=1: only that concurrency.
  for (const concurrency of (process.env.DSF_COSTS_CLIENTS ?? '1,16').split(',').map(Number)) {
    const tBefore = await tableStats();
    const seqBefore = await lastChangeSeq();
    const cpuBefore = await backendCpu();
    const serverBefore = site.fhir.cpuMicros();
    const walFrom = await lsn();
    // DSF_COSTS_PERF=<dir>: a perf profile of the database's backends during each run (perf on PATH, root).
    const perf = process.env.DSF_COSTS_PERF
      ? spawn('perf', ['record', '-F', '2000', '-g', '-o', join(process.env.DSF_COSTS_PERF, `perf-${concurrency}.data`), '-p', [...cpuBefore.keys()].map((k) => k.slice(k.indexOf('#') + 1)).join(',')], { stdio: 'ignore' })
      : undefined;
    // DSF_COSTS_PERF_SERVER=<dir>: also a perf profile of the server process (kernel and native frames; JIT code unnamed).
    const perfServer = process.env.DSF_COSTS_PERF_SERVER
      ? spawn('perf', ['record', '-F', '2000', '-g', '-o', join(process.env.DSF_COSTS_PERF_SERVER, `perf-server-${concurrency}.data`), '-p', String(site.fhir.proc.pid)], { stdio: 'ignore' })
      : undefined;
    // DSF_COSTS_SYSCALLS=1: system calls and context switches of the server process per create (perf stat).
    const perfStat = process.env.DSF_COSTS_SYSCALLS
      ? spawn('perf', ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter,context-switches,instructions:u,instructions:k,cycles:u,cycles:k', '-p', String(site.fhir.proc.pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
      : undefined;
    let perfStatOut = '';
    perfStat?.stderr!.on('data', (d) => (perfStatOut += d));
    const r = await runLoad('create', concurrency, creates, 120_000, create);
    const walTo = await lsn();
    for (const p of [perf, perfServer, perfStat]) {
      if (!p) continue;
      p.kill('SIGINT');
      await new Promise((res) => p.once('exit', res));
    }
    const serverCpu = (site.fhir.cpuMicros() - serverBefore) / r.requests;
    const cpuAfter = await backendCpu();
    await new Promise((res) => setTimeout(res, 600)); // table statistics are flushed at most every 500 ms
    const tAfter = await tableStats();
    const calls = await writeTransactionsAfter(seqBefore);
    const idx = await indexCounts();
    console.log(`== ${concurrency} client(s): ${r.requests} creates, ${r.rps.toFixed(0)}/s, errors ${r.errors}`);
    console.log(`server CPU ${serverCpu.toFixed(0)} µs/create; ${(r.requests / calls).toFixed(2)} creates per write statement`);
    for (const line of perfStatOut.split('\n')) {
      const [count, , event] = line.split(',');
      if (event && Number(count) >= 0) console.log(`server ${event}: ${(Number(count) / r.requests).toFixed(1)} per create`);
    }
    const byKind = new Map<string, number>();
    for (const [k, v] of cpuAfter) {
      const kind = k.slice(0, k.indexOf('#'));
      byKind.set(kind, (byKind.get(kind) ?? 0) + v - (cpuBefore.get(k) ?? 0));
    }
    for (const [k, v] of byKind) console.log(`PostgreSQL CPU ${k}: ${(v / r.requests).toFixed(0)} µs/create`);
    for (const [t, a] of tAfter) {
      const b = tBefore.get(t);
      const d = (f: string) => (Number(a[f]) - Number(b?.[f] ?? 0)) / r.requests;
      if (!d('changed') && !d('seq_scan') && !d('idx_scan')) continue;
      console.log(`table ${t}: inserted ${d('ins').toFixed(2)} updated ${d('upd').toFixed(2)} (HOT ${d('hot').toFixed(2)}) deleted ${d('del').toFixed(2)} per create; ${idx.get(t) ?? 0} indexes; per create ${d('seq_scan').toFixed(2)} sequential scans reading ${d('seq_tup_read').toFixed(0)} rows, ${d('idx_scan').toFixed(2)} index scans`);
    }
    const wal = walOf(walFrom.l, walTo.l);
    if (wal) {
      console.log(`WAL of the database: ${(wal.records / r.requests).toFixed(1)} records, ${(wal.bytes / r.requests).toFixed(0)} bytes, ${(wal.fpi / r.requests).toFixed(2)} full-page images per create`);
      for (const [rel, bytes] of [...wal.byRel].sort((x, y) => y[1] - x[1])) console.log(`  ${(relNames.get(rel) ?? rel).padEnd(36)} ${(bytes / r.requests).toFixed(0)} bytes/create`);
    }
  }
} finally {
  await monitor.end();
  await site.stop();
}
