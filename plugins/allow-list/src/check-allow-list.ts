// downloadAllowList, second step: nothing is applied unless every entry passes. The Bundle must be a
// transaction or batch whose entries only write Organizations, Endpoints and OrganizationAffiliations,
// with PUT (a conditional update: Type?criteria) or DELETE. Each problem becomes an error output of the start Task.
import type { Bundle, BundleEntry, Task } from '@medplum/fhirtypes';
import { BpmnMessage, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { ALLOWED_TYPES, AllowListVariables } from './constants.ts';

export class CheckAllowList extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const bundle = variables.getFhirResource<Bundle>(AllowListVariables.bundle);
    const url = variables.getString(AllowListVariables.bundleUrl) ?? '?';
    if (!bundle) throw new Error('no allow list Bundle downloaded');
    if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
      throw new Error(`Bundle type TRANSACTION or BATCH expected, but got '${bundle.type ?? ''}' in Bundle with id '${url}'`);
    }
    const problems = (bundle.entry ?? []).flatMap((e) => entryProblems(e, url));
    if (problems.length === 0) return;
    const task = variables.getStartTask() as Task;
    for (const p of problems) {
      api.logger.warn(p);
      (task.output ??= []).push(api.taskHelper.createOutput({ valueString: p }, BpmnMessage.system, BpmnMessage.error));
    }
    variables.updateTask(task);
    throw new Error(
      `Expected Bundle with id '${url}' containing only resource types ${ALLOWED_TYPES.join(', ')} and request methods PUT or DELETE, but found different types or methods`,
    );
  }
}

/** What is wrong with one entry (both the resource and the request are checked, so every problem is listed). */
export function entryProblems(entry: BundleEntry, bundleUrl: string): string[] {
  const problems: string[] = [];
  const method = entry.request?.method;
  const requestType = entry.request?.url?.split(/[/?]/)[0] ?? '';
  if (method === 'DELETE') {
    if (!ALLOWED_TYPES.includes(requestType)) problems.push(`Resource delete of '${entry.request?.url ?? ''}' not allowed in Bundle with id '${bundleUrl}'`);
  } else {
    const type = entry.resource?.resourceType;
    if (!type || !ALLOWED_TYPES.includes(type)) problems.push(`Resource of type '${type ?? 'none'}' not allowed in Bundle with id '${bundleUrl}'`);
    else if (method === 'PUT' && (requestType !== type || !entry.request?.url?.includes('?'))) {
      problems.push(`Request URL '${entry.request?.url ?? ''}' is no conditional update of the entry's ${type} in Bundle with id '${bundleUrl}'`);
    }
  }
  if (method !== 'PUT' && method !== 'DELETE') problems.push(`Request with Method '${method ?? 'none'}' not allowed in Bundle with id '${bundleUrl}'`);
  return problems;
}
