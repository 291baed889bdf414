// CPU per identifier search of the server's own JavaScript, stage by stage, in one process without a
// database or HTTP: the query string parsed, the search request parsed (anew, and as the service does:
// through its memo of requests, where the checkout has one; the searches below take those requests),
// the statement texts built
// (executeSearch over a runner that answers at once), six searches of one turn through the coalescer,
// and the searchset's JSON; and a read's compaction of its stored text with the reference-cleaning watch
// (as FhirService.readJson). CPU time (process.cpuUsage) per search over many iterations after a warm-up.
// With DSF_PATH_AB=<another checkout> the same stages of that checkout's modules run in the same process,
// in alternating rounds, with each round's ratio here / there (an in-run A/B).
//
//   node --import ./bin/ts-loader.mjs bench/search-path-costs.ts [iterations per round] [rounds]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spread } from './lib/rounds.ts';

const N = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 6);
const BASE = 'https://localhost:8001/fhir';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const opts = { strict: false, defaultCount: 20, maxParameters: 64, maxValues: 64 };
const idOf = (i: number) => `0c7a3f5e-4d7b-4a7e-9b7c-${String(i).padStart(12, '0')}`;
const resourceText = (i: number) =>
  `{"id": "${idOf(i)}", "meta": {"tag": [{"code": "ALL", "system": "http://dsf.dev/fhir/CodeSystem/read-access-tag"}], "profile": ["http://dsf.dev/fhir/StructureDefinition/organization-parent"], "versionId": "1", "lastUpdated": "2026-12-06T23:44:30.123+00:00"}, "name": "Org ${i}", "active": true, "identifier": [{"value": "org-${i}", "system": "${ORG_ID}"}], "resourceType": "Organization"}`;
const row = (i: number) => ({ resource: resourceText(i), rtype: 'Organization', rid: idOf(i), size: 400, total: 1, kept: true });
const queryString = (i: number) => `identifier=${ORG_ID}|org-${i % 100}`;

type Stage = [name: string, run: (i: number) => unknown];

/** The stages over one checkout's modules. */
async function stagesOf(root: string): Promise<Stage[]> {
  const load = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  const { parseQueryString, queryPairs } = await load('src/fhir/rest/routes.ts');
  const { parseSearchRequest } = await load('src/fhir/search/search-request.ts');
  // As the service parses a search (FhirService.runSearch): through the memo of requests where the checkout has one.
  const memoModule = await load('src/fhir/search/search-request-memo.ts').catch(() => undefined);
  const memo = memoModule && new memoModule.SearchRequestMemo({ defaultCount: opts.defaultCount, maxParameters: opts.maxParameters, maxValues: opts.maxValues });
  const parse = (query: [string, string][]) => (memo ? memo.parse('Organization', query, opts.strict) : parseSearchRequest('Organization', query, opts));
  const { executeSearch } = await load('src/fhir/store/search-query.ts');
  const { StatementCoalescer } = await load('src/db/coalesced-statements.ts');
  const { searchsetJson } = await load('src/fhir/service/result-bundles.ts');
  const { readAccessTags } = await load('src/fhir/store/access-condition.ts');
  (await load('src/fhir/model/definitions-cache.ts')).loadCoreDefinitions();
  const access = () => readAccessTags({ local: true, organizationIdentifier: 'bench.org' });
  const queryOf = (i: number) => queryPairs({ url: `/Organization?${queryString(i)}`, query: parseQueryString(queryString(i)) });
  const reqs = Array.from({ length: 100 }, (_, i) => parse(queryOf(i)));
  const one = { query: async (_t: string, values: unknown[]) => ({ rows: [row(Number(String(values.find((v) => typeof v === 'string' && v.startsWith('org-'))).slice(4)))] }) };
  const searchOpts = { asText: true, maxPageBytes: 16 * 1024 * 1024 };
  const coalescer = new StatementCoalescer();
  const batchDb = { query: async (_t: string, values: unknown[]) => ({ rows: ((values.find(Array.isArray) as string[] | undefined) ?? []).map((_v, k) => ({ batch_k: k + 1, batch_row: 1, ...row(k) })) }) };
  const results = await Promise.all(reqs.map((r) => executeSearch(one, r, BASE, access, searchOpts)));
  // A read's compaction as FhirService.readJson does it: the stored text with the reference-cleaning watch
  // (handed the watch itself where the checkout's watch takes keys by place, else its `key` function).
  const { compactJsonbText } = await load('src/fhir/store/jsonb-text.ts');
  const { ReferenceCleaningWatch } = await load('src/fhir/references/reference-cleaner.ts');
  const byPlace = typeof ReferenceCleaningWatch.prototype.keyAt === 'function';
  const texts = Array.from({ length: 100 }, (_, i) => resourceText(i));
  const readCompaction = (text: string) => {
    const cleaning = new ReferenceCleaningWatch();
    const json = compactJsonbText(text, byPlace ? cleaning : cleaning.key);
    return json !== undefined && !cleaning.mayChange ? json : undefined;
  };
  return [
    ['query string -> pairs', (i) => queryOf(i)],
    ['parseSearchRequest', (i) => parseSearchRequest('Organization', queryOf(i % 100 + 1000), opts)],
    ['search request as served (memo)', (i) => parse(queryOf(i % 100))],
    ['executeSearch alone (no db)', (i) => executeSearch(one, reqs[i % 100], BASE, access, searchOpts)],
    ['executeSearch, 6 per turn coalesced', (i) => (i % 6 ? undefined : Promise.all(Array.from({ length: 6 }, (_, k) => executeSearch(coalescer.view(batchDb, access), reqs[(i + k) % 100], BASE, access, searchOpts))))],
    ['searchsetJson', (i) => searchsetJson(BASE, reqs[i % 100], results[i % 100])],
    ["a read's compaction (readJson)", (i) => readCompaction(texts[i % 100]!)],
  ];
}

async function cpuPerCall(run: (i: number) => unknown, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = run(i);
    if (r instanceof Promise) await r;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const sides: [string, Stage[]][] = [['here', await stagesOf('.')]];
if (process.env.DSF_PATH_AB) sides.push(['there', await stagesOf(process.env.DSF_PATH_AB)]);
for (const [, stages] of sides) for (const [, run] of stages) await cpuPerCall(run, 20_000); // warm-up
const figures = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [side, stages] of round % 2 ? [...sides].reverse() : sides) {
    for (const [name, run] of stages) {
      const key = `${name}|${side}`;
      figures.set(key, [...(figures.get(key) ?? []), await cpuPerCall(run, N)]);
    }
  }
}
console.log(`${ROUNDS} rounds of ${N} calls; CPU µs per search, median (range)`);
for (const [name] of sides[0]![1]) {
  const line = sides.map(([side]) => {
    const s = spread(figures.get(`${name}|${side}`)!);
    return `${side} ${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  });
  if (sides.length === 2) {
    const here = figures.get(`${name}|here`)!;
    const ratios = here.map((x, k) => x / figures.get(`${name}|there`)![k]!);
    line.push(`here/there ${spread(ratios).median.toFixed(3)}, lower in ${ratios.filter((r) => r < 1).length} of ${ratios.length}`);
  }
  console.log(`${name.padEnd(36)} ${line.join('   ')}`);
}
