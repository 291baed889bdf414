// Optional mails when a ping or pong fails (the reference's dev.dsf.dsf.bpe.ping.mail.onPingProcessFailed
// and ...onPongProcessFailed, off by default). The BPMN passes the setting as a camunda:field.
import type { Task } from '@medplum/fhirtypes';
import type { ProcessPluginApi, Target } from '../../../src/plugin-api/index.ts';

export const PING_FAILED_SUBJECT = 'Ping Process Failed';
export const PONG_FAILED_SUBJECT = 'Pong Process Failed';

/** A camunda:field that holds 'true' or 'false' (placeholder default false). */
export function isEnabled(field: unknown): boolean {
  return String(field ?? '').trim().toLowerCase() === 'true';
}

export async function sendFailureMail(api: ProcessPluginApi, subject: string, target: Target, what: string, details: string | undefined, startTask: Task | undefined): Promise<void> {
  const localOrganization = (await api.organizationProvider.getLocalOrganizationIdentifierValue()) ?? '?';
  const localEndpoint = (await api.endpointProvider.getLocalEndpointIdentifierValue()) ?? '?';
  const lines = [`${localOrganization}/${localEndpoint} -> ${target.organizationIdentifierValue}/${target.endpointIdentifierValue}: ${what}`];
  if (details) lines.push(`\t${details}`);
  lines.push('', `Process started by: ${api.taskHelper.getLocalVersionlessAbsoluteUrl(startTask) ?? '?'}`);
  try {
    await api.mailService.send(subject, lines.join('\n'));
  } catch (e) {
    // A mail that cannot be sent must not change the ping's outcome.
    api.logger.warn(`Unable to send mail '${subject}': ${(e as Error).message}`);
  }
}
