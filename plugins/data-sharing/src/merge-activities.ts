// The data management site's side (process dataSharingMerge): make this run's key pair and publish the
// public key for the DICs, wait for each expected DIC's encrypted data set (or the timer), decrypt with
// the private key, merge by pseudonym, store the merged Bundle for local use only, and tell the research
// platform the counts, the per-site statuses and where the merged set is.
import { createPrivateKey } from 'node:crypto';
import type { Bundle, TaskInput } from '@medplum/fhirtypes';
import { MessageEndEvent, ServiceTask, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingStatus, MERGED_DATA_SET_SID, Vars, type SiteOutcome } from './constants.ts';
import { mergeDataSets } from './data-set.ts';
import { downloadFromSender } from './exchange.ts';
import { ENCRYPTED_TYPE } from './execute-activities.ts';
import { expectedTargets } from './linkage-activities.ts';
import { publishRecipientKey } from './recipient-key.ts';
import { consortiumOf, input, projectOf, siteStatusOutput, startTask } from './request-activities.ts';
import { parseExpectedSite, targetOf } from './targets.ts';

const dataSetOf = (correlationKey: string) => `dataSet_${correlationKey}`;

function target(variables: Variables): Target & { correlationKey: string } {
  const t = variables.getTarget();
  if (!t?.correlationKey) throw new Error('no target with a correlation key');
  return t as Target & { correlationKey: string };
}

export class PublishRecipientKey extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    projectOf(api, task);
    await expectedTargets(api, task, variables);
    variables.setString(Vars.privateKey, await publishRecipientKey(api, variables.getBusinessKey(), consortiumOf(api)));
  }
}

export class ReceiveDataSet extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const t = target(variables);
    const message = variables.getLatestTask()!;
    if (message.requester?.identifier?.value !== t.organizationIdentifierValue) throw new Error(`data set for ${t.organizationIdentifierValue} sent by ${message.requester?.identifier?.value}`);
    const url = api.taskHelper.getFirstInputParameter(message, DATA_SHARING_SYSTEM, DataSharingCodes.dataSet)?.valueReference?.reference;
    if (!url) throw new Error('data message without data-set reference');
    const encrypted = await downloadFromSender(api, message, url, ENCRYPTED_TYPE);
    const privateKey = createPrivateKey(variables.getString(Vars.privateKey)!);
    const bundle = JSON.parse(api.cryptoService.createEcDhKem().decrypt(encrypted, privateKey).toString()) as Bundle;
    const patients = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient').length;
    variables.setJsonVariable(dataSetOf(t.correlationKey), bundle);
    variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: patients ? DataSharingStatus.delivered : DataSharingStatus.noConsentingPatients, records: patients } satisfies SiteOutcome);
    api.logger.info(`Data sharing: ${patients} pseudonymised patients from ${t.organizationIdentifierValue}`);
  }
}

export class DataSetTimeout extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const t = target(variables);
    api.logger.warn(`Data sharing: no data set from ${t.organizationIdentifierValue} (timeout)`);
    variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.timeout } satisfies SiteOutcome);
  }
}

export class MergeDataSets extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const project = projectOf(api, task);
    const sets = (variables.getTargets()?.entries ?? []).map((t) => variables.getJsonVariable<Bundle>(dataSetOf(t.correlationKey!))).filter((b): b is Bundle => b !== undefined);
    const { bundle, persons } = mergeDataSets(sets);
    const stored = await api.dsfClientProvider.getLocal().create(api.readAccessHelper.addLocal<Bundle>({ ...bundle, identifier: { system: MERGED_DATA_SET_SID, value: `${project}/${variables.getBusinessKey()}` } }));
    variables.setJsonVariable(Vars.mergeResult, { persons, merged: `${api.endpointProvider.getLocalEndpointAddress()}/Bundle/${stored.id}` });
    // The run's key is no longer needed: the private key goes with the process variables.
    variables.setString(Vars.privateKey, null);
    for (const t of variables.getTargets()?.entries ?? []) variables.setJsonVariable(dataSetOf(t.correlationKey!), null);
    api.logger.info(`Data sharing ${project}: merged ${sets.length} data sets, ${persons} persons, stored as Bundle/${stored.id}`);
    variables.setTarget(await targetOf(api, task.requester!.identifier!.value!));
  }
}

export class SendMergeResult extends MessageEndEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    const result = variables.getJsonVariable<{ persons: number; merged: string }>(Vars.mergeResult)!;
    const expected = api.taskHelper.getInputParameterStringValues(startTask(variables), DATA_SHARING_SYSTEM, DataSharingCodes.expectedSite).map(parseExpectedSite);
    return [
      input(api, { valueInteger: result.persons }, DataSharingCodes.persons),
      input(api, { valueReference: { reference: result.merged } }, DataSharingCodes.mergedDataSet),
      ...expected.map((e) => siteStatusOutput(e.organization, variables.getJsonVariable<SiteOutcome>(Vars.outcomeOf(e.correlationKey)) ?? { status: DataSharingStatus.timeout })),
    ];
  }
}
