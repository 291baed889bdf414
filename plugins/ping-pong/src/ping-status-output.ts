// The ping-status / pong-status Task outputs: a Coding of the ping-status CodeSystem, and the
// extension-ping-status naming the target (correlation key, organisation, endpoint) and the error.
import type { Extension, TaskOutput } from '@medplum/fhirtypes';
import { ENDPOINT_IDENTIFIER_SID, ORGANIZATION_IDENTIFIER_SID, type Target } from '../../../src/plugin-api/index.ts';
import { PING_STATUS_EXTENSION, PING_STATUS_SYSTEM, PING_SYSTEM, PingCodes, PingStatusExtension, type PingStatusCode } from './constants.ts';

export function pingStatusOutput(target: Target, status: PingStatusCode, errorMessage?: string): TaskOutput {
  return statusOutput(PingCodes.pingStatus, target, status, errorMessage);
}

export function pongStatusOutput(target: Target, status: PingStatusCode, errorMessage?: string): TaskOutput {
  return statusOutput(PingCodes.pongStatus, target, status, errorMessage);
}

function statusOutput(code: string, target: Target, status: PingStatusCode, errorMessage: string | undefined): TaskOutput {
  const parts: Extension[] = [
    { url: PingStatusExtension.correlationKey, valueString: target.correlationKey },
    { url: PingStatusExtension.organizationIdentifier, valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value: target.organizationIdentifierValue } },
    { url: PingStatusExtension.endpointIdentifier, valueIdentifier: { system: ENDPOINT_IDENTIFIER_SID, value: target.endpointIdentifierValue } },
  ];
  if (errorMessage !== undefined) parts.push({ url: PingStatusExtension.errorMessage, valueString: errorMessage });
  return {
    extension: [{ url: PING_STATUS_EXTENSION, extension: parts }],
    type: { coding: [{ system: PING_SYSTEM, code }] },
    valueCoding: { system: PING_STATUS_SYSTEM, code: status },
  };
}
