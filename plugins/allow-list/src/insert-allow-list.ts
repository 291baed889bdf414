// downloadAllowList, last step: the checked Bundle is executed by the local FHIR server, all or nothing
// (a transaction), with this site's identity.
import type { Bundle } from '@medplum/fhirtypes';
import { errorMessageOf, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { AllowListVariables } from './constants.ts';

export class InsertAllowList extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const bundle = variables.getFhirResource<Bundle>(AllowListVariables.bundle);
    const url = variables.getString(AllowListVariables.bundleUrl) ?? '?';
    if (!bundle) throw new Error('no allow list Bundle downloaded');
    const requester = variables.getStartTask()?.requester?.identifier?.value ?? '?';
    // What the managing server stored about the Bundle itself is no part of what is applied here.
    const { id: _id, meta: _meta, ...toApply } = bundle;
    try {
      const response = await api.dsfClientProvider.getLocal().postBundle(toApply as Bundle, { returnMinimal: true });
      api.logger.info(`Allow list ${url} from organization ${requester} applied: ${(response.entry ?? []).length} entries`);
    } catch (e) {
      throw new Error(`Error while executing Bundle with id '${url}' from organization ${requester} locally: ${errorMessageOf(e)}`, { cause: e });
    }
  }
}
