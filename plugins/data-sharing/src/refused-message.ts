// The TTP and the DMS wait for one message per DIC. A message with that DIC's correlation key that they
// cannot take (sent by another organisation, or a research platform's "not reachable" notice carrying
// data) is refused on its own: its Task ends failed with a fixed reason and the DIC's instance waits on,
// until the genuine message or the deadline set when the waiting began. Throwing instead would stop the
// whole run: anyone holding a correlation key could end it.
import type { Task } from '@medplum/fhirtypes';
import { BpmnMessage, errorMessageOf, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';

/** Boolean, local to a DIC's instance: the message just received was refused (the BPMN waits again). */
export const MESSAGE_REFUSED = 'messageRefused';
/** ISO date-time, local to a DIC's instance: when its timer fires (the BPMN's timeDate). */
export const WAIT_UNTIL = 'waitUntil';
const waitUntilOf = (correlationKey: string) => `waitUntil_${correlationKey}`;

/** The fixed reasons a refused message's Task carries (nothing of its content). */
export const RefusalReasons = {
  wrongSender: 'refused: not sent by the organisation this message is for',
  noticeWithData: 'refused: a notice that a site is not reachable must carry no data',
} as const;

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO 8601 duration of days, hours, minutes and seconds (PT2H, P1DT30M, PT0.5S). */
export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) throw new Error(`not a duration of days, hours, minutes, seconds: ${text}`);
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0));
  return (((d! * 24 + h!) * 60 + min!) * 60 + s!) * 1000;
}

/**
 * When a DIC's instance starts waiting: its deadline is fixed the first time (now + timeout) and kept
 * when it waits again after a refused message, so refused messages cannot prolong the run.
 */
export function setWaitDeadline(variables: Variables, correlationKey: string, timeout: string): void {
  let until = variables.getString(waitUntilOf(correlationKey));
  if (until === undefined) {
    until = new Date(Date.now() + durationMs(timeout)).toISOString();
    variables.setString(waitUntilOf(correlationKey), until);
  }
  variables.setStringLocal(WAIT_UNTIL, until);
  variables.setBooleanLocal(MESSAGE_REFUSED, false);
}

/** Ends the message's Task failed with the fixed reason; the DIC's instance waits on. */
export async function refuseMessage(api: ProcessPluginApi, variables: Variables, message: Task, reason: string, dic: string): Promise<void> {
  api.logger.warn(`Data sharing ${variables.getBusinessKey()}: message for ${dic} from ${message.requester?.identifier?.value ?? '-'} (Task/${message.id}) ${reason}`);
  const failed: Task = { ...message, status: 'failed', output: [...(message.output ?? []), { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.error }] }, valueString: reason }] };
  variables.setBooleanLocal(MESSAGE_REFUSED, true);
  try {
    // Marked failed in the variables too, so that the end of the instance does not set it completed.
    variables.updateTask(await api.dsfClientProvider.getLocal().update<Task>(failed));
  } catch (e) {
    // The refusal stands (the instance waits on); only the Task's status could not be written.
    api.logger.warn(`Data sharing ${variables.getBusinessKey()}: Task/${message.id} not set failed: ${errorMessageOf(e)}`);
    variables.updateTask(failed);
  }
}
