// The ping-pong processes' URLs, codes and variable names, as the reference plugin (v1.0.1.0) has them,
// so that our sites and Java DSF sites can ping each other.

export const PING_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/ping';
/** Codes of the ping CodeSystem: Task inputs and outputs. */
export const PingCodes = {
  pingStatus: 'ping-status',
  pongStatus: 'pong-status',
  endpointIdentifier: 'endpoint-identifier',
  targetEndpoints: 'target-endpoints',
  timerInterval: 'timer-interval',
} as const;

export const PING_STATUS_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/ping-status';
/** Codes of the ping-status CodeSystem: what happened with one target. */
export const PingStatus = {
  notAllowed: 'not-allowed',
  notReachable: 'not-reachable',
  pongMissing: 'pong-missing',
  pongReceived: 'pong-received',
  pongSend: 'pong-send',
} as const;
export type PingStatusCode = (typeof PingStatus)[keyof typeof PingStatus];

/** The extension on every ping-status / pong-status output, naming the target and, on failure, the error. */
export const PING_STATUS_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-ping-status';
export const PingStatusExtension = {
  correlationKey: 'correlation-key',
  organizationIdentifier: 'organization-identifier',
  endpointIdentifier: 'endpoint-identifier',
  errorMessage: 'error-message',
} as const;

/** Process variables of the ping processes (the BPMN refers to some of them by name). */
export const PingVariables = {
  /** Local to one target's sub-process instance: the send outcome, read by the BPMN's gateway. */
  statusCode: 'statusCode',
  errorMessage: 'errorMessage',
  /** Process level, one per target: statusCode_<correlationKey>, errorMessage_<correlationKey>. */
  statusCodeOf: (correlationKey: string) => `statusCode_${correlationKey}`,
  errorMessageOf: (correlationKey: string) => `errorMessage_${correlationKey}`,
  /** ISO 8601 duration between two pings of ping-autostart (the timer reads ${timerInterval}). */
  timerInterval: 'timerInterval',
} as const;

export const DEFAULT_TIMER_INTERVAL = 'PT24H';
