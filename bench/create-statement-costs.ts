// PostgreSQL's CPU per create for the store's write statement alone, on a database with the FHIR
// migrations up to a given version and on one with all of them, alternating: what a schema change
// (an index more or less) costs each create, without the HTTP server's noise around it. The base side
// also writes the uri rows' norm the index rows had before (tenth session).
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/create-statement-costs.ts [baseVersion] [rounds] [statements] [perStatement]
//
// DSF_STATEMENT_IDS=1 compares ids instead (thirteenth session): both databases with all migrations,
// the first side's Patients with random (version 4) UUIDs as before, the second's with the server's
// time-ordered ids (store/resource-ids.ts). Each round also reports the WAL the cluster wrote during
// it per create (other work on the cluster adds to it: read the medians).
//
// Each round writes `statements` write statements of `perStatement` bench Patients (as a group of
// creates at 16 clients shares one) on each database, and reads its backend's CPU time (/proc, so this
// runs on the database's host); the figure is µs of backend CPU per create, per round and side.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/db/migrate.ts';
import { usePreparedStatements } from '../src/db/prepared-statements.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../src/fhir/store/schema.ts';
import { writeVersions, type VersionWrite } from '../src/fhir/store/version-writes.ts';
import { computeIndexRows } from '../src/fhir/search/index-rows.ts';
import { newResourceId } from '../src/fhir/store/resource-ids.ts';
import { processCpuMicros } from './lib/child.ts';

const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const [baseVersion, rounds, statements, perStatement] = [10, 6, 300, 5].map((d, i) => Number(process.argv[2 + i] ?? d));

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const suffix = randomUUID().slice(0, 8);
const compareIds = process.env.DSF_STATEMENT_IDS === '1';
const sides = [
  compareIds
    ? { name: 'random ids (UUID version 4)', db: `dsf_stmt_base_${suffix}`, migrations: FHIR_MIGRATIONS, cpu: [] as number[], wal: [] as number[] }
    : { name: `migrations 1-${baseVersion}`, db: `dsf_stmt_base_${suffix}`, migrations: FHIR_MIGRATIONS.filter((m) => m.version <= baseVersion), cpu: [] as number[], wal: [] as number[] },
  { name: `${compareIds ? 'time-ordered ids (version 7), ' : ''}migrations 1-${FHIR_MIGRATIONS.at(-1)!.version}`, db: `dsf_stmt_all_${suffix}`, migrations: FHIR_MIGRATIONS, cpu: [] as number[], wal: [] as number[] },
];
const pools: pg.Pool[] = [];
try {
  for (const side of sides) {
    await admin.query(`CREATE DATABASE ${side.db}`);
    const url = new URL(serverUrl);
    url.pathname = `/${side.db}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    pools.push(pool);
    await migrate(pool, 'fhir', side.migrations);
    await migrate(pool, 'fhir-events', EVENT_MIGRATIONS);
    usePreparedStatements(pool); // as the server's pool: the write statement named, planned once
  }
  const clients = await Promise.all(pools.map((p) => p.connect()));
  const pids = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number));
  let n = 0;
  // The base side's uri rows carry a norm as before the uri module dropped it (the Patient's _profile).
  const patient = (base: boolean): VersionWrite => {
    const id = compareIds && !base ? newResourceId() : randomUUID();
    const lastUpdated = new Date().toISOString();
    const resource = {
      resourceType: 'Patient',
      id,
      meta: { versionId: '1', lastUpdated, profile: ['http://dsf.dev/fhir/StructureDefinition/bench-patient'], tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
      identifier: [{ system: 'http://bench/new', value: `n${n++}` }],
      active: true,
    };
    return { id, type: 'Patient', version: 1, lastUpdated, json: JSON.stringify(resource), replaces: false, indexRows: computeIndexRows(resource, 'https://bench/fhir').map((r) => (base && !compareIds && r.param === '_profile' ? { ...r, norm: r.code } : r)), keys: [], previousKeys: [] };
  };
  const walLsn = async () => (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
  const lsnBytes = (lsn: string) => lsn.split('/').reduce((a, h) => a * 2 ** 32 + parseInt(h, 16), 0);
  const round = async (i: number) => {
    const wal = await walLsn();
    const before = processCpuMicros(pids[i]!);
    for (let s = 0; s < statements; s++) await writeVersions(clients[i]!, Array.from({ length: perStatement }, () => patient(i === 0)));
    sides[i]!.cpu.push((processCpuMicros(pids[i]!) - before) / (statements * perStatement));
    sides[i]!.wal.push((lsnBytes(await walLsn()) - lsnBytes(wal)) / (statements * perStatement));
  };
  await round(0); // warm-up of both backends, not counted
  await round(1);
  for (const s of sides) {
    s.cpu.length = 0;
    s.wal.length = 0;
  }
  for (let r = 0; r < rounds; r++) for (const i of r % 2 ? [1, 0] : [0, 1]) await round(i);
  for (const c of clients) c.release();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const s of sides) {
    console.log(`${s.name}: backend CPU per create ${s.cpu.map((v) => v.toFixed(0)).join(', ')} µs (median ${median(s.cpu).toFixed(0)}); WAL per create ${s.wal.map((v) => v.toFixed(0)).join(', ')} bytes (median ${median(s.wal).toFixed(0)})`);
  }
  const diffs = sides[0]!.cpu.map((c, r) => c - sides[1]!.cpu[r]!);
  console.log(`per round, first side minus second: median ${median(diffs).toFixed(1)} µs, second lower in ${diffs.filter((d) => d > 0).length} of ${diffs.length}`);
} finally {
  await Promise.all(pools.map((p) => p.end()));
  for (const side of sides) await admin.query(`DROP DATABASE IF EXISTS ${side.db}`);
  await admin.end();
}
