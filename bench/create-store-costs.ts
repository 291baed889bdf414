// The store's own CPU per create, in this process: ResourceStore.transaction(create) of the bench's Patient,
// eight at a time (they share one group statement, as concurrent creates do in the server), so the figure
// holds the transaction, the version, its index rows, the write group, the statement's parameters and the
// pg driver's part, without HTTP, validation or PostgreSQL's CPU. With another checkout's directory, its store
// runs the same creates on a database of its own in alternating rounds (an in-process A/B); CONTROL=1 runs
// this checkout's store on both sides.
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import ./bin/ts-loader.mjs bench/create-store-costs.ts [rounds] [creates per round] [other checkout]
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate } from '../src/db/migrate.ts';
import { usePreparedStatements } from '../src/db/prepared-statements.ts';
import { withDatabase } from '../src/db/pool.ts';
import { EVENT_MIGRATIONS, FHIR_MIGRATIONS } from '../src/fhir/store/schema.ts';
import { ResourceStore } from '../src/fhir/store/resource-store.ts';
import { spread } from './lib/rounds.ts';

const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.argv[2] ?? 12);
const CREATES = Number(process.argv[3] ?? 4000);
const OTHER = process.argv[4];
const control = process.env.CONTROL === '1';

type StoreClass = typeof ResourceStore;
const other: StoreClass | undefined = OTHER
  ? (control ? { ResourceStore } : await import(pathToFileURL(resolve(OTHER, 'src/fhir/store/resource-store.ts')).href)).ResourceStore
  : undefined;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const suffix = randomUUID().slice(0, 8);
const sides: { name: string; db: string; pool?: pg.Pool; store?: ResourceStore; cpu: number[] }[] = [
  ...(other ? [{ name: control ? 'this (control)' : OTHER!, db: `dsf_store_costs_b_${suffix}`, cpu: [] as number[] }] : []),
  { name: 'this', db: `dsf_store_costs_a_${suffix}`, cpu: [] },
];
try {
  for (const [i, side] of sides.entries()) {
    await admin.query(`CREATE DATABASE ${side.db}`);
    side.pool = new pg.Pool({ connectionString: withDatabase(serverUrl, side.db), max: 4 });
    await migrate(side.pool, 'fhir', FHIR_MIGRATIONS);
    await migrate(side.pool, 'fhir-events', EVENT_MIGRATIONS);
    usePreparedStatements(side.pool);
    side.store = new (other && i === 0 ? other : ResourceStore)(side.pool, 'https://bench/fhir');
  }
  let n = 0;
  const patient = () => ({
    resourceType: 'Patient' as const,
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/bench-patient'], tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    identifier: [{ system: 'http://bench/new', value: `n${n++}` }],
    active: true,
  });
  const round = async (side: (typeof sides)[number], count: boolean) => {
    const store = side.store!;
    const before = process.cpuUsage();
    for (let k = 0; k < CREATES / 8; k++) await Promise.all(Array.from({ length: 8 }, () => store.transaction((c) => store.create(c, patient()))));
    const used = process.cpuUsage(before);
    if (count) side.cpu.push((used.user + used.system) / CREATES);
  };
  for (const side of sides) await round(side, false); // warm-up: the statement prepared, the code optimised
  for (let r = 0; r < ROUNDS; r++) for (const side of r % 2 ? [...sides].reverse() : sides) await round(side, true);
  for (const side of sides) {
    const s = side.store!.writeGroups.stats;
    console.log(`${side.name}: CPU per create ${side.cpu.map((x) => x.toFixed(1)).join(' ')} µs (median ${spread(side.cpu).median.toFixed(2)}); ${(s.members / s.groups).toFixed(1)} creates a statement`);
  }
  if (other) {
    const ratio = sides[1]!.cpu.map((x, i) => x / sides[0]!.cpu[i]!);
    console.log(`this / ${sides[0]!.name} per round: median ${spread(ratio).median.toFixed(3)}, lower in ${ratio.filter((x) => x < 1).length} of ${ratio.length}`);
  }
} finally {
  for (const side of sides) await side.pool?.end();
  for (const side of sides) await admin.query(`DROP DATABASE IF EXISTS ${side.db} WITH (FORCE)`);
  await admin.end();
}
