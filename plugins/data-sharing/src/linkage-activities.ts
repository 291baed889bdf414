// The trusted third party's side (process recordLinkage): wait for each expected DIC's records (tokens
// and CLKs only; a timer for sites that never answer), link them across sites, give every person a
// pseudonym with the TTP's keyed function, return to each DIC only its own token -> pseudonym pairs, and
// report counts (no identifiers) to the research platform.
import type { Task, TaskInput } from '@medplum/fhirtypes';
import {
  BpmnExecutionVariables,
  createTargets,
  errorMessageOf,
  ExecutionListener,
  MessageEndEvent,
  MessageIntermediateThrowEvent,
  ServiceTask,
  type MessageActivityErrorHandler,
  type ProcessPluginApi,
  type SendTaskValues,
  type Target,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingProperties, DataSharingStatus, DEFAULTS, reasonOf, Vars, type SiteOutcome } from './constants.ts';
import { downloadFromSender, storeForRecipient } from './exchange.ts';
import { JSON_TYPE } from './execute-activities.ts';
import { fromBase64 } from './linkage/bloom-filter-encoding.ts';
import { linkRecords, recordKey, type EncodedRecord } from './linkage/record-linkage.ts';
import { pseudonymOf } from './pseudonym.ts';
import { input, projectOf, siteStatusOutput, startTask } from './request-activities.ts';
import { parseExpectedSite, targetOf } from './targets.ts';
import { refuseMessage, setWaitDeadline } from './refused-message.ts';
import { takeUnreachableNotice } from './unreachable-dic.ts';
import { RetryUnsentAnswer } from './answer-delivery.ts';

/** Records of one DIC as the TTP keeps them in the process. */
const recordsOf = (correlationKey: string) => `linkageRecords_${correlationKey}`;
/** A DIC whose records the TTP could not use: it waits for pseudonyms and is told why there are none. */
const unreadableOf = (correlationKey: string) => `linkageRecordsUnreadable_${correlationKey}`;
const UNREADABLE_RECORDS = 'records could not be read at the TTP';

function target(variables: Variables): Target & { correlationKey: string } {
  const t = variables.getTarget();
  if (!t?.correlationKey) throw new Error('no target with a correlation key');
  return t as Target & { correlationKey: string };
}

/** One target (with its correlation key) per expected DIC; waiting happens per target. */
export async function expectedTargets(api: ProcessPluginApi, task: Task, variables: Variables): Promise<void> {
  const expected = api.taskHelper.getInputParameterStringValues(task, DATA_SHARING_SYSTEM, DataSharingCodes.expectedSite).map(parseExpectedSite);
  const targets: Target[] = [];
  for (const e of expected) targets.push(await targetOf(api, e.organization, e.correlationKey).catch(() => ({ organizationIdentifierValue: e.organization, endpointIdentifierValue: '-', endpointUrl: '-', correlationKey: e.correlationKey })));
  variables.setTargets(createTargets(targets));
}

export class PrepareLinkage extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    projectOf(api, task);
    if (!api.properties.get(DataSharingProperties.pseudonymKey)) throw new Error(`${DataSharingProperties.pseudonymKey} (the TTP's pseudonym secret) is not set`);
    await expectedTargets(api, task, variables);
  }
}

/** Before waiting: only the message with this DIC's correlation key continues this sub-process instance. */
export class SetCorrelationKey extends ExecutionListener {
  notify(_api: ProcessPluginApi, variables: Variables): void {
    const correlationKey = target(variables).correlationKey;
    variables.setStringLocal(BpmnExecutionVariables.correlationKey, correlationKey);
    // The timer's deadline: fixed when waiting first begins, kept when waiting again after a refused message.
    setWaitDeadline(variables, correlationKey, String(this.fields.timeout ?? 'PT1H'));
  }
}

export class ReceiveRecords extends ServiceTask {
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
      api.logger.warn(`Record linkage: ${t.organizationIdentifierValue} reports an error: ${failure}`);
      variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.error, errorMessage: reasonOf(failure) } satisfies SiteOutcome);
      return;
    }
    let records: { token: string; clk: string }[];
    try {
      const url = api.taskHelper.getFirstInputParameter(message, DATA_SHARING_SYSTEM, DataSharingCodes.records)?.valueReference?.reference;
      if (!url) throw new Error('records message without records reference');
      records = JSON.parse((await downloadFromSender(api, message, url, JSON_TYPE)).toString()) as { token: string; clk: string }[];
      if (!Array.isArray(records)) throw new Error('records are not a list');
    } catch (e) {
      // This DIC is left out of the linkage; the others go on.
      api.logger.warn(`Record linkage: records of ${t.organizationIdentifierValue} unusable: ${errorMessageOf(e)}`);
      variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.error, errorMessage: UNREADABLE_RECORDS } satisfies SiteOutcome);
      variables.setBoolean(unreadableOf(t.correlationKey), true);
      return;
    }
    // Only tokens and CLKs are kept, whatever else a site might send.
    variables.setJsonVariable(recordsOf(t.correlationKey), records.map((r) => ({ token: String(r.token), clk: String(r.clk) })));
    variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.delivered, records: records.length } satisfies SiteOutcome);
    api.logger.info(`Record linkage: ${records.length} records from ${t.organizationIdentifierValue}`);
  }
}

export class RecordsTimeout extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const t = target(variables);
    api.logger.warn(`Record linkage: no records from ${t.organizationIdentifierValue} (timeout)`);
    variables.setJsonVariable(Vars.outcomeOf(t.correlationKey), { status: DataSharingStatus.timeout } satisfies SiteOutcome);
  }
}

export class LinkAndPseudonymise extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const project = projectOf(api, task);
    const key = api.properties.get(DataSharingProperties.pseudonymKey)!;
    const threshold = Number(api.properties.get(DataSharingProperties.linkageThreshold) ?? DEFAULTS.linkageThreshold);
    const answered = (variables.getTargets()?.entries ?? []).filter((t) => variables.getJsonVariable(recordsOf(t.correlationKey!)) !== undefined);
    const encoded: EncodedRecord[] = answered.flatMap((t) =>
      variables.getJsonVariable<{ token: string; clk: string }[]>(recordsOf(t.correlationKey!))!.map((r) => ({ site: t.organizationIdentifierValue, handle: r.token, filter: fromBase64(r.clk) })),
    );
    const started = performance.now();
    const { pseudonyms } = linkRecords(encoded, threshold);
    // The cluster ids of linkRecords are replaced by the keyed pseudonym of the cluster's records.
    const members = new Map<string, string[]>();
    for (const [record, cluster] of pseudonyms) (members.get(cluster) ?? members.set(cluster, []).get(cluster)!).push(record.replace('\u0000', '|'));
    const keyed = new Map([...members].map(([cluster, list]) => [cluster, pseudonymOf(key, project, list)]));
    for (const t of answered) {
      const pairs = encoded.filter((r) => r.site === t.organizationIdentifierValue).map((r) => ({ token: r.handle, pseudonym: keyed.get(pseudonyms.get(recordKey(r))!)! }));
      const url = await storeForRecipient(api, Buffer.from(JSON.stringify(pairs)), JSON_TYPE, t.organizationIdentifierValue, 'Record linkage pseudonyms (token -> pseudonym)');
      variables.setString(Vars.pseudonymsUrlOf(t.correlationKey!), url);
    }
    const atSeveralSites = [...members.values()].filter((list) => list.length > 1).length;
    variables.setJsonVariable(Vars.report, { records: encoded.length, persons: members.size, personsAtSeveralSites: atSeveralSites });
    // The pseudonyms go to the DICs that answered, with each DIC's correlation key: the DIC's instance
    // waits for exactly that key, so only this run's TTP reaches it. A DIC whose records were unusable
    // waits too: it gets the reason instead, and tells the DMS at once.
    const unreadable = (variables.getTargets()?.entries ?? []).filter((t) => variables.getBoolean(unreadableOf(t.correlationKey!)) === true);
    variables.setTargets(createTargets([...answered, ...unreadable]));
    api.logger.info(`Record linkage ${project}: ${encoded.length} records, ${members.size} persons, ${atSeveralSites} at several sites (${Math.round(performance.now() - started)} ms)`);
  }
}

export class SendPseudonyms extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables, _values: unknown, t: Target): TaskInput[] {
    const url = variables.getString(Vars.pseudonymsUrlOf(t.correlationKey!));
    return [url ? input(api, { valueReference: { reference: url } }, DataSharingCodes.pseudonyms) : input(api, { valueString: UNREADABLE_RECORDS }, DataSharingCodes.error)];
  }

  /** A DIC gone since it sent its records does not stop the others' pseudonyms or the report. */
  override getErrorHandler(): MessageActivityErrorHandler {
    return {
      handleException(api, variables: Variables, _values: SendTaskValues, error: unknown) {
        api.logger.warn(`Record linkage: pseudonyms for ${variables.getTarget()?.organizationIdentifierValue} not sent: ${errorMessageOf(error)}`);
        return null;
      },
    };
  }
}

/** The report goes to the organisation that started the linkage (the research platform). */
export class SelectReportRecipient extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    variables.setTarget(await targetOf(api, startTask(variables).requester!.identifier!.value!));
  }
}

export class SendReport extends MessageEndEvent {
  override getErrorHandler(): MessageActivityErrorHandler {
    return new RetryUnsentAnswer('report');
  }
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    const report = variables.getJsonVariable<{ records: number; persons: number; personsAtSeveralSites: number }>(Vars.report)!;
    const expected = api.taskHelper.getInputParameterStringValues(startTask(variables), DATA_SHARING_SYSTEM, DataSharingCodes.expectedSite).map(parseExpectedSite);
    return [
      input(api, { valueInteger: report.records }, DataSharingCodes.recordCount),
      input(api, { valueInteger: report.persons }, DataSharingCodes.persons),
      input(api, { valueInteger: report.personsAtSeveralSites }, DataSharingCodes.personsAtSeveralSites),
      ...expected.map((e) => siteStatusOutput(e.organization, variables.getJsonVariable<SiteOutcome>(Vars.outcomeOf(e.correlationKey)) ?? { status: DataSharingStatus.timeout })),
    ];
  }
}
