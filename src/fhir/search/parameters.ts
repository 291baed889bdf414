// The search parameters a DSF FHIR server serves per resource type (the reference's list), with the
// FHIRPath expression and type of each, taken from the R4 SearchParameter definitions where R4 has
// them. Adding a parameter is a line in SUPPORTED (or CUSTOM when R4 lacks it) and a test.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { baseSearchParameters } from '../model/definitions.ts';
import { servedResourceTypes, type DsfResourceType } from '../model/resource-types.ts';
import { elementInfoForPath } from '../model/type-model.ts';
import { plainPathEvaluator } from './plain-path.ts';
import { BPMN_MESSAGE_SYSTEM } from '../../common/trace.ts';

export type SearchParamType = 'token' | 'string' | 'uri' | 'reference' | 'date' | 'number' | 'quantity';

export interface SearchParamDef {
  code: string;
  resourceType: string;
  type: SearchParamType;
  expression: string;
  /** Resource types a reference parameter can point to. */
  targets: string[];
  /** A reference parameter whose values include canonicals (url|version), matched by url and version, not by id. */
  canonical: boolean;
  evaluate(resource: unknown): unknown[];
}

const METADATA = ['date', 'identifier', 'name', 'status', 'url', 'version'];

export const SUPPORTED: Readonly<Record<DsfResourceType, readonly string[]>> = {
  ActivityDefinition: METADATA,
  Binary: ['contentType'],
  Bundle: ['identifier'],
  CodeSystem: METADATA,
  DocumentReference: ['identifier'],
  Endpoint: ['address', 'identifier', 'name', 'organization', 'status'],
  Group: ['identifier'],
  HealthcareService: ['active', 'identifier', 'name'],
  Library: METADATA,
  Location: ['identifier', 'name'],
  Measure: [...METADATA, 'depends-on'],
  MeasureReport: ['identifier'],
  NamingSystem: ['date', 'name', 'status'],
  Organization: ['active', 'endpoint', 'identifier', 'name', 'type'],
  OrganizationAffiliation: ['active', 'endpoint', 'identifier', 'participating-organization', 'primary-organization', 'role'],
  Patient: ['active', 'identifier'],
  Practitioner: ['active', 'identifier'],
  PractitionerRole: ['active', 'identifier', 'organization', 'practitioner'],
  Provenance: [],
  Questionnaire: METADATA,
  QuestionnaireResponse: ['author', 'authored', 'identifier', 'questionnaire', 'status', 'subject'],
  ResearchStudy: ['enrollment', 'identifier', 'principalinvestigator'],
  StructureDefinition: METADATA,
  Subscription: ['criteria', 'payload', 'status', 'type'],
  Task: ['authored-on', 'business-key', 'identifier', 'modified', 'requester', 'status'],
  ValueSet: METADATA,
};

/**
 * What a local data repository (DSF_FHIR_DATA_REPOSITORY) serves besides SUPPORTED: the clinical types'
 * parameters a research query uses, and the demographic ones of Patient.
 */
export const DATA_REPOSITORY_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  Patient: ['birthdate', 'gender', 'address-postalcode', 'family', 'given'],
  Condition: ['identifier', 'code', 'subject', 'clinical-status', 'onset-date', 'recorded-date'],
  Observation: ['identifier', 'code', 'subject', 'value-quantity', 'date', 'status', 'category'],
  Consent: ['identifier', 'patient', 'status', 'scope', 'category', 'date'],
};

/** The parameters of every served type. */
function servedParameters(): [string, readonly string[]][] {
  const repository = servedResourceTypes().length > Object.keys(SUPPORTED).length;
  return servedResourceTypes().map((type) => [
    type,
    [...((SUPPORTED as Record<string, readonly string[]>)[type] ?? []), ...(repository ? (DATA_REPOSITORY_PARAMETERS[type] ?? []) : [])],
  ]);
}

/** Parameters R4 does not define (or defines differently) that DSF serves. */
const CUSTOM: Record<string, { type: SearchParamType; expression: string; targets?: string[] }> = {
  'Endpoint.address': { type: 'uri', expression: 'Endpoint.address' },
  'Binary.contentType': { type: 'token', expression: 'Binary.contentType' },
  'ResearchStudy.enrollment': { type: 'reference', expression: 'ResearchStudy.enrollment', targets: ['Group'] },
  'Measure.depends-on': { type: 'reference', expression: "Measure.relatedArtifact.where(type='depends-on').resource | Measure.library", targets: ['Library'] },
  // Not the reference's: the Tasks of one process instance, for following a request (`dsf task show`).
  // FHIR_MIGRATIONS version 7 indexed the Tasks stored before; a change here needs such a migration too.
  'Task.business-key': { type: 'token', expression: `Task.input.where(type.coding.where(system = '${BPMN_MESSAGE_SYSTEM}' and code = 'business-key').exists()).value` },
};

/** Parameters every type has; _id and _lastUpdated are answered from the resources table itself. */
const COMMON: Record<string, { type: SearchParamType; expression: string }> = {
  _profile: { type: 'uri', expression: 'meta.profile' },
  _tag: { type: 'token', expression: 'meta.tag' },
  _security: { type: 'token', expression: 'meta.security' },
};

/** FHIRPath, compiled once; a plain element path is read from the JSON directly where that gives FHIRPath's values. */
function compile(expression: string): (resource: unknown) => unknown[] {
  const fn = fhirpath.compile(expression, r4 as never);
  const viaFhirpath = (resource: unknown) => fn(resource as never) as unknown[];
  const plain = plainPathEvaluator(expression);
  if (!plain) return viaFhirpath;
  return (resource) => plain(resource) ?? viaFhirpath(resource);
}

/** The expression evaluated by FHIRPath alone (the reference the plain path reading is tested against). */
export function evaluateWithFhirpath(expression: string, resource: unknown): unknown[] {
  return fhirpath.evaluate(resource as never, expression, undefined, r4 as never) as unknown[];
}

/** Whether some plain path of the expression ("A.x | B.y.z") names a canonical element. */
function hasCanonicalPath(expression: string): boolean {
  return expression
    .split('|')
    .map((p) => p.trim())
    .some((p) => /^[A-Za-z]+(\.[A-Za-z]+)+$/.test(p) && elementInfoForPath(p)?.type === 'canonical');
}

/** The parts of a shared R4 expression ("A.x | B.y") that belong to one type. */
function partsFor(expression: string, type: string): string {
  const parts = expression.split('|').map((p) => p.trim());
  const own = parts.filter((p) => p.startsWith(`${type}.`) || p.startsWith(`(${type}.`));
  return (own.length ? own : parts).join(' | ');
}

let registry: Map<string, Map<string, SearchParamDef>> | undefined;
/** The served types the registry was built for (the data repository types may be added at start). */
let registryFor: readonly string[] | undefined;

function build(): Map<string, Map<string, SearchParamDef>> {
  const byKey = new Map<string, { type: SearchParamType; expression: string; targets: string[] }>();
  for (const sp of baseSearchParameters()) {
    if (!sp.expression || !sp.base) continue;
    for (const base of sp.base) {
      byKey.set(`${base}.${sp.code}`, { type: sp.type as SearchParamType, expression: partsFor(sp.expression, base), targets: sp.target ?? [] });
    }
  }
  const out = new Map<string, Map<string, SearchParamDef>>();
  for (const [type, codes] of servedParameters()) {
    const defs = new Map<string, SearchParamDef>();
    const add = (code: string, d: { type: SearchParamType; expression: string; targets?: string[] }) => {
      const canonical = d.type === 'reference' && hasCanonicalPath(d.expression);
      defs.set(code, { code, resourceType: type, type: d.type, expression: d.expression, targets: d.targets ?? [], canonical, evaluate: compile(d.expression) });
    };
    for (const [code, d] of Object.entries(COMMON)) add(code, d);
    for (const code of codes) {
      const d = CUSTOM[`${type}.${code}`] ?? byKey.get(`${type}.${code}`);
      if (!d) throw new Error(`No definition for search parameter ${type}.${code}`);
      add(code, d);
    }
    out.set(type, defs);
  }
  return out;
}

export function searchParameters(resourceType: string): Map<string, SearchParamDef> {
  if (!registry || registryFor !== servedResourceTypes()) {
    registryFor = servedResourceTypes();
    registry = build();
  }
  return registry.get(resourceType) ?? new Map();
}

export function searchParameter(resourceType: string, code: string): SearchParamDef | undefined {
  return searchParameters(resourceType).get(code);
}
