// Targets of message activities: which organisation, at which endpoint, with which correlation key.
// Plain data, so they live in process variables as JSON and BPMN can iterate `${targets.entries}`.

export interface Target {
  readonly organizationIdentifierValue: string;
  readonly endpointIdentifierValue: string;
  /** Base URL of the target's FHIR server. */
  readonly endpointUrl: string;
  /** Set when several Tasks of one process instance go to the same business key (multi-instance sends). */
  readonly correlationKey?: string;
}

export interface Targets {
  readonly entries: readonly Target[];
}

export function createTarget(organizationIdentifierValue: string, endpointIdentifierValue: string, endpointUrl: string, correlationKey?: string): Target {
  if (!organizationIdentifierValue || !endpointIdentifierValue || !endpointUrl) {
    throw new TypeError('a target needs an organization identifier, an endpoint identifier and an endpoint URL');
  }
  return correlationKey === undefined
    ? { organizationIdentifierValue, endpointIdentifierValue, endpointUrl }
    : { organizationIdentifierValue, endpointIdentifierValue, endpointUrl, correlationKey };
}

export function createTargets(entries: readonly Target[]): Targets {
  return { entries: [...entries] };
}

/** The targets without those at the given endpoint (what the default send error handler does). */
export function removeByEndpointIdentifierValue(targets: Targets, endpoint: Target | string): Targets {
  const value = typeof endpoint === 'string' ? endpoint : endpoint.endpointIdentifierValue;
  return { entries: targets.entries.filter((t) => t.endpointIdentifierValue !== value) };
}
