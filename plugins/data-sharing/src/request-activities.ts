// The research platform's side (process dataSharingRequest): check the request, let the use-and-access
// committee decide in a user task, and on approval start the DMS's merge and the TTP's record linkage
// and ask every DIC of the consortium to take part; then wait for the TTP's report and the DMS's result
// and write the outcome to the researcher's Task. A rejection ends the process with nothing sent.
import type { Coding, QuestionnaireResponse, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import {
  BpmnMessage,
  DefaultMessageActivityErrorHandler,
  DefaultUserTaskListener,
  errorMessageOf,
  ExecutionListener,
  isNotAllowed,
  MessageIntermediateThrowEvent,
  ServiceTask,
  ORGANIZATION_IDENTIFIER_SID,
  type CreateQuestionnaireResponseValues,
  type MessageActivityErrorHandler,
  type ProcessPluginApi,
  type SendTaskValues,
  type Target,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { checkCriterion } from '../../research-common/criterion-check.ts';
import { CommitteeItems, DATA_SHARING_STATUS_SYSTEM, DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingProperties, DataSharingStatus, DEFAULTS, SITE_STATUS_EXTENSION, Vars, type DataSharingStatusCode, type SiteOutcome } from './constants.ts';
import { MII_PROVISION_SYSTEM, MII_RESEARCH_USE_CODE } from './consent.ts';
import { expectedSiteText, targetOf } from './targets.ts';

export function startTask(variables: Variables): Task {
  const task = variables.getStartTask();
  if (!task) throw new Error('no start task');
  return task;
}

export const consortiumOf = (api: ProcessPluginApi) => api.properties.get(DataSharingProperties.consortium) ?? DEFAULTS.consortium;
const strings = (api: ProcessPluginApi, task: Task, code: string) => api.taskHelper.getInputParameterStringValues(task, DATA_SHARING_SYSTEM, code);
export const input = (api: ProcessPluginApi, value: Omit<TaskInput, 'type'>, code: string) => api.taskHelper.createInput(value, DATA_SHARING_SYSTEM, code);
const output = (api: ProcessPluginApi, value: Omit<TaskOutput, 'type'>, code: string) => api.taskHelper.createOutput(value, DATA_SHARING_SYSTEM, code);

/** The request's purpose (default: the MII broad consent's research use of medical data). */
export function purposeOf(api: ProcessPluginApi, task: Task): Coding {
  const coding = api.taskHelper.getFirstInputParameter(task, DATA_SHARING_SYSTEM, DataSharingCodes.purpose)?.valueCoding;
  return coding?.system && coding.code ? { system: coding.system, code: coding.code } : { system: MII_PROVISION_SYSTEM, code: MII_RESEARCH_USE_CODE };
}

export function projectOf(api: ProcessPluginApi, task: Task): string {
  const project = api.taskHelper.getFirstInputParameter(task, DATA_SHARING_SYSTEM, DataSharingCodes.projectIdentifier)?.valueIdentifier?.value ?? strings(api, task, DataSharingCodes.projectIdentifier)[0];
  if (!project) throw new Error('no project-identifier input');
  return project;
}

export class CheckRequest extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const task = startTask(variables);
    projectOf(api, task);
    const criteria = strings(api, task, DataSharingCodes.criterion);
    if (criteria.length === 0) throw new Error('no criterion input');
    // A criterion the DICs would refuse fails the request before the committee sees it.
    for (const c of criteria) checkCriterion(c);
  }
}

/** The committee's form: the request's project, purpose and criteria shown; only UAC_USER practitioners (or the organisation) may answer. */
export class CommitteeTaskListener extends DefaultUserTaskListener {
  protected override beforeQuestionnaireResponseCreate(api: ProcessPluginApi, variables: Variables, _values: CreateQuestionnaireResponseValues, qr: QuestionnaireResponse): void {
    const task = startTask(variables);
    const purpose = purposeOf(api, task);
    const texts: Record<string, string> = {
      [CommitteeItems.project]: `Project: ${projectOf(api, task)}`,
      [CommitteeItems.purpose]: `Purpose: ${purpose.system}|${purpose.code}`,
      [CommitteeItems.criteria]: `Criteria: ${strings(api, task, DataSharingCodes.criterion).join(' AND ')}`,
    };
    for (const item of qr.item ?? []) if (item.linkId && texts[item.linkId]) item.text = texts[item.linkId];
  }
}

export class RecordDecision extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const qr = variables.getLatestReceivedQuestionnaireResponse();
    if (!qr) throw new Error('no committee answer');
    const approve = api.questionnaireResponseHelper.getFirstItemLeafMatchingLinkId(qr, CommitteeItems.approve)?.answer?.[0]?.valueBoolean === true;
    const comment = api.questionnaireResponseHelper.getStringAnswer(qr, CommitteeItems.comment) ?? '';
    api.logger.info(`Data sharing request ${projectOf(api, startTask(variables))}: committee ${approve ? 'approved' : 'rejected'}`);
    variables.setBoolean(Vars.approved, approve);
    const task = startTask(variables);
    (task.output ??= []).push(
      output(api, { valueCoding: { system: DATA_SHARING_STATUS_SYSTEM, code: approve ? DataSharingStatus.approved : DataSharingStatus.rejected } }, DataSharingCodes.decision),
      output(api, { valueString: comment }, DataSharingCodes.comment),
    );
    variables.updateTask(task);
  }
}

/**
 * The run's DMS: the one the request names, else this organisation if it is a DMS, else the consortium's
 * only DMS (a real deployment's DMS is usually a site of its own). It must have the DMS role.
 */
async function selectDms(api: ProcessPluginApi, task: Task, consortium: string): Promise<string> {
  const dmss = (await api.targetProvider.create(consortium, 'DMS').withoutCorrelationKey()).entries.map((t) => t.organizationIdentifierValue);
  const named = api.taskHelper.getFirstInputParameter(task, DATA_SHARING_SYSTEM, DataSharingCodes.dmsIdentifier)?.valueIdentifier?.value;
  if (named) {
    if (!dmss.includes(named)) throw new Error(`${named} is not a DMS of ${consortium}`);
    return named;
  }
  const local = await api.organizationProvider.getLocalOrganizationIdentifierValue();
  if (local && dmss.includes(local)) return local;
  if (dmss.length === 1) return dmss[0]!;
  throw new Error(`${dmss.length} DMSs in ${consortium}: name one with the dms-identifier input`);
}

/** DMS (see selectDms), the TTP (input, default the consortium's only one) and the DICs (each with a correlation key). */
export class SelectSites extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const consortium = consortiumOf(api);
    const dms = await selectDms(api, task, consortium);
    const ttps = (await api.targetProvider.create(consortium, 'TTP').withoutCorrelationKey()).entries;
    // The request may name the TTP; without a name the consortium must have exactly one.
    const named = api.taskHelper.getFirstInputParameter(task, DATA_SHARING_SYSTEM, DataSharingCodes.ttpIdentifier)?.valueIdentifier?.value;
    const ttp = named ? ttps.find((t) => t.organizationIdentifierValue === named) : ttps.length === 1 ? ttps[0] : undefined;
    if (!ttp) throw new Error(named ? `${named} is not a TTP of ${consortium}` : `${ttps.length} TTPs in ${consortium}: name one with the ttp-identifier input`);
    const dics = await api.targetProvider.create(consortium, 'DIC').withCorrelationKey();
    if (dics.entries.length === 0) throw new Error(`no DIC in ${consortium}`);
    variables.setJsonVariable(Vars.dmsTarget, await targetOf(api, dms));
    variables.setJsonVariable(Vars.ttpTarget, ttp);
    variables.setTargets(dics);
    api.logger.info(`Data sharing ${projectOf(api, task)}: DMS ${dms}, TTP ${ttp.organizationIdentifierValue}, DICs ${dics.entries.map((t) => t.organizationIdentifierValue).join(', ')}`);
  }
}

/** Before a send to the DMS or the TTP: that site is the target. */
export class TargetDms extends ExecutionListener {
  notify(_api: ProcessPluginApi, variables: Variables): void {
    variables.setTarget(variables.getJsonVariable<Target>(Vars.dmsTarget)!);
  }
}
export class TargetTtp extends ExecutionListener {
  notify(_api: ProcessPluginApi, variables: Variables): void {
    variables.setTarget(variables.getJsonVariable<Target>(Vars.ttpTarget)!);
  }
}

/** The project and every DIC with its correlation key: what the TTP and the DMS wait for. */
function runInputs(api: ProcessPluginApi, variables: Variables): TaskInput[] {
  return [
    input(api, { valueString: projectOf(api, startTask(variables)) }, DataSharingCodes.projectIdentifier),
    ...(variables.getTargets()?.entries ?? []).map((t) => input(api, { valueString: expectedSiteText(t.organizationIdentifierValue, t.correlationKey!) }, DataSharingCodes.expectedSite)),
  ];
}

/**
 * The TTP is told first, then the DMS, then the DICs: if the TTP or the DMS cannot be reached, the
 * researcher's Task fails at once with a reason saying so, and no DIC is asked (no patient data moves).
 */
class RunStartErrorHandler extends DefaultMessageActivityErrorHandler {
  constructor(private readonly role: string) {
    super();
  }
  override async handleException(api: ProcessPluginApi, variables: Variables, _values: SendTaskValues, error: unknown): Promise<unknown> {
    const site = variables.getTarget()?.organizationIdentifierValue ?? '?';
    const reason = `${this.role} ${site} ${isNotAllowed(error) ? 'refused the run' : 'not reachable'}; no DIC was asked for data (${errorMessageOf(error)})`;
    api.logger.warn(`Data sharing ${variables.getBusinessKey()}: ${reason}`);
    await this.updateFailedIfInProgress(api, variables, reason, variables.getTasks());
    return error;
  }
}

export class SendLinkageStart extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    return runInputs(api, variables);
  }
  override getErrorHandler(): MessageActivityErrorHandler {
    return new RunStartErrorHandler('trusted third party');
  }
}

export class SendMergeStart extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    return runInputs(api, variables);
  }
  override getErrorHandler(): MessageActivityErrorHandler {
    return new RunStartErrorHandler('data management site');
  }
}

export class SendExecute extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    const task = startTask(variables);
    const identifier = (value: string) => ({ valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value } });
    return [
      input(api, { valueString: projectOf(api, task) }, DataSharingCodes.projectIdentifier),
      input(api, { valueCoding: purposeOf(api, task) }, DataSharingCodes.purpose),
      ...strings(api, task, DataSharingCodes.criterion).map((c) => input(api, { valueString: c }, DataSharingCodes.criterion)),
      input(api, identifier(variables.getJsonVariable<Target>(Vars.ttpTarget)!.organizationIdentifierValue), DataSharingCodes.ttpIdentifier),
      input(api, identifier(variables.getJsonVariable<Target>(Vars.dmsTarget)!.organizationIdentifierValue), DataSharingCodes.dmsIdentifier),
    ];
  }

  override getErrorHandler(): MessageActivityErrorHandler {
    return {
      handleException(api, variables: Variables, _values: SendTaskValues, error: unknown) {
        const target = variables.getTarget()!;
        api.logger.warn(`Data sharing request to ${target.organizationIdentifierValue} not sent: ${errorMessageOf(error)}`);
        variables.setJsonVariable(Vars.outcomeOf(target.correlationKey!), { status: DataSharingStatus.notReachable, errorMessage: `${isNotAllowed(error) ? 'not allowed: ' : ''}${errorMessageOf(error)}` } satisfies SiteOutcome);
        return null;
      },
    };
  }
}

/** Where a site's status is carried: the status Coding and an extension naming the organisation. */
export function siteStatusOutput(organization: string, outcome: SiteOutcome): TaskOutput & TaskInput {
  const parts = [
    { url: 'organization-identifier', valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value: organization } },
    ...(outcome.records !== undefined ? [{ url: 'records', valueInteger: outcome.records }] : []),
    ...(outcome.errorMessage ? [{ url: 'error-message', valueString: outcome.errorMessage }] : []),
  ];
  return {
    extension: [{ url: SITE_STATUS_EXTENSION, extension: parts }],
    type: { coding: [{ system: DATA_SHARING_SYSTEM, code: DataSharingCodes.siteStatus }] },
    valueCoding: { system: DATA_SHARING_STATUS_SYSTEM, code: outcome.status },
  };
}

export function readSiteStatuses(parameters: readonly (TaskInput | TaskOutput)[]): Map<string, SiteOutcome> {
  const out = new Map<string, SiteOutcome>();
  for (const p of parameters) {
    if (!p.type?.coding?.some((c) => c.system === DATA_SHARING_SYSTEM && c.code === DataSharingCodes.siteStatus)) continue;
    const parts = p.extension?.find((e) => e.url === SITE_STATUS_EXTENSION)?.extension ?? [];
    const organization = parts.find((x) => x.url === 'organization-identifier')?.valueIdentifier?.value;
    if (!organization || !p.valueCoding?.code) continue;
    const records = parts.find((x) => x.url === 'records')?.valueInteger;
    const errorMessage = parts.find((x) => x.url === 'error-message')?.valueString;
    out.set(organization, { status: p.valueCoding.code as DataSharingStatusCode, ...(records !== undefined ? { records } : {}), ...(errorMessage ? { errorMessage } : {}) });
  }
  return out;
}

/** Keeps the TTP's report (counts only) for the final outputs. */
export class RecordLinkageReport extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const report = variables.getLatestTask()!;
    const integer = (code: string) => api.taskHelper.getFirstInputParameter(report, DATA_SHARING_SYSTEM, code)?.valueInteger;
    variables.setJsonVariable(Vars.report, {
      persons: integer(DataSharingCodes.persons),
      personsAtSeveralSites: integer(DataSharingCodes.personsAtSeveralSites),
      records: integer(DataSharingCodes.recordCount),
      sites: Object.fromEntries(readSiteStatuses(report.input ?? [])),
    });
  }
}

export class RecordMergeResult extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const result = variables.getLatestTask()!;
    const persons = api.taskHelper.getFirstInputParameter(result, DATA_SHARING_SYSTEM, DataSharingCodes.persons)?.valueInteger;
    const merged = api.taskHelper.getFirstInputParameter(result, DATA_SHARING_SYSTEM, DataSharingCodes.mergedDataSet)?.valueReference?.reference;
    const error = api.taskHelper.getFirstInputParameterStringValue(result, DATA_SHARING_SYSTEM, DataSharingCodes.error);
    variables.setJsonVariable(Vars.mergeResult, { persons, merged, sites: Object.fromEntries(readSiteStatuses(result.input ?? [])), ...(error !== undefined ? { error } : {}) });
  }
}

interface MergeResult {
  persons?: number;
  merged?: string;
  sites: Record<string, SiteOutcome>;
  error?: string;
}
interface LinkageReport {
  persons?: number;
  personsAtSeveralSites?: number;
  records?: number;
  sites?: Record<string, SiteOutcome>;
}

/** The researcher's reason when the HRP's wait ended without the DMS's result. */
export const noResultFrom = (dms: string) => `no result from the DMS ${dms}`;

/**
 * A DIC's status: a send failure here first, then what the DMS saw; an error the TTP saw beats the DMS's
 * timeout. Without the DMS's result only what the HRP and the TTP know: a DIC the TTP saw fail, or else
 * `unknown` (the DMS may well have its data set: `timeout` would blame the DIC).
 */
function outcomeOfSite(variables: Variables, dic: Target, merge: MergeResult | undefined, report: LinkageReport | undefined, dms: string): SiteOutcome {
  const sendFailure = variables.getJsonVariable<SiteOutcome>(Vars.outcomeOf(dic.correlationKey!));
  if (sendFailure) return sendFailure;
  const atDms = merge?.sites[dic.organizationIdentifierValue];
  const atTtp = report?.sites?.[dic.organizationIdentifierValue];
  if (!merge) return atTtp && atTtp.status !== DataSharingStatus.delivered ? atTtp : { status: DataSharingStatus.unknown, errorMessage: noResultFrom(dms) };
  if (atTtp?.status === DataSharingStatus.error && (!atDms || atDms.status === DataSharingStatus.timeout)) return atTtp;
  return atDms ?? { status: DataSharingStatus.timeout };
}

export class SaveResults extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const merge = variables.getJsonVariable<MergeResult>(Vars.mergeResult);
    const report = variables.getJsonVariable<LinkageReport>(Vars.report);
    const dms = variables.getJsonVariable<Target>(Vars.dmsTarget)!.organizationIdentifierValue;
    const dics = [...(variables.getTargets()?.entries ?? [])].sort((a, b) => a.organizationIdentifierValue.localeCompare(b.organizationIdentifierValue));
    for (const dic of dics) (task.output ??= []).push(siteStatusOutput(dic.organizationIdentifierValue, outcomeOfSite(variables, dic, merge, report, dms)));
    if (merge?.persons !== undefined) task.output!.push(output(api, { valueInteger: merge.persons }, DataSharingCodes.persons));
    if (report?.personsAtSeveralSites !== undefined) task.output!.push(output(api, { valueInteger: report.personsAtSeveralSites }, DataSharingCodes.personsAtSeveralSites));
    if (merge?.merged) task.output!.push(output(api, { valueReference: { reference: merge.merged } }, DataSharingCodes.mergedDataSet));
    if (merge && merge.error === undefined) return variables.updateTask(task);
    // The DMS could not merge, or its result did not come: the researcher's Task fails with the reason (no personal data).
    const reason = merge ? merge.error! : noResultFrom(dms);
    api.logger.warn(`Data sharing ${projectOf(api, task)}: ${merge ? `the DMS reports: ${reason}` : `${reason} before the wait ended`}`);
    task.status = 'failed';
    task.output!.push(output(api, { valueString: reason }, DataSharingCodes.error), { type: { coding: [{ system: BpmnMessage.system, code: BpmnMessage.error }] }, valueString: `data management site: ${reason}` });
    variables.updateTask(await api.dsfClientProvider.getLocal().update(task));
  }
}
