// Trace ids that follow one research request across organisations. A process's business key travels
// in every Task it sends (input business-key, the reference's contract), so the trace id is derived
// from it: every site, ours or the reference's, can compute it from the Task alone. Our BPE also
// sends it as a W3C `traceparent` header on Task creates (the reference ignores unknown headers);
// the receiving FHIR server logs it with the request, the receiving BPE with the Task.
import { createHash, randomBytes } from 'node:crypto';
import type { Resource, Task } from '@medplum/fhirtypes';

export const BPMN_MESSAGE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';

/** 32 hex characters (W3C trace-id) of a business key. */
export function traceIdOf(businessKey: string): string {
  return createHash('sha256').update(businessKey, 'utf8').digest('hex').slice(0, 32);
}

export function businessKeyOf(task: Pick<Task, 'input'>): string | undefined {
  return task.input?.find((i) => i.type?.coding?.some((c) => c.system === BPMN_MESSAGE_SYSTEM && c.code === 'business-key'))?.valueString;
}

/** The trace id of a Task: from its business key; undefined without one. */
export function traceIdOfTask(task: Pick<Task, 'input'>): string | undefined {
  const key = businessKeyOf(task);
  return key ? traceIdOf(key) : undefined;
}

/** A traceparent header for a request that sends this resource (Tasks with a business key only). */
export function traceparentFor(resource: Resource): string | undefined {
  if (resource.resourceType !== 'Task') return undefined;
  const trace = traceIdOfTask(resource);
  return trace ? `00-${trace}-${randomBytes(8).toString('hex')}-01` : undefined;
}

/** The trace id of a traceparent header, if it is one. */
export function traceIdOfHeader(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(value.trim());
  return m && !/^0+$/.test(m[1]!) ? m[1] : undefined;
}
