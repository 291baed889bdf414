// The data management site's side (process dataSharingMerge): make this run's key pair and publish the
// public key for the DICs, wait for each expected DIC's encrypted data set (or the timer), decrypt with
// the private key, merge by pseudonym, store the merged Bundle for local use only, and tell the research
// platform the counts, the per-site statuses and where the merged set is.
import { createPrivateKey } from 'node:crypto';
import type { Bundle, TaskInput } from '@medplum/fhirtypes';
import { errorMessageOf, FhirHttpError, MessageEndEvent, ServiceTask, type MessageActivityErrorHandler, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { RetryUnsentAnswer } from './answer-delivery.ts';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingStatus, MERGED_DATA_SET_SID, reasonOf, Vars, type SiteOutcome } from './constants.ts';
import { checkDataSet, mergeDataSets } from './data-set.ts';
import { downloadFromSender } from './exchange.ts';
import { ENCRYPTED_TYPE } from './execute-activities.ts';
import { expectedTargets } from './linkage-activities.ts';
import { publishRecipientKey } from './recipient-key.ts';
import { consortiumOf, input, projectOf, siteStatusOutput, startTask } from './request-activities.ts';
import { parseExpectedSite, targetOf } from './targets.ts';
import { refuseMessage } from './refused-message.ts';
import { takeUnreachableNotice } from './unreachable-dic.ts';

const dataSetOf = (correlationKey: string) => `dataSet_${correlationKey}`;

function target(variables: Variables): Target & { correlationKey: string } {
  const t = variables.getTarget();
  if (!t?.correlationKey) throw new Error('no target with a correlation key');
  return t as Target & { correlationKey: string };
}

/** A failure of the DMS itself: logged in full here; the HRP gets the fixed reason at once. */
function failRun(api: ProcessPluginApi, variables: Variables, reason: string, error: unknown): void {
  api.logger.warn(`Data sharing merge ${variables.getBusinessKey()}: ${reason} (${errorMessageOf(error)})`);
  variables.setString(Vars.failure, reason);
  variables.setBoolean(Vars.failed, true);
}

export class PublishRecipientKey extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    projectOf(api, task);
    variables.setBoolean(Vars.failed, false);
    await expectedTargets(api, task, variables);
    try {
      variables.setString(Vars.privateKey, await publishRecipientKey(api, variables.getBusinessKey(), consortiumOf(api)));
    } catch (e) {
      // Without a key no DIC can deliver: the HRP hears of it now (the failure path sends the result).
      failRun(api, variables, 'the DMS could not publish its encryption key', e);
      variables.setTarget(await targetOf(api, task.requester!.identifier!.value!));
    }
  }
}

/** Why a delivered data set is unusable, as the HRP is told (fixed texts; details stay in this log). */
class UnusableDataSet extends Error {
  constructor(
    readonly reason: string,
    cause: unknown,
  ) {
    super(`${reason}: ${errorMessageOf(cause)}`);
  }
}

async function step<T>(reason: string, f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new UnusableDataSet(reason, e);
  }
}

export class ReceiveDataSet extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const t = target(variables);
    const message = variables.getLatestTask()!;
    if (message.requester?.identifier?.value !== t.organizationIdentifierValue) {
      // The research platform's notice that it could not reach this DIC; anything else: this message is
      // refused and the DIC's instance waits on (the run is not stopped by it).
      const refusal = takeUnreachableNotice(api, variables, message, t);
      if (refusal !== undefined) return refuseMessage(api, variables, message, refusal, t.organizationIdentifierValue);
      return;
    }
    const failure = api.taskHelper.getFirstInputParameterStringValue(message, DATA_SHARING_SYSTEM, DataSharingCodes.error);
    if (failure !== undefined) {
      api.logger.warn(`Data sharing: ${t.organizationIdentifierValue} reports an error: ${failure}`);
      variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.error, errorMessage: reasonOf(failure) } satisfies SiteOutcome);
      return;
    }
    try {
      const url = api.taskHelper.getFirstInputParameter(message, DATA_SHARING_SYSTEM, DataSharingCodes.dataSet)?.valueReference?.reference;
      if (!url) throw new UnusableDataSet('data set message without data set', new Error('no data-set input'));
      const encrypted = await step('data set could not be downloaded', () => downloadFromSender(api, message, url, ENCRYPTED_TYPE));
      const plain = await step('data set could not be decrypted', () => api.cryptoService.createEcDhKem().decrypt(encrypted, createPrivateKey(variables.getString(Vars.privateKey)!)));
      const bundle = await step('data set is malformed', () => checkDataSet(JSON.parse(plain.toString())));
      const patients = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient').length;
      variables.setJsonVariable(dataSetOf(t.correlationKey), bundle);
      variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: patients ? DataSharingStatus.delivered : DataSharingStatus.noConsentingPatients, records: patients } satisfies SiteOutcome);
      api.logger.info(`Data sharing: ${patients} pseudonymised patients from ${t.organizationIdentifierValue}`);
    } catch (e) {
      // This DIC's data is left out and the HRP sees why; the other DICs' data is still merged.
      const reason = e instanceof UnusableDataSet ? e.reason : 'data set could not be read';
      api.logger.warn(`Data sharing: data set of ${t.organizationIdentifierValue} unusable: ${errorMessageOf(e)}`);
      variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.error, errorMessage: reason } satisfies SiteOutcome);
    }
  }
}

export class DataSetTimeout extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const t = target(variables);
    api.logger.warn(`Data sharing: no data set from ${t.organizationIdentifierValue} (timeout)`);
    variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.timeout } satisfies SiteOutcome);
  }
}

const REFUSED_BY_FHIR_SERVER = "data set refused by the DMS's FHIR server";
const ENTRY = /\bBundle\.entry\[(\d+)\]/;

/** The sets (indices) whose entries the FHIR server named when it refused the merged Bundle. */
function refusedSets(error: unknown, origins: readonly number[]): Set<number> {
  const found = new Set<number>();
  if (!(error instanceof FhirHttpError) || error.status < 400 || error.status >= 500) return found;
  for (const issue of error.outcome?.issue ?? []) {
    for (const text of [...(issue.expression ?? []), ...(issue.location ?? []), issue.diagnostics ?? '']) {
      const index = ENTRY.exec(text)?.[1];
      const origin = index === undefined ? undefined : origins[Number(index)];
      if (origin !== undefined) found.add(origin);
    }
  }
  return found;
}

/**
 * The merged set is readable here and by the research platform that started the run, when that is another
 * site: its FHIR server checks the result's reference to the set with its own certificate, and its
 * researchers fetch the set from here. No other site may read it.
 */
async function readableByRunStarter(api: ProcessPluginApi, bundle: Bundle, runStarter: string): Promise<Bundle> {
  const local = await api.organizationProvider.getLocalOrganizationIdentifierValue();
  return runStarter === local ? api.readAccessHelper.addLocal(bundle) : api.readAccessHelper.addOrganization(bundle, runStarter);
}

export class MergeDataSets extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const project = projectOf(api, task);
    variables.setTarget(await targetOf(api, task.requester!.identifier!.value!));
    const delivered = (variables.getTargets()?.entries ?? []).flatMap((t) => {
      const set = variables.getJsonVariable<Bundle>(dataSetOf(t.correlationKey!));
      return set ? [{ correlationKey: t.correlationKey!, set }] : [];
    });
    const sets = delivered.map((d) => d.set);
    // The run's key is no longer needed: the private key goes with the process variables.
    variables.setString(Vars.privateKey, null);
    for (const t of variables.getTargets()?.entries ?? []) variables.setJsonVariable(dataSetOf(t.correlationKey!), null);
    let merged: ReturnType<typeof mergeDataSets>;
    try {
      merged = mergeDataSets(sets);
    } catch (e) {
      return failRun(api, variables, 'the merge of the data sets failed', e);
    }
    try {
      const bundle: Bundle = { ...merged.bundle, identifier: { system: MERGED_DATA_SET_SID, value: `${project}/${variables.getBusinessKey()}` } };
      const stored = await api.dsfClientProvider.getLocal().create(await readableByRunStarter(api, bundle, task.requester!.identifier!.value!));
      variables.setJsonVariable(Vars.mergeResult, { persons: merged.persons, merged: `${api.endpointProvider.getLocalEndpointAddress()}/Bundle/${stored.id}` });
      api.logger.info(`Data sharing ${project}: merged ${sets.length} data sets, ${merged.persons} persons, stored as Bundle/${stored.id}`);
    } catch (e) {
      // The researcher learns which DIC's set the DMS's FHIR server refused, where the refusal names an entry.
      for (const i of refusedSets(e, merged.origins)) {
        variables.setJsonVariable(Vars.outcomeOf(delivered[i]!.correlationKey), { status: DataSharingStatus.error, errorMessage: REFUSED_BY_FHIR_SERVER } satisfies SiteOutcome);
      }
      failRun(api, variables, 'the merged data set could not be stored at the DMS', e);
    }
  }
}

export class SendMergeResult extends MessageEndEvent {
  override getErrorHandler(): MessageActivityErrorHandler {
    return new RetryUnsentAnswer('result');
  }
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    const failure = variables.getString(Vars.failure);
    const result = variables.getJsonVariable<{ persons: number; merged: string }>(Vars.mergeResult);
    const expected = api.taskHelper.getInputParameterStringValues(startTask(variables), DATA_SHARING_SYSTEM, DataSharingCodes.expectedSite).map(parseExpectedSite);
    return [
      // A failed run reports the failure instead of counts and the merged set.
      ...(failure || !result
        ? [input(api, { valueString: failure ?? 'the DMS has no merge result' }, DataSharingCodes.error)]
        : [input(api, { valueInteger: result.persons }, DataSharingCodes.persons), input(api, { valueReference: { reference: result.merged } }, DataSharingCodes.mergedDataSet)]),
      ...expected.map((e) => siteStatusOutput(e.organization, variables.getJsonVariable<SiteOutcome>(Vars.outcomeOf(e.correlationKey)) ?? { status: DataSharingStatus.timeout })),
    ];
  }
}
