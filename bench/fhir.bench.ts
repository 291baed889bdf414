// FHIR server throughput and latency, each as a ratio to a fastify route that returns a fixed JSON body
// of the same size over the same TLS setup, measured next to it in the same run (five rounds by time,
// the ratio the median of the rounds' with its range; see the rounds below); and resident memory after
// 100,000 stored resources. Each workload also reports the serving process's CPU time per request (µs,
// each thread's schedstat in /proc), PostgreSQL's (its backends for the site's database, when on this
// host) and this load generator's: figures that hold when other work loads the machine.
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { sitesBundle } from '../src/fhir/init-bundle.ts';
import { formatRow, runFor, runLoad, type LoadResult } from './lib/load.ts';
import { bracketing, roundPlan, spread } from './lib/rounds.ts';
import { startChild, type Child } from './lib/child.ts';
import { countConnections } from './lib/connection-count.ts';
import { databaseCpu, databaseCpuSince } from './lib/database-cpu.ts';
import { startBenchSite } from './lib/bench-site.ts';
import { schedulingMark, schedulingSince, type SchedulingShares } from './lib/scheduling.ts';
import { availableParallelism } from 'node:os';
import { measureBinary } from './binary.bench.ts';

const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';

export async function run(serverUrl: string, log: (s: string) => void, opts: { memoryResources: number; binaryOnly?: boolean }): Promise<Record<string, unknown>> {
  const dir = resolve('.dsf/bench');
  mkdirSync(dir, { recursive: true });
  const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: ['Bench_Org', 'Bench_Remote'] });
  const remote = certs.organizations.Bench_Remote!;
  const org = certs.organizations.Bench_Org!;
  const ca = readFileSync(certs.ca.certPath, 'utf8');
  const site = await startBenchSite(serverUrl, certs, 'Bench_Org', 'dsf_bench');
  const { fhir, baseUrl } = site;
  const client = new HttpsClient({ ca, cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') }, { maxSockets: 64 });
  // A remote organisation known to the site: its searches go through the read-access filter.
  const remoteClient = new HttpsClient({ ca, cert: readFileSync(remote.client.certPath, 'utf8'), key: readFileSync(remote.client.keyPath, 'utf8') }, { maxSockets: 64 });
  // New connections (TCP + TLS handshake) each client opened: a measured round should reuse its sockets.
  let connectionsOpened = 0;
  for (const c of [client, remoteClient]) countConnections(c, () => connectionsOpened++);
  const json = { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' };
  const results: LoadResult[] = [];
  let baselineChild: Child | undefined; // stopped in finally too: a failed run left it running
  const out: Record<string, unknown> = {};
  try {
    // Data for reads and searches.
    const patientIds: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await client.request(`${baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/pid', value: `p${i}` }], active: true }) });
      if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${r.body}`);
      patientIds.push(JSON.parse(r.body).id);
    }
    const sample = await client.request(`${baseUrl}/Patient/${patientIds[0]}`, { headers: json });
    const baseline = (baselineChild = await startChild(['bench/lib/baseline-server.ts', org.server.certPath, org.server.keyPath, certs.ca.certPath, String(sample.body.length)], {}, /PORT (\d+)/));
    const baselineUrl = `https://localhost:${baseline.match[1]}/fixed`;
    const seedBundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 100 }, (_, i) => [
        { fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(2 * i).padStart(12, '0')}`, resource: { resourceType: 'Organization', meta: { ...TAG.meta, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] }, identifier: [{ system: ORG_ID, value: `org-${i}` }], active: true, name: `Org ${i}`, endpoint: [{ reference: `urn:uuid:00000000-0000-4000-8000-${String(2 * i + 1).padStart(12, '0')}` }] }, request: { method: 'POST', url: 'Organization' } },
        { fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(2 * i + 1).padStart(12, '0')}`, resource: { resourceType: 'Endpoint', ...TAG, status: 'active', address: `https://org-${i}.test/fhir`, connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' }, payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }], payloadMimeType: ['application/fhir+json', 'application/fhir+xml'], identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: `ep-${i}` }], managingOrganization: { reference: `urn:uuid:00000000-0000-4000-8000-${String(2 * i).padStart(12, '0')}` } }, request: { method: 'POST', url: 'Endpoint' } },
      ]).flat(),
    };
    const seeded = await client.request(baseUrl, { method: 'POST', headers: json, body: JSON.stringify(seedBundle) });
    if (seeded.status !== 200) throw new Error(`seed bundle failed: ${seeded.status} ${seeded.body.slice(0, 500)}`);
    const remoteSite = sitesBundle([{ organizationIdentifier: 'Bench_Remote', thumbprints: [remote.client.thumbprint], fhirBaseUrl: 'https://bench-remote.test/fhir' }]);
    const known = await client.request(baseUrl, { method: 'POST', headers: json, body: JSON.stringify(remoteSite) });
    if (known.status !== 200) throw new Error(`remote organisation failed: ${known.status} ${known.body.slice(0, 500)}`);
    const firstOrg = JSON.parse((await client.request(`${baseUrl}/Organization?identifier=${ORG_ID}|org-0`, { headers: json })).body).entry[0].resource.id;
    // Not with DSF_BENCH_FHIR_ONLY (a profile of some workloads must not hold the Binary transfers).
    if (!process.env.DSF_BENCH_FHIR_ONLY) out.binary = await measureBinary(client, baseUrl, `Organization/${firstOrg}`, () => fhir.rssMiB(), log);
    if (opts.binaryOnly) {
      await baseline.stop();
      return out;
    }

    const ok = (status: number) => (r: { status: number }) => r.status === status;
    const pick = (i: number) => patientIds[i % patientIds.length];
    let created = 0;
    // The second baseline: PostgreSQL alone, one jsonb row inserted and committed per request (one
    // autocommit statement, one round trip), from a pool as large as the clients, on the same server.
    const bare = new pg.Pool({ connectionString: site.databaseUrl, max: 16 });
    bare.on('connect', () => connectionsOpened++);
    await bare.query('CREATE TABLE bench_bare_insert (id uuid PRIMARY KEY, resource jsonb NOT NULL)');
    const bareBody = JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/bare', value: 'x' }], active: true });
    const workloads: [string, number, (i: number) => Promise<boolean>][] = [
      ['baseline: fixed JSON over TLS', 1, () => client.request(baselineUrl).then(ok(200))],
      ['baseline: bare jsonb insert+commit', 1, () => bare.query('INSERT INTO bench_bare_insert (id, resource) VALUES ($1, $2)', [randomUUID(), bareBody]).then(() => true)],
      ['read', 1, (i) => client.request(`${baseUrl}/Patient/${pick(i)}`, { headers: json }).then(ok(200))],
      ['read as XML', 1, (i) => client.request(`${baseUrl}/Patient/${pick(i)}`, { headers: { accept: 'application/fhir+xml' } }).then(ok(200))],
      ['search token', 1, (i) => client.request(`${baseUrl}/Organization?identifier=${ORG_ID}|org-${i % 100}`, { headers: json }).then(ok(200))],
      ['search name', 1, (i) => client.request(`${baseUrl}/Organization?name=Org%20${10 + (i % 90)}`, { headers: json }).then(ok(200))],
      ['search token + _include', 1, (i) => client.request(`${baseUrl}/Organization?identifier=${ORG_ID}|org-${i % 100}&_include=Organization:endpoint`, { headers: json }).then(ok(200))],
      ['search token (remote organisation)', 1, (i) => remoteClient.request(`${baseUrl}/Organization?identifier=${ORG_ID}|org-${i % 100}`, { headers: json }).then(ok(200))],
      ['search token + _include (remote org)', 1, (i) => remoteClient.request(`${baseUrl}/Organization?identifier=${ORG_ID}|org-${i % 100}&_include=Organization:endpoint`, { headers: json }).then(ok(200))],
      ['create', 1, () => client.request(`${baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/new', value: `n${created++}` }], active: true }) }).then(ok(201))],
      ['conditional create (match exists)', 1, (i) => client.request(`${baseUrl}/Patient`, { method: 'POST', headers: { ...json, 'if-none-exist': `identifier=http://bench/pid|p${i % 200}` }, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/pid', value: `p${i % 200}` }], active: true }) }).then(ok(200))],
      ['transaction of 100 entries', 100, () => client.request(baseUrl, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 100 }, () => ({ resource: { resourceType: 'Patient', ...TAG, active: true }, request: { method: 'POST', url: 'Patient' } })) }) }).then(ok(200))],
    ];
    // PostgreSQL's CPU for the site's database (bench/lib/database-cpu.ts).
    const monitor = new pg.Client({ connectionString: site.databaseUrl });
    await monitor.connect();
    // The process that serves each workload (none for the bare insert: that is PostgreSQL alone).
    const serverOf = (name: string) => (name === 'baseline: fixed JSON over TLS' ? baseline : name.startsWith('baseline') ? undefined : fhir);
    // Writes are compared with the bare insert, searches also with a read (entries per second for the transaction).
    const secondBaseline = (name: string) => (name === 'create' || name.startsWith('transaction') ? 'baseline: bare jsonb insert+commit' : name.startsWith('search') ? 'read' : undefined);
    // DSF_BENCH_FHIR_ONLY=read,create: only these workloads (and the baselines), e.g. for a CPU profile.
    const only = process.env.DSF_BENCH_FHIR_ONLY?.split(',').map((n) => n.trim());
    if (only) workloads.splice(0, workloads.length, ...workloads.filter(([n]) => n.startsWith('baseline') || only.includes(n)));
    // Rounds by time, not by count: each segment (one workload or baseline at one concurrency) runs for
    // SEGMENT_MS, so that a fast workload is measured as long as a slow one and a GC pause or a burst of
    // other work on the machine moves a figure by a small share (a count of 667 requests took under
    // 0.1 s at 16 clients). ROUNDS rounds, each measuring the baselines around every group of
    // GROUP workloads (bench/lib/rounds.ts); a figure is the median of its rounds, a ratio the median
    // of the rounds' ratios, printed with their range. DSF_BENCH_FHIR_SCALE=3: segments three times as
    // long (a CPU profile of the workload rather than of its start); DSF_BENCH_FHIR_CLIENTS=16: only
    // that concurrency.
    const ROUNDS = 5;
    const GROUP = 5;
    const scale = Math.max(0.1, Number(process.env.DSF_BENCH_FHIR_SCALE ?? 1) || 1);
    const SEGMENT_MS = Math.round(400 * scale);
    const concurrencies = process.env.DSF_BENCH_FHIR_CLIENTS ? process.env.DSF_BENCH_FHIR_CLIENTS.split(',').map(Number) : [1, 16];
    const byName = new Map(workloads.map(([n, w, fn]) => [n, { weight: w, fn }]));
    const baselineNames = workloads.map(([n]) => n).filter((n) => n.startsWith('baseline'));
    const order = roundPlan(
      baselineNames,
      workloads.map(([n]) => n).filter((n) => !n.startsWith('baseline')),
      GROUP,
    );
    // A warm-up of every workload before the first measured round: without it the first concurrency
    // (1 client) measured a server still compiling its code (V8 optimises a function after many calls;
    // a profile of the first 1,000 creates showed TurboFan's graph reducer and baseline code), which
    // put that figure's server CPU per create 1.4-1.6x above a later 1-client round of the same server
    // (bench/create-costs.ts with DSF_COSTS_CLIENTS=16,1,16,1). By time, the same for every workload: by
    // count (1,000 requests each) the TLS route, several times faster than the server, had the least.
    // The TLS route's first segments at one client still ran at a third to a half of its later speed in
    // most runs, with this warm-up and the idle wait below too (cause not found); a ratio is the
    // median of five rounds, so that first round does not decide it.
    const WARM_UP_MS = 500;
    for (const [name, , fn] of workloads) await runFor(name, 16, WARM_UP_MS, fn);
    let measuredConnections = 0;
    // Waits until the two servers and the database's backends are idle (together under 5 % of a core
    // over 100 ms; at most 5 s), so that the first round does not run beside what the warm-up left
    // behind (autovacuum of the rows it wrote, the servers' garbage). In the runs so far that took
    // 0.1-0.2 s: a guard, not a cure for a slow first round.
    const settleMs: number[] = [];
    const settle = async () => {
      const start = performance.now();
      while (performance.now() - start < 5_000) {
        const before = fhir.cpuMicros() + baseline.cpuMicros();
        const db = await databaseCpu(monitor);
        await new Promise((r) => setTimeout(r, 100));
        const spent = fhir.cpuMicros() + baseline.cpuMicros() - before + ((db && (await databaseCpuSince(monitor, db))) ?? 0);
        if (spent < 5_000) break;
      }
      return performance.now() - start;
    };
    const measureStart = performance.now();
    for (const concurrency of concurrencies) {
      for (const [name, , fn] of workloads) await runFor(name, concurrency, WARM_UP_MS / 5, fn); // at this concurrency
      settleMs.push(Math.round(await settle()));
      // Per round, per position in its order: the result, the serving process's CPU time, PostgreSQL's
      // and this load generator's per request (per entry for a transaction; µs; the load generator
      // shares the two cores), and the connections it opened.
      const rounds: { r: LoadResult; cpu?: number; db?: number; client: number; opened: number; sched: SchedulingShares; clientSched: SchedulingShares }[][] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const segments: (typeof rounds)[number] = [];
        for (const name of order) {
          const { weight, fn } = byName.get(name)!;
          // One untimed request per client first: each measured segment starts with its sockets open
          // (a keep-alive socket idle for longer than a round would else be reopened inside it) and the
          // workload's code just run, whatever ran before it.
          await runLoad(name, concurrency, concurrency, 20_000, fn);
          const server = serverOf(name);
          const cpuBefore = server?.cpuMicros();
          const dbBefore = name === 'baseline: fixed JSON over TLS' ? undefined : await databaseCpu(monitor);
          const opened = connectionsOpened;
          const clientBefore = process.cpuUsage();
          const schedBefore = schedulingMark(server?.proc.pid);
          const clientSchedBefore = schedulingMark(process.pid);
          const r = await runFor(name, concurrency, SEGMENT_MS, fn);
          const clientSched = schedulingSince(clientSchedBefore, schedulingMark(process.pid), availableParallelism());
          const sched = schedulingSince(schedBefore, schedulingMark(server?.proc.pid), availableParallelism());
          const client = process.cpuUsage(clientBefore);
          const units = r.requests * weight;
          const dbSpent = dbBefore && (await databaseCpuSince(monitor, dbBefore));
          segments.push({
            r,
            cpu: server ? (server.cpuMicros() - cpuBefore!) / units : undefined,
            client: (client.user + client.system) / units,
            db: dbSpent !== undefined ? dbSpent / units : undefined,
            opened: connectionsOpened - opened,
            sched,
            clientSched,
          });
          measuredConnections += connectionsOpened - opened;
        }
        rounds.push(segments);
      }
      // The ratio of a workload to a reference in each round: of requests per second to the TLS route,
      // of units per second (entries for a transaction) to the bare insert and to a read.
      const ratios = (name: string, reference: string, perEntry: boolean) =>
        rounds.map((segments) => {
          const at = order.indexOf(name);
          const units = segments.map((s, k) => s.r.rps * (perEntry ? byName.get(order[k]!)!.weight : 1));
          return units[at]! / bracketing(order, units, at, reference)!;
        });
      // The same comparison in CPU time: the reference's CPU per request (or entry) over the workload's,
      // counting the serving process, PostgreSQL's backends and this load generator. It is the ratio the
      // throughputs tend to when the CPUs are the limit (under load from other work they are), and it
      // moves little with that load. Where something else sets the pace the two differ: at one client
      // round trips and the commit's flush to disk (a bare insert: 240-950/s, at 83-224 µs of CPU).
      // Only with PostgreSQL on this host.
      const measuresDatabase = rounds.every((segments) => segments.every((s, k) => s.db !== undefined || order[k] === 'baseline: fixed JSON over TLS'));
      const cpuRatios = (name: string, reference: string, perEntry: boolean) =>
        rounds.map((segments) => {
          const at = order.indexOf(name);
          const costs = segments.map((s, k) => ((s.cpu ?? 0) + (s.db ?? 0) + s.client) * (perEntry ? 1 : byName.get(order[k]!)!.weight));
          return bracketing(order, costs, at, reference)! / costs[at]!;
        });
      const fixed = (x: number, d = 3) => +x.toFixed(d);
      for (const [name, weight] of workloads) {
        // A baseline's segments all count (it runs several times a round); its spread is of its throughput.
        const own = rounds.flatMap((segments) => segments.filter((_, k) => order[k] === name));
        const rps = spread(own.map((s) => s.r.rps));
        const r = { ...own.reduce((a, b) => (Math.abs(b.r.rps - rps.median) < Math.abs(a.r.rps - rps.median) ? b : a)).r, rps: rps.median };
        results.push(r);
        const isBaseline = name.startsWith('baseline');
        const toBase = isBaseline ? undefined : spread(ratios(name, 'baseline: fixed JSON over TLS', false));
        // The second baseline may be left out by DSF_BENCH_FHIR_ONLY (a search without the read).
        const second = [secondBaseline(name)].find((n) => n !== undefined && byName.has(n));
        const toSecond = second ? spread(ratios(name, second, true)) : undefined;
        const cpuToBase = !isBaseline && measuresDatabase ? spread(cpuRatios(name, 'baseline: fixed JSON over TLS', false)) : undefined;
        const cpuToSecond = second && measuresDatabase ? spread(cpuRatios(name, second, true)) : undefined;
        const cpus = own.filter((s) => s.cpu !== undefined).map((s) => s.cpu!);
        const dbs = own.filter((s) => s.db !== undefined).map((s) => s.db!);
        const cpu = cpus.length ? spread(cpus).median : undefined;
        const db = dbs.length ? spread(dbs).median : undefined;
        const range = (s: { min: number; max: number }) => `(${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
        const cpuNote = (c?: { median: number }) => (c ? ` cpu ${c.median.toFixed(2)}` : '');
        const ratioText = toBase ? `ratio ${toBase.median.toFixed(3)} ${range(toBase)}${cpuNote(cpuToBase)}` : `req/s ${rps.min.toFixed(0)}–${rps.max.toFixed(0)}`;
        const secondText = toSecond ? `  vs ${second === 'read' ? 'read' : 'bare insert'} ${toSecond.median.toFixed(3)} ${range(toSecond)}${cpuNote(cpuToSecond)}` : '';
        const clientCpu = spread(own.map((s) => s.client)).median;
        const cpuText = `${cpu !== undefined ? `  server ${cpu.toFixed(0)} µs/${weight > 1 ? 'entry' : 'req'}` : ''}${db !== undefined ? `  db ${db.toFixed(0)} µs` : ''}  client ${clientCpu.toFixed(0)} µs`;
        log(`${formatRow(r, ratioText)}${secondText}${cpuText}`);
        const secondKey = second === 'read' ? 'ratioToRead' : 'ratioToBareInsert';
        out[`${name} c=${concurrency}`] = {
          rps: Math.round(r.rps),
          rpsRange: [Math.round(rps.min), Math.round(rps.max)],
          p50ms: fixed(r.p50ms, 2),
          p99ms: fixed(r.p99ms, 2),
          ratioToBaseline: toBase ? fixed(toBase.median, 4) : 1,
          ...(toBase ? { ratioToBaselineRange: [fixed(toBase.min), fixed(toBase.max)] } : {}),
          ...(toSecond ? { [secondKey]: fixed(toSecond.median, 4), [`${secondKey}Range`]: [fixed(toSecond.min), fixed(toSecond.max)] } : {}),
          ...(cpuToBase ? { cpuRatioToBaseline: fixed(cpuToBase.median), cpuRatioToBaselineRange: [fixed(cpuToBase.min), fixed(cpuToBase.max)] } : {}),
          ...(cpuToSecond ? { [`cpuR${secondKey.slice(1)}`]: fixed(cpuToSecond.median), [`cpuR${secondKey.slice(1)}Range`]: [fixed(cpuToSecond.min), fixed(cpuToSecond.max)] } : {}),
          ...(cpu !== undefined ? { [weight > 1 ? 'serverCpuMicrosPerEntry' : 'serverCpuMicrosPerRequest']: Math.round(cpu) } : {}),
          ...(db !== undefined ? { [weight > 1 ? 'databaseCpuMicrosPerEntry' : 'databaseCpuMicrosPerRequest']: Math.round(db) } : {}),
          [weight > 1 ? 'clientCpuMicrosPerEntry' : 'clientCpuMicrosPerRequest']: Math.round(clientCpu),
          // The segment's idle CPUs (cores) and the serving process's and this load generator's main threads'
          // shares of wall time running, waiting to run and sleeping (bench/lib/scheduling.ts), medians of the rounds.
          idleCores: fixed(spread(own.map((s) => s.sched.idleCores)).median),
          ...(serverOf(name) ? { serverMainThread: { run: fixed(spread(own.map((s) => s.sched.run)).median), wait: fixed(spread(own.map((s) => s.sched.wait)).median), sleep: fixed(spread(own.map((s) => s.sched.sleep)).median) } } : {}),
          clientMainThread: { run: fixed(spread(own.map((s) => s.clientSched.run)).median), wait: fixed(spread(own.map((s) => s.clientSched.wait)).median), sleep: fixed(spread(own.map((s) => s.clientSched.sleep)).median) },
          errors: own.reduce((n, s) => n + s.r.errors, 0),
          rounds: own.map((s) => ({ rps: Math.round(s.r.rps), requests: s.r.requests, newConnections: s.opened, idleCores: fixed(s.sched.idleCores), serverRun: fixed(s.sched.run), serverWait: fixed(s.sched.wait), clientRun: fixed(s.clientSched.run), clientWait: fixed(s.clientSched.wait) })),
        };
      }
    }
    // Connections opened inside measured segments (TCP+TLS handshakes, pg connections): 0 when every
    // segment ran on the sockets its untimed first requests opened.
    const seconds = Math.round((performance.now() - measureStart) / 1000);
    out.method = { rounds: ROUNDS, segmentMs: SEGMENT_MS, group: GROUP, order, connectionsOpenedWhileMeasuring: measuredConnections, settleMs, seconds };
    log(`method: ${ROUNDS} rounds of ${SEGMENT_MS} ms segments, baselines around every ${GROUP} workloads; connections opened while measuring: ${measuredConnections}; idle after the warm-ups in ${settleMs.join(', ')} ms; ${seconds} s`);
    await bare.end();
    await monitor.end();
    await baseline.stop();
    // The cost of authorization: the same searches as a remote organisation (read-access filtered SQL)
    // against the local organisation (no filter), as a ratio of throughput, each taken relative to the
    // TLS route measured next to it (the two are measured in different groups of a round).
    const authz: Record<string, number> = {};
    for (const c of [1, 16]) {
      for (const [remoteName, localName] of [['search token (remote organisation)', 'search token'], ['search token + _include (remote org)', 'search token + _include']] as const) {
        if (!out[`${remoteName} c=${c}`] || !out[`${localName} c=${c}`]) continue;
        const ratio = (out[`${remoteName} c=${c}`] as { ratioToBaseline: number }).ratioToBaseline / (out[`${localName} c=${c}`] as { ratioToBaseline: number }).ratioToBaseline;
        authz[`${localName} c=${c}`] = +ratio.toFixed(3);
        log(`authorization cost: ${localName} c=${c}: remote/local throughput ratio ${ratio.toFixed(3)}`);
      }
    }
    out.authorizationRemoteToLocal = authz;

    // Index use of the common searches, on the data just stored.
    const db = new pg.Client({ connectionString: site.databaseUrl });
    await db.connect();
    await db.query('ANALYZE');
    const plan = (
      await db.query(`EXPLAIN SELECT r.resource FROM resources r WHERE r.type = 'Organization' AND r.current AND NOT r.deleted
        AND EXISTS (SELECT 1 FROM search_index s WHERE s.resource_id = r.id AND s.type = 'Organization' AND s.param = 'identifier' AND s.code = 'org-5' AND s.system = '${ORG_ID}')`)
    ).rows.map((r) => r['QUERY PLAN']).join('\n');
    log(`plan of Organization?identifier=...:\n${plan}`);
    out.tokenSearchUsesIndex = /Index (Only )?Scan using search_index/.test(plan) && !/Seq Scan on search_index/.test(plan);

    if (opts.memoryResources > 0) {
      const batch = 500;
      const total = (await db.query('SELECT count(*)::int AS n FROM resources')).rows[0].n as number;
      const needed = Math.max(0, opts.memoryResources - total);
      log(`storing ${needed} more resources for the memory figure...`);
      const r = await runLoad('bulk transactions of 500', 4, Math.ceil(needed / batch), 600_000, () =>
        client.request(baseUrl, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: batch }, (_, k) => ({ resource: { resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/bulk', value: `b${k}` }], active: true }, request: { method: 'POST', url: 'Patient' } })) }) }).then(ok(200)),
      );
      const stored = (await db.query('SELECT count(*)::int AS n FROM resources WHERE current AND NOT deleted')).rows[0].n as number;
      // A few searches and reads touching the data, then the server's resident memory.
      for (let i = 0; i < 50; i++) await client.request(`${baseUrl}/Patient?identifier=http://bench/bulk|b${i}&_count=50`, { headers: json });
      const rss = fhir.rssMiB();
      log(`stored ${stored} current resources (${(r.rps * batch).toFixed(0)} resources/s in transactions of ${batch}); FHIR server RSS ${rss.toFixed(0)} MiB`);
      out.memory = { storedResources: stored, rssMiB: Math.round(rss), limitMiB: 300, resourcesPerSecondInTransactions: Math.round(r.rps * batch) };
    }
    await db.end();
  } finally {
    await baselineChild?.stop();
    client.close();
    remoteClient.close();
    await site.stop();
  }
  return out;
}
