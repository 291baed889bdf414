// CPU per synchronous stage of a plain create (POST Patient, JSON), in one process on the bench's
// Patient: each stage alone over many iterations, stages in alternating order per round, and the whole
// chain of them as one stage ("all", a fresh parse each time). What the loaded server pays is two to
// three times these (docs/performance.md, fourteenth session); these say which walk costs what.
// With another checkout's directory as a second argument after the counts, the same stages of its code
// run in the same rounds (an A/B in one process; each side's modules are its own).
//
//   node --import ./bin/ts-loader.mjs bench/create-stages.ts [rounds] [iterations per round] [other checkout]
import type { Resource } from '@medplum/fhirtypes';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuNanosPerCall } from './lib/cpu-rounds.ts';
import { spread } from './lib/rounds.ts';

const ROUNDS = Number(process.argv[2] ?? 8);
const N = Number(process.argv[3] ?? 50_000);
const OTHER = process.argv[4];
const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const text = (i: number) => JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: 'http://bench/new', value: `n${i}` }], active: true });
const BASE = 'https://bench.example/fhir';
let sink = 0;

type Stage = [string, (i: number) => void];

/** The stages, with the modules of the checkout at `root`. */
async function stagesOf(root: string, prefix: string): Promise<Stage[]> {
  const load = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  const { parseFhirJson } = await load('src/fhir/model/json-parse.ts');
  const { WritePreparation } = await load('src/fhir/service/write-preparation.ts');
  const { ConformanceCache } = await load('src/fhir/conformance/conformance-cache.ts');
  const { loadCoreResources } = await load('src/fhir/conformance/core-resources.ts');
  const { extractReferences } = await load('src/fhir/references/reference-extractor.ts');
  const { cleanLiteralReferences } = await load('src/fhir/references/reference-cleaner.ts');
  const { computeIndexRows } = await load('src/fhir/search/index-rows.ts');
  const { behaviourOf, uniqueKeysOf } = await load('src/fhir/types/registry.ts');
  const { versionTime } = await load('src/fhir/store/version-time.ts');
  const conformance = new ConformanceCache();
  for (const r of loadCoreResources()) conformance.put(r);
  const preparation = new WritePreparation(conformance);
  const parsed = parseFhirJson(text(1));
  const prepared = preparation.prepare(parsed);
  // The store's version (writeVersion): its resource, then the JSON. Checkouts before versionResource built it inline.
  const versionResource: (input: Resource, id: string, version: number, lastUpdated: string) => Resource =
    (await load('src/fhir/store/version-resource.ts').catch(() => undefined))?.versionResource ??
    ((input, id, version, lastUpdated) => {
      const { resourceType, id: _ignored, meta, ...rest } = input as unknown as Record<string, unknown>;
      return { resourceType, id, meta: { ...((meta as object) ?? {}), versionId: String(version), lastUpdated }, ...rest } as Resource;
    });
  const version = (input: Resource, id: string): { ordered: Resource; json: string } => {
    const ordered = versionResource(input, id, 1, versionTime());
    return { ordered, json: JSON.stringify(ordered) };
  };
  const { ordered } = version(prepared, '0190b3c4-0000-7000-8000-000000000000');
  const contentProblems = behaviourOf('Patient').contentProblems;
  const stages: Stage[] = [
    ['parseFhirJson (parse + content check)', (i) => void (sink += parseFhirJson(text(i)) ? 1 : 0)],
    ['shape check', () => preparation.checkShape(parsed)],
    ['authorization contentProblems', () => void (sink += contentProblems?.(parsed, undefined).length ?? 0)],
    ['default profile + validation', () => void (sink += preparation.prepare(parsed) ? 1 : 0)],
    ['extractReferences', () => void (sink += extractReferences(prepared).length)],
    ['version: ordered copy + stringify', () => void (sink += version(prepared, 'x').json.length)],
    ['index rows', () => void (sink += computeIndexRows(ordered, BASE).length)],
    ['unique keys', () => void (sink += uniqueKeysOf(ordered).length)],
    ['cleanLiteralReferences', () => void (sink += cleanLiteralReferences(ordered) ? 1 : 0)],
    [
      'all (chained)',
      (i) => {
        const r = parseFhirJson(text(i));
        preparation.checkShape(r);
        contentProblems?.(r, undefined);
        const p = preparation.prepare(r);
        extractReferences(p);
        const v = version(p, 'x');
        computeIndexRows(v.ordered, BASE);
        uniqueKeysOf(v.ordered);
        sink += cleanLiteralReferences(v.ordered) ? v.json.length : 0;
      },
    ],
  ];
  return stages.map(([name, run]) => [`${prefix}${name}`, run]);
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const body = Buffer.from(text(1));
const stages: Stage[] = [
  ['decode body', () => void (sink += decoder.decode(body).length)],
  ['JSON.parse alone (with the text)', (i) => void (sink += (JSON.parse(text(i)) as object) ? 1 : 0)],
  // text(i) itself, to subtract from the stages that build a text
  ['(building the text)', (i) => void (sink += text(i).length)],
  ...(await stagesOf(resolve('.'), OTHER ? 'this: ' : '')),
  ...(OTHER ? await stagesOf(resolve(OTHER), 'other: ') : []),
];

const ns = cpuNanosPerCall(stages, ROUNDS, N);
for (const [name, xs] of ns) {
  const s = spread(xs);
  console.log(`${name.padEnd(42)} ${s.median.toFixed(0).padStart(6)} ns (${s.min.toFixed(0)}–${s.max.toFixed(0)})`);
}
console.log(`${ROUNDS} rounds of ${N}; (${sink})`);
if (OTHER) {
  console.log('this / other, per round:');
  for (const [name, xs] of ns) {
    if (!name.startsWith('this: ')) continue;
    const others = ns.get(`other: ${name.slice(6)}`)!;
    const ratios = xs.map((x, r) => x / others[r]!);
    const s = spread(ratios);
    console.log(`${name.slice(6).padEnd(42)} ${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)}), lower in ${ratios.filter((x) => x < 1).length} of ${ratios.length}`);
  }
}
