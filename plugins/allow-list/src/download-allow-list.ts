// downloadAllowList, first step: read the Bundle the start Task's allow_list input references, from the
// server that holds it (the managing organisation's), with this site's client certificate.
import type { Bundle, Reference, Task } from '@medplum/fhirtypes';
import { errorMessageOf, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { ALLOW_LIST_CODE, ALLOW_LIST_SYSTEM, AllowListVariables } from './constants.ts';

export class DownloadAllowList extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = variables.getStartTask();
    if (!task) throw new Error('no start task');
    const url = bundleUrl(api, task);
    const { base, id, version } = parseBundleUrl(url);
    try {
      const client = api.dsfClientProvider.getByEndpointUrl(base);
      const bundle = version ? await client.vread<Bundle>('Bundle', id, version) : await client.read<Bundle>('Bundle', id);
      variables.setString(AllowListVariables.bundleUrl, url);
      variables.setFhirResource(AllowListVariables.bundle, bundle);
    } catch (e) {
      throw new Error(`Error while reading Bundle with id '${url}' from organization ${task.requester?.identifier?.value ?? '?'}: ${errorMessageOf(e)}`, { cause: e });
    }
  }
}

function bundleUrl(api: ProcessPluginApi, task: Task): string {
  const references = api.taskHelper
    .getInputParameters(task, ALLOW_LIST_SYSTEM, ALLOW_LIST_CODE)
    .map((i) => i.valueReference)
    .filter((r): r is Reference => r !== undefined);
  if (references.length !== 1) throw new Error(`Task input parameter '${ALLOW_LIST_CODE}' contains unexpected number of Bundle IDs, expected 1, got ${references.length}`);
  const reference = references[0]!.reference;
  if (!reference?.includes('/Bundle/')) throw new Error(`Task input parameter '${ALLOW_LIST_CODE}' has no Bundle reference`);
  return reference;
}

/** https://host/fhir/Bundle/<id>[/_history/<version>] -> its parts. */
export function parseBundleUrl(url: string): { base: string; id: string; version?: string } {
  const m = /^(https?:\/\/.+)\/Bundle\/([A-Za-z0-9.-]{1,64})(?:\/_history\/([A-Za-z0-9.-]{1,64}))?$/.exec(url);
  if (!m) throw new Error(`Task input parameter '${ALLOW_LIST_CODE}' is no absolute Bundle URL: ${url}`);
  return m[3] ? { base: m[1]!, id: m[2]!, version: m[3] } : { base: m[1]!, id: m[2]! };
}
