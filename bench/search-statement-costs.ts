// PostgreSQL's CPU per search for the coalesced page statement alone (the bench's
// `Organization?identifier=` at 16 clients: about six searches per statement), on one connection with
// the statement prepared as the server prepares it, in variants side by side: alternating rounds, backend
// CPU from /proc (so this runs on the database's host), µs per search. The variants show what each part
// of the statement costs: the total (a window count), the byte bound (per row since the twentieth session, a window over the page before), both.
//
// DSF_STATEMENT_SEARCH=name: the bench's name search instead; =many: a token search with 100 matches (below) (`Organization?name=Org%20NN`, one match
// each); =manycode: a token with system and code with 100 matches (the identifier batch form). DSF_STATEMENT_AB=<another checkout>: a variant more, the statement as served built by that
// checkout's search code (its coalescer, search and access modules, imported from there), so the same
// backend runs the old text and this checkout's in alternating rounds; their texts are printed too.
//
// DSF_STATEMENT_ORG_ID=1: the caller as the server sees a local one (with its Organization). DSF_STATEMENT_NO_ANALYZE=1: no statistics.
//
//   DSF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import ./bin/ts-loader.mjs bench/search-statement-costs.ts [rounds] [statements] [searches per statement]
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { migrate } from '../src/db/migrate.ts';
import { usePreparedStatementsOn } from '../src/db/prepared-statements.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../src/fhir/store/schema.ts';
import { ResourceStore } from '../src/fhir/store/resource-store.ts';
import { StatementCoalescer, type StatementRunner } from '../src/db/coalesced-statements.ts';
import { executeSearch, type SearchOptions } from '../src/fhir/store/search-query.ts';
import { parseSearchRequest } from '../src/fhir/search/search-request.ts';
import { readAccessTags, type AccessFilter } from '../src/fhir/store/access-condition.ts';
import { READ_ACCESS_TAG } from '../src/fhir/model/dsf-urls.ts';
import { join, resolve } from 'node:path';
import { processCpuMicros } from './lib/child.ts';
import { spread } from './lib/rounds.ts';

const serverUrl = process.env.DSF_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const [ROUNDS, STATEMENTS, PER] = [6, 400, 6].map((d, i) => Number(process.argv[2 + i] ?? d));
const BASE = 'https://localhost/fhir';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const GROUP_ID = 'http://bench/organization-group';
const name = `dsf_search_stmt_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
// DROP DATABASE ... WITH (FORCE) at the end ends connections the pool may still be closing.
pool.on('error', () => {});
// The connection the loop runs on, released however the run ends (else pool.end() waits for it for ever).
let looping: pg.PoolClient | undefined;
try {
  await migrate(pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(pool, 'fhir-events', EVENT_MIGRATIONS);
  const store = new ResourceStore(pool, BASE);
  for (let i = 0; i < 200; i++) await store.transaction((c) => store.create(c, { resourceType: 'Patient', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, identifier: [{ system: 'http://bench/pid', value: `p${i}` }], active: true } as Resource));
  // DSF_STATEMENT_SEARCH=manycode: every Organization also has one shared identifier (system and code: the batch form, 100 matches).
  const shared = process.env.DSF_STATEMENT_SEARCH === 'manycode' ? [{ system: GROUP_ID, value: 'all' }] : [];
  for (let i = 0; i < 100; i++) await store.transaction((c) => store.create(c, { resourceType: 'Organization', meta: { tag: [{ system: READ_ACCESS_TAG, code: 'ALL' }] }, identifier: [{ system: ORG_ID, value: `org-${i}` }, ...shared], active: true, name: `Org ${i}` } as Resource));
  // DSF_STATEMENT_NO_ANALYZE=1: without statistics, as a fresh bench database is until autovacuum gets to it.
  if (!process.env.DSF_STATEMENT_NO_ANALYZE) await pool.query('ANALYZE');
  type SearchCode = { StatementCoalescer: typeof StatementCoalescer; executeSearch: typeof executeSearch; parseSearchRequest: typeof parseSearchRequest; readAccessTags: typeof readAccessTags };
  const here: SearchCode = { StatementCoalescer, executeSearch, parseSearchRequest, readAccessTags };
  const codeOf = async (checkout: string): Promise<SearchCode> => {
    const from = (file: string) => import(join(resolve(checkout), file));
    return {
      StatementCoalescer: (await from('src/db/coalesced-statements.ts')).StatementCoalescer,
      executeSearch: (await from('src/fhir/store/search-query.ts')).executeSearch,
      parseSearchRequest: (await from('src/fhir/search/search-request.ts')).parseSearchRequest,
      readAccessTags: (await from('src/fhir/store/access-condition.ts')).readAccessTags,
    };
  };
  // DSF_STATEMENT_ORG_ID=1: the caller with its Organization's id, as the server's local callers are (their
  // ORGANIZATION tags need that Organization active: one more condition, with a subquery, in every search).
  const organizationId = process.env.DSF_STATEMENT_ORG_ID ? ((await pool.query(`SELECT id::text FROM resources WHERE type = 'Organization' LIMIT 1`)).rows[0].id as string) : undefined;
  const byName = process.env.DSF_STATEMENT_SEARCH === 'name';
  // DSF_STATEMENT_SEARCH=many: a token search with many matches (every Organization's identifier system, in
  // every other search of a batch; the others a system nothing has), pages of 20 out of 100.
  const many = process.env.DSF_STATEMENT_SEARCH === 'many';
  // =manycode: the same with system and code (the identifier batch form): every other search matches all 100.
  const manyCode = process.env.DSF_STATEMENT_SEARCH === 'manycode';
  const query = (i: number): [string, string][] =>
    byName ? [['name', `Org ${10 + (i % 90)}`]] : many ? [['identifier', i % 2 ? `${ORG_ID}|` : `http://none/${i}|`]] : manyCode ? [['identifier', `${GROUP_ID}|${i % 2 ? 'all' : `none-${i}`}`]] : [['identifier', `${ORG_ID}|org-${i % 100}`]];
  // The batch statement of PER searches, as the coalescer sends it, for each variant.
  const batchOf = async (opts: SearchOptions, first: number, code: SearchCode = here): Promise<{ text: string; values: unknown[] }> => {
    let sent: { text: string; values: unknown[] } | undefined;
    const access: AccessFilter = () => code.readAccessTags({ local: true, organizationIdentifier: 'bench.org', ...(organizationId ? { organizationId } : {}) });
    const recording: StatementRunner = { query: async (text, values) => ((sent ??= { text, values }), pool.query(text, values)) };
    const view = new code.StatementCoalescer().view(recording, access);
    await Promise.all(Array.from({ length: PER }, (_, k) => code.executeSearch(view, code.parseSearchRequest('Organization', query(first + k), { strict: true, defaultCount: 20 }), BASE, access, { ...opts, asText: true } as SearchOptions & { asText: true })));
    return sent!;
  };
  const served: SearchOptions = { maxPageBytes: 16 * 1024 * 1024 };
  // Several checkouts, comma-separated: @B, @B2, ... in that order.
  const others = process.env.DSF_STATEMENT_AB?.split(',').filter(Boolean) ?? [];
  const other = others[0];
  const theirs: [string, SearchOptions, SearchCode][] = [];
  for (const [k, checkout] of others.entries()) theirs.push([`as served by @B${k ? k + 1 : ''}`, served, await codeOf(checkout)]);
  const variants: [string, SearchOptions, SearchCode?][] = [
    ['as served (total, bound)', served],
    ...theirs,
    ['without total', { maxPageBytes: 16 * 1024 * 1024, total: false }],
    ['without bound', {}],
    ['without both', { total: false }],
  ];
  const client = (looping = await pool.connect());
  usePreparedStatementsOn(client);
  const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  const batches = new Map<string, { text: string; values: unknown[] }[]>();
  for (const [v, opts, code] of variants) batches.set(v, await Promise.all(Array.from({ length: 10 }, (_, k) => batchOf(opts, k * PER, code))));
  // DSF_STATEMENT_WRAPPER=1: the served batch with the coalescer's wrapper changed, to price its parts: without
  // the rows' numbering and the final sort (rows in the nested loop's order, the LATERAL fenced by OFFSET 0).
  if (process.env.DSF_STATEMENT_WRAPPER) {
    const served0 = batches.get(variants[0]![0])!;
    const unordered = (t: string) => t.replace('(SELECT x.*, row_number() OVER () AS batch_row FROM (', '(SELECT x.* FROM (').replace(/\n  \) x\) b/, '\n  ) x OFFSET 0) b').replace(' ORDER BY q.batch_k, b.batch_row', '');
    const changed = served0.map((b) => ({ text: unordered(b.text), values: b.values }));
    if (changed[0]!.text === served0[0]!.text) throw new Error('wrapper variant: text unchanged');
    variants.push(['wrapper unordered', served]);
    batches.set('wrapper unordered', changed);
  }
  // DSF_STATEMENT_REWRITE=<module>: a variant more for each of the module's exports (name => function of the
  // served batch's text), checked to give the same rows: to price a change of the text before making it.
  if (process.env.DSF_STATEMENT_REWRITE) {
    const served0 = batches.get(variants[0]![0])!;
    for (const [v, rewrite] of Object.entries((await import(resolve(process.env.DSF_STATEMENT_REWRITE))) as Record<string, (text: string) => string>)) {
      const changed = served0.map((b) => ({ text: rewrite(b.text), values: b.values }));
      if (changed[0]!.text === served0[0]!.text) throw new Error(`${v}: text unchanged`);
      for (const [k, b] of served0.entries()) {
        const [x, y] = [(await pool.query(b.text, b.values)).rows, (await pool.query(changed[k]!.text, b.values)).rows];
        // DSF_STATEMENT_REWRITE_UNCHECKED=1: only as many rows (to price a column left out, which the served code still needs).
        if (process.env.DSF_STATEMENT_REWRITE_UNCHECKED ? x.length !== y.length : JSON.stringify(x) !== JSON.stringify(y)) throw new Error(`${v}: other rows`);
      }
      console.log(`${v}:\n${changed[0]!.text}\n`);
      variants.push([v, served]);
      batches.set(v, changed);
    }
  }
  if (other) {
    const [a, b] = [batches.get(variants[0]![0])![0]!, batches.get(variants[1]![0])![0]!];
    console.log(`statement here${a.text === b.text ? ' (the same text as @B)' : ''}:\n${a.text}\n`);
    if (a.text !== b.text) console.log(`statement @B:\n${b.text}\n`);
    console.log(`values here ${JSON.stringify(a.values)}\nvalues @B   ${JSON.stringify(b.values)}\n`);
  }
  const figures = new Map<string, number[]>(variants.map(([v]) => [v, []]));
  for (const [v] of variants) for (const b of batches.get(v)!.slice(0, 2)) for (let k = 0; k < 10; k++) await client.query(b.text, b.values); // warm-up, generic plan
  for (let round = 0; round < ROUNDS; round++) {
    for (const [v] of round % 2 ? [...variants].reverse() : variants) {
      const bs = batches.get(v)!;
      const c0 = processCpuMicros(pid);
      for (let s = 0; s < STATEMENTS; s++) await client.query(bs[s % bs.length]!.text, bs[s % bs.length]!.values);
      figures.get(v)!.push((processCpuMicros(pid) - c0) / (STATEMENTS * PER));
    }
  }
  const first = figures.get(variants[0]![0])!;
  console.log(`${ROUNDS} rounds of ${STATEMENTS} statements of ${PER} searches; backend CPU µs per search, median (range), ratio to the first per round`);
  for (const [v, xs] of figures) {
    const s = spread(xs);
    const r = spread(xs.map((x, k) => x / first[k]!));
    console.log(`${v.padEnd(26)} ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})  ratio ${r.median.toFixed(3)}; rounds ${xs.map((x, k) => (x / first[k]!).toFixed(2)).join(' ')}`);
  }
  // DSF_STATEMENT_PLANS=1: each variant's generic plan as run (EXPLAIN ANALYZE of the SQL-prepared text, counts, no timing).
  if (process.env.DSF_STATEMENT_PLANS) {
    await client.query('SET plan_cache_mode = force_generic_plan');
    const literal = (v: unknown) => (Array.isArray(v) ? client.escapeLiteral(`{${v.map((x) => JSON.stringify(String(x))).join(',')}}`) : typeof v === 'number' ? String(v) : client.escapeLiteral(String(v)));
    for (const [v] of variants) {
      const b = batches.get(v)![0]!;
      await client.query(`PREPARE plan_probe AS ${b.text}`);
      const plan = await client.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE plan_probe(${b.values.map(literal).join(', ')})`);
      console.log(`${v}:\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
      await client.query('DEALLOCATE plan_probe');
    }
    await client.query('RESET plan_cache_mode');
  }
  const plans = await client.query(`SELECT generic_plans, custom_plans, left(statement, 60) AS s FROM pg_prepared_statements`);
  console.log(plans.rows.map((r) => `${r.generic_plans} generic / ${r.custom_plans} custom`).join('; '));
} finally {
  looping?.release();
  await pool.end();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}
