// Feasibility across networks of DICs (`--only feasibility`): a research platform asks 3 and 10 DICs,
// each with a local data repository of N synthetic patients (default 10,000; --feasibility-patients N);
// wall time from creating the researcher's Task until it is completed with every site's result, as a
// ratio to one local count of the same criteria against one repository from this process (the work a
// single DIC does). The repository is seeded once through the FHIR API into a database kept on the
// bench server (dsf_bench_feasibility_<N>_data_bench_dic) and copied per DIC (CREATE DATABASE … TEMPLATE);
// a later run reuses it. The networks are the demo's (all sites in this process).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Task } from '@medplum/fhirtypes';
import { generateCertificates } from '../src/cli/certs.ts';
import { DATA_REPOSITORY_PORT_OFFSET, startDemoDataRepositories, vacuumAnalyze } from '../src/cli/demo-data-repositories.ts';
import { FEASIBILITY_REQUEST_DRAFT, findFreeBasePort, startDemoNetwork } from '../src/cli/demo-network.ts';
import { networkBundle } from '../src/cli/network-bundle.ts';
import { HttpFhirClient } from '../src/bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { withDatabase } from '../src/db/pool.ts';
import { findDraftTask, requestedTaskFrom } from '../src/plugin-api/draft-tasks.ts';
import { countCohort, parseCriterion } from '../plugins/research-common/cohort-selection.ts';

const SEED_SITE = 'Bench_DIC';
const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => Math.round(ms / 100) / 10;

async function databaseExists(url: string, name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    return !!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount;
  } finally {
    await admin.end();
  }
}

async function dropDatabases(url: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]);
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The template repository: seeded through the FHIR API on the first run. */
export async function template(url: string, patients: number, log: (s: string) => void): Promise<{ name: string; seededMs?: number }> {
  const prefix = `dsf_bench_feasibility_${patients}_`;
  const name = `${prefix}data_${SEED_SITE.toLowerCase()}`;
  // A half-seeded template (interrupted run) has fewer patients; the marker database says it finished.
  if ((await databaseExists(url, name)) && (await databaseExists(url, `${prefix}complete`))) {
    await vacuumAnalyze(url, name); // a template kept by an earlier version may lack statistics; cheap when present
    return { name };
  }
  await dropDatabases(url, prefix);
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-feasibility-seed-'));
  try {
    const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: [SEED_SITE] });
    const port = await findFreeBasePort(1);
    const bundle = join(dir, 'bundle.json');
    writeFileSync(bundle, JSON.stringify(networkBundle([{ organizationIdentifier: SEED_SITE, name: SEED_SITE, thumbprints: [certs.organizations[SEED_SITE]!.client.thumbprint], fhirBaseUrl: `https://localhost:${port + DATA_REPOSITORY_PORT_OFFSET}/fhir-seed`, roles: ['DIC'] }], 'Bench_Seed_Consortium')));
    log(`seeding the template repository with ${patients} patients through the FHIR API (once; kept as ${name})`);
    const t0 = performance.now();
    const repositories = await startDemoDataRepositories({ sites: [{ organization: SEED_SITE, port }], certs, databaseServerUrl: url, databasePrefix: prefix, initBundle: bundle, dir, patients, log });
    await repositories.stop();
    await vacuumAnalyze(url, name); // statistics and visibility map travel with every copy
    const seededMs = performance.now() - t0;
    const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${prefix}complete"`);
    await admin.end();
    return { name, seededMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FeasibilityBenchResult {
  patientsPerSite: number;
  seededSeconds?: number;
  localCountMs: number;
  networks: ({ dics: number; startSeconds: number; wallMs: number; ratioToLocalCount: number; total: number | undefined } | { dics: number; failed: string })[];
}

export async function run(url: string, log: (s: string) => void, patients = 10_000): Promise<FeasibilityBenchResult> {
  const tmpl = await template(url, patients, log);
  if (tmpl.seededMs !== undefined) log(`  seeded in ${seconds(tmpl.seededMs)} s (${Math.round((patients * 1000) / tmpl.seededMs)} patients/s)`);
  const result: FeasibilityBenchResult = { patientsPerSite: patients, seededSeconds: tmpl.seededMs && seconds(tmpl.seededMs), localCountMs: 0, networks: [] };
  process.env.DEV_DSF_FEASIBILITY_TIMEOUT ??= 'PT10M'; // the demo's BPEs read plugin placeholders from the environment
  for (const dics of [3, 10]) {
    const organizations = [...Array.from({ length: dics }, (_, i) => `Test_DIC_${i + 1}`), 'Test_HRP'];
    const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-feasibility-'));
    const prefix = `dsf_bench_feas_run_${Date.now().toString(36)}_`;
    const t0 = performance.now();
    const demo = await startDemoNetwork({ dir, organizations, basePort: await findFreeBasePort(organizations.length), databaseUrl: url, databasePrefix: prefix, log: () => {}, dataRepositoryPatients: patients, dataRepositoryTemplate: tmpl.name });
    const startSeconds = seconds(performance.now() - t0);
    try {
      // A network that does not finish is reported, and the next one still runs.
      try {
        const ca = readFileSync(demo.network.ca, 'utf8');
        const hrp = demo.network.sites.find((s) => s.organization === 'Test_HRP')!;
        const http = new HttpsClient({ cert: readFileSync(hrp.clientCert, 'utf8'), key: readFileSync(hrp.clientKey, 'utf8'), ca });
        try {
          const client = new HttpFhirClient({ http, baseUrl: hrp.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 });
          const draft = await findDraftTask(client, FEASIBILITY_REQUEST_DRAFT);
          if (result.localCountMs === 0) result.localCountMs = await localCount(demo.network.sites[0]!, ca, draft);
          const walls: number[] = [];
          let total: number | undefined;
          for (let i = 0; i < RUNS; i++) {
            const started = performance.now();
            const created = await client.createMinimal(requestedTaskFrom(draft));
            let done: Task | undefined;
            for (let poll = 0; poll < 6_000 && !done; poll++) {
              const t = await client.read<Task>('Task', created.id);
              if (t.status === 'completed' || t.status === 'failed') done = t;
              else await new Promise((r) => setTimeout(r, 20));
            }
            if (done?.status !== 'completed') throw new Error(`feasibility with ${dics} DICs did not complete: ${JSON.stringify(done?.output)}`);
            const answered = (done.output ?? []).filter((o) => ['answered', 'below-threshold'].includes(o.valueCoding?.code ?? '')).length;
            if (answered !== dics) throw new Error(`only ${answered} of ${dics} DICs answered: ${JSON.stringify(done.output)}`);
            walls.push(performance.now() - started);
            total = done.output?.find((o) => o.type?.coding?.[0]?.code === 'total')?.valueInteger;
          }
          const wallMs = median(walls);
          result.networks.push({ dics, startSeconds, wallMs: Math.round(wallMs), ratioToLocalCount: Math.round((wallMs / result.localCountMs) * 10) / 10, total });
          log(`  ${String(dics).padStart(2)} DICs x ${patients} patients: feasibility ${Math.round(wallMs)} ms (median of ${RUNS}; ${(wallMs / result.localCountMs).toFixed(1)}x one local count of ${Math.round(result.localCountMs)} ms); total ${total}; network start ${startSeconds} s`);
        } finally {
          http.close();
        }
      } catch (e) {
        const failed = (e as Error).message.slice(0, 300);
        result.networks.push({ dics, failed });
        log(`  ${String(dics).padStart(2)} DICs x ${patients} patients: FAILED: ${failed}`);
      }
    } finally {
      await demo.stop();
      await dropDatabases(url, prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result;
}

/** The baseline: the draft's criteria counted once against one DIC's repository from this process (median of 3). */
async function localCount(site: { organization: string; fhirBaseUrl: string; clientCert: string; clientKey: string }, ca: string, draft: Task): Promise<number> {
  const port = Number(new URL(site.fhirBaseUrl).port) + DATA_REPOSITORY_PORT_OFFSET;
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca });
  try {
    const client = new HttpFhirClient({ http, baseUrl: `https://localhost:${port}/fhir`, connectTimeoutMs: 5_000, readTimeoutMs: 120_000 });
    const criteria = (draft.input ?? []).filter((i) => i.type?.coding?.[0]?.code === 'criterion').map((i) => parseCriterion(i.valueString!));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await countCohort(client, criteria);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    http.close();
  }
}
