// The research platform's side (process feasibilityRequest): check the criteria, select the consortium's
// data integration centres, send each the query, record per site what came back (an obfuscated count,
// nothing in time, or a send failure), and write per-site results and the total to the researcher's Task.
import type { Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import {
  errorMessageOf,
  ExecutionListener,
  isNotAllowed,
  MessageIntermediateThrowEvent,
  ServiceTask,
  BpmnExecutionVariables,
  ORGANIZATION_IDENTIFIER_SID,
  type MessageActivityErrorHandler,
  type ProcessPluginApi,
  type SendTaskValues,
  type Target,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { checkCriterion } from '../../research-common/criterion-check.ts';
import {
  DEFAULTS,
  FEASIBILITY_STATUS_SYSTEM,
  FEASIBILITY_SYSTEM,
  FeasibilityCodes,
  FeasibilityProperties,
  FeasibilityStatus,
  FeasibilityVariables,
  SITE_RESULT_EXTENSION,
  type FeasibilityStatusCode,
  type SiteOutcome,
} from './constants.ts';

function startTask(variables: Variables): Task {
  const task = variables.getStartTask();
  if (!task) throw new Error('no start task');
  return task;
}

function criteriaOf(api: ProcessPluginApi, task: Task): string[] {
  return api.taskHelper.getInputParameterStringValues(task, FEASIBILITY_SYSTEM, FeasibilityCodes.criterion);
}

function targetOf(variables: Variables): Target & { correlationKey: string } {
  const target = variables.getTarget();
  if (!target?.correlationKey) throw new Error('no target with a correlation key');
  return target as Target & { correlationKey: string };
}

export class SelectFeasibilityTargets extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    // A criterion the DICs would refuse fails the request here, before anything is sent.
    const criteria = criteriaOf(api, startTask(variables));
    if (criteria.length === 0) throw new Error('no criterion input');
    for (const c of criteria) checkCriterion(c);
    const consortium = api.properties.get(FeasibilityProperties.consortium) ?? DEFAULTS.consortium;
    const targets = await api.targetProvider.create(consortium, 'DIC').withCorrelationKey();
    api.logger.info(`Feasibility query to ${targets.entries.length} DIC(s) of ${consortium}: ${targets.entries.map((t) => t.organizationIdentifierValue).join(', ') || 'none'}`);
    variables.setTargets(targets);
  }
}

export class SendFeasibilityQuery extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    return criteriaOf(api, startTask(variables)).map((c) => api.taskHelper.createInput({ valueString: c }, FEASIBILITY_SYSTEM, FeasibilityCodes.criterion));
  }

  override getErrorHandler(): MessageActivityErrorHandler {
    return {
      handleException(_api, variables: Variables, _values: SendTaskValues, error: unknown) {
        variables.setStringLocal(FeasibilityVariables.statusCode, isNotAllowed(error) ? FeasibilityStatus.notAllowed : FeasibilityStatus.notReachable);
        variables.setStringLocal(FeasibilityVariables.errorMessage, errorMessageOf(error));
        return null;
      },
    };
  }
}

/** Before waiting: only the answer with this target's correlation key continues this sub-process instance. */
export class SetCorrelationKey extends ExecutionListener {
  notify(_api: ProcessPluginApi, variables: Variables): void {
    variables.setStringLocal(BpmnExecutionVariables.correlationKey, targetOf(variables).correlationKey);
  }
}

export class RecordSiteResult extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    const answer = variables.getLatestTask();
    if (!answer) throw new Error('no result Task');
    const error = api.taskHelper.getFirstInputParameterStringValue(answer, FEASIBILITY_SYSTEM, FeasibilityCodes.error);
    const reported = api.taskHelper.getFirstInputParameterStringValue(answer, FEASIBILITY_SYSTEM, FeasibilityCodes.result) ?? '';
    const count = api.taskHelper.getFirstInputParameter(answer, FEASIBILITY_SYSTEM, FeasibilityCodes.count)?.valueInteger;
    const outcome: SiteOutcome =
      error !== undefined
        ? { status: FeasibilityStatus.error, errorMessage: error }
        : count === undefined
          ? { status: FeasibilityStatus.belowThreshold, reported }
          : { status: FeasibilityStatus.answered, reported, count };
    api.logger.info(`Feasibility result from ${target.organizationIdentifierValue}: ${error !== undefined ? `error (${error})` : reported}`);
    variables.setJsonVariable(FeasibilityVariables.outcomeOf(target.correlationKey), outcome);
  }
}

export class RecordTimeout extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    api.logger.warn(`Feasibility result from ${target.organizationIdentifierValue} missing (timeout)`);
    variables.setJsonVariable(FeasibilityVariables.outcomeOf(target.correlationKey), { status: FeasibilityStatus.timeout } satisfies SiteOutcome);
  }
}

export class RecordSendError extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const target = targetOf(variables);
    const status = (variables.getStringLocal(FeasibilityVariables.statusCode) ?? FeasibilityStatus.notReachable) as FeasibilityStatusCode;
    const errorMessage = variables.getStringLocal(FeasibilityVariables.errorMessage) ?? '';
    api.logger.warn(`Feasibility query to ${target.organizationIdentifierValue} not sent: ${errorMessage}`);
    variables.setJsonVariable(FeasibilityVariables.outcomeOf(target.correlationKey), { status, errorMessage } satisfies SiteOutcome);
  }
}

function siteResultOutput(organization: string, outcome: SiteOutcome): TaskOutput {
  const parts = [
    { url: 'organization-identifier', valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value: organization } },
    ...(outcome.reported !== undefined ? [{ url: 'reported', valueString: outcome.reported }] : []),
    ...(outcome.count !== undefined ? [{ url: 'count', valueInteger: outcome.count }] : []),
    ...(outcome.errorMessage ? [{ url: 'error-message', valueString: outcome.errorMessage }] : []),
  ];
  return {
    extension: [{ url: SITE_RESULT_EXTENSION, extension: parts }],
    type: { coding: [{ system: FEASIBILITY_SYSTEM, code: FeasibilityCodes.siteResult }] },
    valueCoding: { system: FEASIBILITY_STATUS_SYSTEM, code: outcome.status },
  };
}

export class SaveFeasibilityResults extends ServiceTask {
  execute(_api: ProcessPluginApi, variables: Variables): void {
    const task = startTask(variables);
    const targets = [...(variables.getTargets()?.entries ?? [])].sort((a, b) => a.organizationIdentifierValue.localeCompare(b.organizationIdentifierValue));
    let total = 0;
    for (const target of targets) {
      const outcome = variables.getJsonVariable<SiteOutcome>(FeasibilityVariables.outcomeOf(target.correlationKey ?? '')) ?? { status: FeasibilityStatus.timeout };
      total += outcome.count ?? 0;
      (task.output ??= []).push(siteResultOutput(target.organizationIdentifierValue, outcome));
    }
    (task.output ??= []).push({ type: { coding: [{ system: FEASIBILITY_SYSTEM, code: FeasibilityCodes.total }] }, valueInteger: total });
    variables.updateTask(task);
  }
}
