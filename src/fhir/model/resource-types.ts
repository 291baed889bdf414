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

/** 'OrganizationAffiliation' -> 'organization-affiliation' (the suffix of DSF's default profile URLs). */
export function kebabCase(type: string): string {
  return type.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}
