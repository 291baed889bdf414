// Canonical URLs and codes of DSF's data model that the server's rules read (see fhir/ and the reference's section 4).
export const ORGANIZATION_IDENTIFIER = 'http://dsf.dev/sid/organization-identifier';
export const PRACTITIONER_IDENTIFIER = 'http://dsf.dev/sid/practitioner-identifier';
export const ENDPOINT_IDENTIFIER = 'http://dsf.dev/sid/endpoint-identifier';
export const TASK_IDENTIFIER = 'http://dsf.dev/sid/task-identifier';

export const READ_ACCESS_TAG = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
export const EXT_READ_ACCESS_ORGANIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization';
export const EXT_READ_ACCESS_PARENT_ORGANIZATION_ROLE = 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-parent-organization-role';

export const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';

export const PROCESS_AUTHORIZATION = 'http://dsf.dev/fhir/CodeSystem/process-authorization';
export const EXT_PROCESS_AUTHORIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization';
export const EXT_PA_ORGANIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-organization';
export const EXT_PA_ORGANIZATION_PRACTITIONER = 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-organization-practitioner';
export const EXT_PA_PARENT_ORGANIZATION_ROLE = 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-parent-organization-role';
export const EXT_PA_PARENT_ORGANIZATION_ROLE_PRACTITIONER =
  'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-parent-organization-role-practitioner';
export const EXT_PA_PRACTITIONER = 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-practitioner';

export const EXT_QUESTIONNAIRE_AUTHORIZATION = 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization';

/** Where DSF's profiles live; a type's default profile is this plus the type in kebab case. */
export const DSF_PROFILE_BASE = 'http://dsf.dev/fhir/StructureDefinition/';
export const THUMBPRINT_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint';
