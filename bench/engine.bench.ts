// Process engine benchmark: instance throughput for a 5-step service-task process and for a message
// round trip (start, wait, correlate, end), resident memory with 10,000 waiting instances, and jobs
// that wait on I/O run by one job worker against four.
// Each figure is a ratio to a baseline measured in the same run on the same database:
//  - throughput: the bare cost of the database round trips the same work needs at least
//    (one transaction per command, one statement per step), without any engine logic;
//  - memory: resident memory of this process before the instances were created;
//  - job workers: the same jobs run by one worker.
// Needs DSF_BENCH_DATABASE_URL (a PostgreSQL server URL); creates and drops its own database.
import { randomBytes } from 'node:crypto';
import { createServer, Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { ProcessEngine } from '../src/bpe/engine/engine.ts';
import type { DelegateFactory } from '../src/bpe/engine/delegate.ts';
import { createPool, ensureDatabase, withDatabase } from '../src/db/pool.ts';

const SERVICE_STEPS = 5;
const WORKERS = 4;
/** Jobs per run of the job-worker comparison, and how long the loopback server takes to answer each. */
const IO_JOBS = 40;
const IO_WAIT_MS = 50;

function bpmn(id: string, body: string, messages: string[] = []): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true" camunda:versionTag="1.0">${body}</bpmn:process>
  ${messages.map((m) => `<bpmn:message id="M_${m}" name="${m}" />`).join('')}
</bpmn:definitions>`;
}

function serviceProcess(): string {
  let body = '<bpmn:startEvent id="s" />';
  let prev = 's';
  for (let i = 1; i <= SERVICE_STEPS; i++) {
    body += `<bpmn:serviceTask id="t${i}" camunda:class="bench.Step" /><bpmn:sequenceFlow id="f${i}" sourceRef="${prev}" targetRef="t${i}" />`;
    prev = `t${i}`;
  }
  return bpmn('bench_service', `${body}<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="fe" sourceRef="${prev}" targetRef="e" />`);
}

const MESSAGE_PROCESS = bpmn(
  'bench_message',
  `<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="M_answer" /></bpmn:intermediateCatchEvent>
   <bpmn:endEvent id="e" /><bpmn:sequenceFlow id="a" sourceRef="s" targetRef="c" /><bpmn:sequenceFlow id="b" sourceRef="c" targetRef="e" />`,
  ['answer'],
);

async function parallel(count: number, run: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < count) await run(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Repeats a measurement until it took at least minSeconds (bounded), returning operations per second. */
async function rate(minSeconds: number, batch: number, run: (i: number) => Promise<unknown>): Promise<number> {
  let ops = 0;
  let seconds = 0;
  for (let round = 0; round < 20 && seconds < minSeconds; round++) {
    seconds += await parallel(batch, (i) => run(ops + i));
    ops += batch;
  }
  return ops / seconds;
}

async function transaction(pool: pg.Pool, statements: Array<[string, unknown[]]>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const [sql, params] of statements) await client.query(sql, params);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

export async function run(log: (line: string) => void = console.log): Promise<Record<string, number | string>> {
  const server = process.env.DSF_BENCH_DATABASE_URL;
  if (!server) throw new Error('DSF_BENCH_DATABASE_URL is not set');
  const dbName = `dsf_bench_engine_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(server, dbName);
  await ensureDatabase(url);
  const pool = createPool(url, WORKERS + 2);
  const results: Record<string, number | string> = {};
  try {
    const step: DelegateFactory = () => ({ execute: async (e) => e.setVariable('n', Number(e.getVariable('n') ?? 0) + 1) });
    const engine = new ProcessEngine({ pool, delegates: new Map([['bench.Step', step]]) });
    await engine.migrate();
    await engine.deploy(serviceProcess());
    await engine.deploy(MESSAGE_PROCESS);
    await pool.query('CREATE TABLE bench_baseline (id TEXT PRIMARY KEY, step INT, data JSONB)');

    // Warm up parser cache, expression cache, connections.
    await parallel(20, () => engine.startProcessByKey('bench_service'));

    // 1. 5-step service-task process: one transaction per instance.
    const serviceRate = await rate(3, 100, () => engine.startProcessByKey('bench_service'));
    const serviceBaseline = await rate(3, 100, (i) =>
      transaction(
        pool,
        Array.from({ length: SERVICE_STEPS + 2 }, (_, s) => [
          'INSERT INTO bench_baseline (id, step, data) VALUES ($1, $2, $3)',
          [`svc-${i}-${s}-${randomBytes(3).toString('hex')}`, s, { n: s }],
        ]),
      ),
    );
    results.service_instances_per_second = Math.round(serviceRate);
    results.service_baseline_per_second = Math.round(serviceBaseline);
    results.service_ratio_to_baseline = Number((serviceRate / serviceBaseline).toFixed(3));
    log(`5-step service process: ${serviceRate.toFixed(0)}/s, baseline ${serviceBaseline.toFixed(0)}/s, ratio ${results.service_ratio_to_baseline}`);

    // 2. Message round trip: start and wait, then correlate by business key and end.
    const roundTrip = await rate(3, 100, async (i) => {
      const key = `rt-${i}-${randomBytes(3).toString('hex')}`;
      await engine.startProcessByKey('bench_message', { businessKey: key });
      await engine.correlateMessage('answer', { businessKey: key });
    });
    const roundTripBaseline = await rate(3, 100, async (i) => {
      const id = `mb-${i}-${randomBytes(3).toString('hex')}`;
      await transaction(pool, [['INSERT INTO bench_baseline (id, step, data) VALUES ($1, 0, $2)', [id, { waiting: true }]]]);
      const found = await pool.query('SELECT id FROM bench_baseline WHERE id = $1', [id]);
      await transaction(pool, [
        ['SELECT * FROM bench_baseline WHERE id = $1 FOR UPDATE', [found.rows[0].id]],
        ['UPDATE bench_baseline SET step = 1 WHERE id = $1', [id]],
      ]);
    });
    results.message_round_trips_per_second = Math.round(roundTrip);
    results.message_baseline_per_second = Math.round(roundTripBaseline);
    results.message_ratio_to_baseline = Number((roundTrip / roundTripBaseline).toFixed(3));
    log(`message round trip: ${roundTrip.toFixed(0)}/s, baseline ${roundTripBaseline.toFixed(0)}/s, ratio ${results.message_ratio_to_baseline}`);

    // 3. Jobs that wait on I/O (a GET to a loopback server answering after IO_WAIT_MS, as a remote FHIR
    // server that is slow): instances per second with one job worker and with four.
    const io = await ioJobRates(url);
    results.io_jobs_per_second_1_worker = Number(io.one.toFixed(1));
    results.io_jobs_per_second_4_workers = Number(io.four.toFixed(1));
    results.io_jobs_ratio_4_to_1_workers = Number((io.four / io.one).toFixed(2));
    log(`jobs waiting ${IO_WAIT_MS} ms on I/O: ${io.one.toFixed(1)}/s with 1 worker, ${io.four.toFixed(1)}/s with 4, ratio ${results.io_jobs_ratio_4_to_1_workers}`);

    // 4. Resident memory with 10,000 waiting instances (state lives in PostgreSQL, not in memory).
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const waitingSeconds = await parallel(10_000, (i) => engine.startProcessByKey('bench_message', { businessKey: `wait-${i}` }));
    (globalThis as { gc?: () => void }).gc?.();
    const rssAfter = process.memoryUsage().rss;
    results.waiting_instances = 10_000;
    results.waiting_start_seconds = Number(waitingSeconds.toFixed(2));
    results.rss_before_mb = Math.round(rssBefore / 2 ** 20);
    results.rss_with_waiting_mb = Math.round(rssAfter / 2 ** 20);
    results.rss_ratio_to_baseline = Number((rssAfter / rssBefore).toFixed(3));
    log(`10,000 waiting instances: rss ${results.rss_with_waiting_mb} MB vs ${results.rss_before_mb} MB before, ratio ${results.rss_ratio_to_baseline}`);
  } finally {
    await pool.end();
    const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  return results;
}

/** Instances per second whose one async job waits on a slow loopback server, with one worker and with four (same database, one after the other). */
async function ioJobRates(url: string): Promise<{ one: number; four: number }> {
  const server = createServer((_req, res) => void setTimeout(() => res.end('{}'), IO_WAIT_MS));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
  const pool = createPool(url, 8);
  const model = bpmn(
    'bench_io',
    `<bpmn:startEvent id="s" /><bpmn:serviceTask id="call" camunda:class="bench.Remote" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />
     <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="call" /><bpmn:sequenceFlow id="b" sourceRef="call" targetRef="e" />`,
  );
  const runWith = async (workers: number): Promise<number> => {
    let executed = 0;
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const engine = new ProcessEngine({
      pool,
      delegates: new Map<string, DelegateFactory>([['bench.Remote', () => ({ execute: get })]]),
      jobs: { workers, pollIntervalMs: 1_000, onJobExecuted: () => void (++executed === IO_JOBS && allDone()) },
    });
    await engine.deploy(model);
    for (let i = 0; i < IO_JOBS; i++) await engine.startProcessByKey('bench_io');
    const started = performance.now();
    engine.startJobExecutor();
    await done;
    const seconds = (performance.now() - started) / 1000;
    await engine.stopJobExecutor();
    return IO_JOBS / seconds;
  };
  try {
    await runWith(4); // warm-up
    return { one: await runWith(1), four: await runWith(4) };
  } finally {
    await pool.end();
    agent.destroy();
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
