// CPU per request log line: pino's own path (a child's bindings merged into the fields, as
// request-logger.ts did before) against the direct writer (request-line.ts), alternating rounds in one
// process, both writing to a stream that keeps only the byte count.
//   node --import ./bin/ts-loader.mjs bench/request-line-costs.ts [rounds] [lines per round]
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { directLineWriter } from '../src/fhir/rest/request-line.ts';
import { REQUEST_LINE_KEYS } from '../src/fhir/rest/request-log.ts';
import { cpuNanosPerCall } from './lib/cpu-rounds.ts';
import { spread } from './lib/rounds.ts';

const ROUNDS = Number(process.argv[2] ?? 10);
const LINES = Number(process.argv[3] ?? 200_000);
let bytes = 0;
const logger = pino({ level: 'info' }, { write: (s: string) => void (bytes += s.length) }) as unknown as FastifyBaseLogger;
const write = directLineWriter(logger, REQUEST_LINE_KEYS)!;
const bindings = { reqId: 'a1b2c3000001' };
const fieldsOf = (i: number) => ({ method: 'GET', route: '/fhir/:type/:id', type: 'Patient', status: 200, ms: (i % 97) / 10, caller: 'Bench_Org', trace: undefined });
const ways: [string, (i: number) => void][] = [
  ['pino', (i) => logger.info(Object.assign({}, bindings, fieldsOf(i)), 'request')],
  ['direct', (i) => write(bindings, fieldsOf(i), 'request')],
];
const ns = cpuNanosPerCall(ways, ROUNDS, LINES);
for (const [name, xs] of ns) {
  const s = spread(xs);
  console.log(`${name.padEnd(7)} ${s.median.toFixed(0)} ns per line (${s.min.toFixed(0)}–${s.max.toFixed(0)}), ${ROUNDS} rounds of ${LINES}`);
}
console.log(`(${bytes} bytes written)`);
