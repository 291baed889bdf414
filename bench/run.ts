// npm run bench: runs the benchmarks against a PostgreSQL server (DSF_BENCH_DATABASE_URL, or an
// embedded one), prints each figure as a ratio to a baseline of the same run, and writes
// .dsf/bench/results-<time>.json. Options: --memory-resources N (default 100000; 0 skips it),
// --only fhir|engine|events|binary|bpe|network|feasibility|linkage (binary: only the raw Binary throughput of the
// FHIR server); --feasibility-patients N (default 10000) per DIC repository.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { run as runFhir } from './fhir.bench.ts';
import { run as runEngine } from './engine.bench.ts';
import { run as runEvents } from './events.bench.ts';
import { run as runBpe } from './bpe.bench.ts';
import { run as runNetwork } from './network.bench.ts';
import { run as runFeasibility } from './feasibility.bench.ts';
import { run as runLinkage } from './linkage.bench.ts';

const args = process.argv.slice(2);
const memIdx = args.indexOf('--memory-resources');
const memoryResources = memIdx >= 0 ? Number(args[memIdx + 1]) : 100_000;
const patientsIdx = args.indexOf('--feasibility-patients');
const feasibilityPatients = patientsIdx >= 0 ? Number(args[patientsIdx + 1]) : 10_000;

let url = process.env.DSF_BENCH_DATABASE_URL;
let stop = async () => {};
if (!url) {
  const db = await startEmbeddedPostgres(join('.dsf', 'bench', 'postgres'));
  url = db.url;
  stop = db.stop;
}
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
try {
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (!only || only === 'fhir' || only === 'binary') {
    console.log('== FHIR server ==');
    results.fhir = await runFhir(url, (s) => console.log(s), { memoryResources, binaryOnly: only === 'binary' });
  }
  if (!only || only === 'engine') {
    console.log('== BPMN engine ==');
    process.env.DSF_BENCH_DATABASE_URL = url;
    results.engine = await runEngine((s) => console.log(s));
  }
  if (!only || only === 'events') {
    console.log('== Events (websocket subscriptions) ==');
    results.events = await runEvents(url, (s) => console.log(s));
  }
  if (!only || only === 'bpe') {
    console.log('== BPE (Task -> process start) ==');
    results.bpe = await runBpe(url, (s) => console.log(s));
  }
  if (!only || only === 'network') {
    console.log('== Networks of sites (ping-pong) ==');
    process.env.DSF_TEST_DATABASE_URL = url; // the test kit's sites (memory of separate processes)
    results.network = await runNetwork((s) => console.log(s));
  }
  if (!only || only === 'feasibility') {
    console.log('== Feasibility (research platform and DICs with local data repositories) ==');
    results.feasibility = await runFeasibility(url, (s) => console.log(s), feasibilityPatients);
  }
  if (!only || only === 'linkage') {
    console.log('== Record linkage (Bloom filters, Dice) ==');
    results.linkage = runLinkage((s) => console.log(s));
  }
} finally {
  await stop();
}
mkdirSync(join('.dsf', 'bench'), { recursive: true });
const file = join('.dsf', 'bench', `results-${Date.now()}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`results written to ${file}`);
