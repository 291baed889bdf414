// The 26 resource types a DSF FHIR server serves (the reference's list), and their table-free names.
export const DSF_RESOURCE_TYPES = [
  'ActivityDefinition', 'Binary', 'Bundle', 'CodeSystem', 'DocumentReference', 'Endpoint', 'Group',
  'HealthcareService', 'Library', 'Location', 'Measure', 'MeasureReport', 'NamingSystem', 'Organization',
  'OrganizationAffiliation', 'Patient', 'Practitioner', 'PractitionerRole', 'Provenance', 'Questionnaire',
  'QuestionnaireResponse', 'ResearchStudy', 'StructureDefinition', 'Subscription', 'Task', 'ValueSet',
] as const;

export type DsfResourceType = (typeof DSF_RESOURCE_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(DSF_RESOURCE_TYPES);

export function isDsfResourceType(t: string): t is DsfResourceType {
  return TYPE_SET.has(t);
}

/**
 * The clinical types a site's local data repository serves on top of the DSF types (a FHIR server of
 * ours started with DSF_FHIR_DATA_REPOSITORY=true): the data research processes count and select.
 * They have no DSF default profile and are written and read by local identities only (read-access tags).
 */
export const DATA_REPOSITORY_RESOURCE_TYPES = ['Condition', 'Observation', 'Consent'] as const;

let servedTypes: readonly string[] = DSF_RESOURCE_TYPES;
let servedSet: ReadonlySet<string> = TYPE_SET;

/** Serves the data repository types in this process too (one FHIR server a process; tests that start several only add). */
export function serveDataRepositoryTypes(): void {
  if (servedSet.has(DATA_REPOSITORY_RESOURCE_TYPES[0])) return;
  servedTypes = [...DSF_RESOURCE_TYPES, ...DATA_REPOSITORY_RESOURCE_TYPES];
  servedSet = new Set(servedTypes);
}

/** The types this process's FHIR server serves: the DSF types, and the data repository's when enabled. */
export function servedResourceTypes(): readonly string[] {
  return servedTypes;
}

export function isServedResourceType(t: string): boolean {
  return servedSet.has(t);
}

/** 'OrganizationAffiliation' -> 'organization-affiliation' (the suffix of DSF's default profile URLs). */
export function kebabCase(type: string): string {
  return type.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}
