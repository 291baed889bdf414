// A DIC the research platform (HRP) cannot reach never sends its records to the TTP or its data set to
// the DMS, so both would wait for it until their timers run out (an hour or two), and the researcher with
// them. The HRP knows at once (its dataSharingExecute could not be sent): it tells the TTP and the DMS in
// the message they wait for from that DIC (recordLinkageRecords, dataSharingData, with the DIC's
// correlation key), carrying only an `error` input with a fixed reason. The TTP and the DMS accept such a
// message only from the organisation that started their run, and only without data.
//
// Order (data-sharing-request.bpmn): the HRP stores its waits for the TTP's report and the DMS's result
// before it asks any DIC (the asking and then these notices are a parallel branch beside the waits),
// since a notice or a DIC's answer can be the last message the TTP or the DMS needed and their answer
// may come at once. Each notice is sent once: the TTP
// and the DMS wait for every DIC from their start message on, which the HRP sent before asking any DIC,
// and a BPE handles the Tasks addressed to it in the order they arrived, so a notice cannot come before
// the wait it is for.
import { BusinessKeyStrategies, DefaultTaskSender, errorMessageOf, ServiceTask, type ProcessPluginApi, type SendTaskValues, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import type { Task } from '@medplum/fhirtypes';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingStatus, PROCESS_URL_BASE, reasonOf, Vars, type SiteOutcome } from './constants.ts';
import { RefusalReasons } from './refused-message.ts';
import { input, startTask } from './request-activities.ts';

/** What the TTP and the DMS are told (and report back as that DIC's error). */
export const UNREACHABLE_FROM_HRP = 'not reachable from the research platform';

/** The messages the TTP and the DMS wait for from each DIC (see data-sharing-execute.bpmn). */
const WAITED_FOR = {
  ttp: { process: 'recordLinkage', message: 'recordLinkageRecords', profile: 'task-record-linkage-records' },
  dms: { process: 'dataSharingMerge', message: 'dataSharingData', profile: 'task-data-sharing-data' },
} as const;

/** Sends the notice as a Task to a given site (not the process's target). */
class NoticeSender extends DefaultTaskSender {
  constructor(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, private readonly to: Target) {
    super(api, variables, values, BusinessKeyStrategies.SAME, () => [input(api, { valueString: UNREACHABLE_FROM_HRP }, DataSharingCodes.error)]);
  }
  protected override getTarget(): Target {
    return this.to;
  }
}

/**
 * HRP, waiting for the TTP's report and the DMS's result: tells the TTP and the DMS of each DIC that
 * could not be asked. Never fails (its branch must reach the join): a notice that cannot be sent is
 * logged, and that site's timer decides for the DIC.
 */
export class TellOfUnreachableDics extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const unreachable = (variables.getTargets()?.entries ?? []).filter((t) => variables.getJsonVariable<SiteOutcome>(Vars.outcomeOf(t.correlationKey!))?.status === DataSharingStatus.notReachable);
    if (unreachable.length === 0) return;
    // The TTP's and the DMS's processes have this plugin's version, as this one.
    const version = startTask(variables).instantiatesCanonical?.split('|')[1] ?? '';
    const sites = [
      [variables.getJsonVariable<Target>(Vars.ttpTarget)!, WAITED_FOR.ttp],
      [variables.getJsonVariable<Target>(Vars.dmsTarget)!, WAITED_FOR.dms],
    ] as const;
    const sent = await Promise.all(
      unreachable.flatMap((dic) =>
        sites.map(async ([site, waited]) => {
          const values = { instantiatesCanonical: `${PROCESS_URL_BASE}/${waited.process}|${version}`, messageName: waited.message, profile: `http://dsf-ts.dev/fhir/StructureDefinition/${waited.profile}|${version}` };
          try {
            await new NoticeSender(api, variables, values, { ...site, correlationKey: dic.correlationKey! }).send();
            return true;
          } catch (e) {
            api.logger.warn(`Data sharing ${variables.getBusinessKey()}: ${site.organizationIdentifierValue} not told that ${dic.organizationIdentifierValue} is not reachable (its timer decides): ${errorMessageOf(e)}`);
            return false;
          }
        }),
      ),
    );
    if (sent.every(Boolean)) api.logger.info(`Data sharing ${variables.getBusinessKey()}: TTP and DMS told that ${unreachable.map((t) => t.organizationIdentifierValue).join(', ')} cannot be reached`);
  }
}

/**
 * TTP and DMS: a message for a DIC that the DIC did not send is taken only as the research platform's
 * notice (from the organisation that started this run, an `error` input, no data); then undefined.
 * Otherwise the fixed reason for refusing it.
 */
export function takeUnreachableNotice(api: ProcessPluginApi, variables: Variables, message: Task, dic: Target & { correlationKey: string }): string | undefined {
  const runStarter = startTask(variables).requester?.identifier?.value;
  if (!runStarter || message.requester?.identifier?.value !== runStarter) return RefusalReasons.wrongSender;
  const reason = api.taskHelper.getFirstInputParameterStringValue(message, DATA_SHARING_SYSTEM, DataSharingCodes.error);
  const carriesData = [DataSharingCodes.records, DataSharingCodes.dataSet, DataSharingCodes.pseudonyms, DataSharingCodes.recordCount].some((code) => api.taskHelper.getFirstInputParameter(message, DATA_SHARING_SYSTEM, code) !== undefined);
  if (carriesData) return RefusalReasons.noticeWithData;
  if (reason === undefined) return RefusalReasons.wrongSender;
  api.logger.warn(`Data sharing ${variables.getBusinessKey()}: the research platform could not reach ${dic.organizationIdentifierValue}: ${reason}`);
  variables.setJsonVariable(Vars.outcomeOf(dic.correlationKey), { status: DataSharingStatus.notReachable, errorMessage: reasonOf(reason) } satisfies SiteOutcome);
  return undefined;
}
