// Canonical URLs, code systems and variable names of the DSF process API (the reference's
// CodeSystems, NamingSystems and BpmnExecutionVariables constants).

export const BPMN_MESSAGE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
/** Codes of the bpmn-message CodeSystem: Task inputs and the error output. */
export const BpmnMessage = {
  system: BPMN_MESSAGE_SYSTEM,
  messageName: 'message-name',
  businessKey: 'business-key',
  correlationKey: 'correlation-key',
  error: 'error',
} as const;

export const BPMN_USER_TASK_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/bpmn-user-task';
/** linkIds of the QuestionnaireResponse items that tie a response to its user task. */
export const BpmnUserTask = {
  system: BPMN_USER_TASK_SYSTEM,
  businessKey: 'business-key',
  userTaskId: 'user-task-id',
} as const;

export const ORGANIZATION_IDENTIFIER_SID = 'http://dsf.dev/sid/organization-identifier';
export const ENDPOINT_IDENTIFIER_SID = 'http://dsf.dev/sid/endpoint-identifier';
export const PRACTITIONER_IDENTIFIER_SID = 'http://dsf.dev/sid/practitioner-identifier';
export const TASK_IDENTIFIER_SID = 'http://dsf.dev/sid/task-identifier';

export const READ_ACCESS_TAG_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
export const READ_ACCESS_ORGANIZATION_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-organization';
export const READ_ACCESS_ROLE_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-read-access-parent-organization-role';
export const ORGANIZATION_ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/organization-role';
export const PRACTITIONER_ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';
export const QUESTIONNAIRE_AUTHORIZATION_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-questionnaire-authorization';

export const PROFILE_QUESTIONNAIRE_RESPONSE = 'http://dsf.dev/fhir/StructureDefinition/questionnaire-response';

/** Names of process variables with a meaning to the BPE (BPMN expressions may use them). */
export const BpmnExecutionVariables = {
  /** Local variable matched against the correlation-key input of an incoming Task. */
  correlationKey: 'correlationKey',
  /** Set by the ALTERNATIVE business-key strategy; incoming Tasks with this business key correlate too. */
  alternativeBusinessKey: 'alternativeBusinessKey',
  /** The Target of a message activity (the element variable of a multi-instance over `targets.entries`). */
  target: 'target',
  /** Targets of a multi-instance send (`${targets.entries}`). */
  targets: 'targets',
} as const;

/** instantiatesCanonical of a DSF process: http(s)://domain/bpe/Process/name|a.b */
export const INSTANTIATES_CANONICAL_PATTERN =
  /^(?<processUrl>https?:\/\/(?<domain>(?:(?:[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])\.)+(?:[a-zA-Z0-9]{1,63}))\/bpe\/Process\/(?<processName>[a-zA-Z0-9-]+))\|(?<processVersion>\d+\.\d+)$/;
/** ActivityDefinition.url of a DSF process: http(s)://domain/bpe/Process/name */
export const ACTIVITY_DEFINITION_URL_PATTERN =
  /^(?<processUrl>https?:\/\/(?<domain>(?:(?:[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])\.)+(?:[a-zA-Z0-9]{1,63}))\/bpe\/Process\/(?<processName>[a-zA-Z0-9-]+))$/;
/** BPMN process id: domainWithoutDots_name */
export const PROCESS_ID_PATTERN = /^(?<domainNoDots>[a-zA-Z0-9-]+)_(?<processName>[a-zA-Z0-9-]+)$/;

/** The BPMN process id a process URL maps to: http://dsf.dev/bpe/Process/ping -> dsfdev_ping. */
export function processIdOf(domain: string, processName: string): string {
  return `${domain.replaceAll('.', '')}_${processName}`;
}
