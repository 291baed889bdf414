// The data integration centre's side (process feasibilityExecute): count the cohort in the local data
// repository (the configured FHIR connection, never another site), obfuscate the count, and answer the
// requesting research platform with the obfuscated count only.
import type { Task, TaskInput } from '@medplum/fhirtypes';
import {
  BpmnMessage,
  createTarget,
  errorMessageOf,
  FhirHttpError,
  isNotReachable,
  MessageEndEvent,
  ServiceTask,
  type ProcessPluginApi,
  type SendTaskValues,
  type Target,
  type Variables,
} from '../../../src/plugin-api/index.ts';
import { countCohort, CriterionError } from '../../research-common/cohort-selection.ts';
import { checkCriterion } from '../../research-common/criterion-check.ts';
import { DEFAULTS, FEASIBILITY_SYSTEM, FeasibilityCodes, FeasibilityProperties, FeasibilityVariables } from './constants.ts';
import { obfuscateCount, obfuscationSettings } from './obfuscation.ts';

function queryTask(variables: Variables): Task {
  const task = variables.getStartTask();
  if (!task) throw new Error('no start task');
  return task;
}

const property = (api: ProcessPluginApi, name: keyof typeof FeasibilityProperties) => api.properties.get(FeasibilityProperties[name]) ?? DEFAULTS[name as keyof typeof DEFAULTS];

/**
 * What the requester learns of a failed count: the kind of failure only. The full error (local URLs,
 * the repository's messages) stays in this site's log.
 */
function failureForRequester(error: unknown): string {
  if (error instanceof CriterionError) return `criterion refused: ${error.message}`;
  if (isNotReachable(error)) return 'local data repository not reachable';
  if (error instanceof FhirHttpError) return `local data repository answered HTTP ${error.status}`;
  return 'local count failed';
}

export class CountCohort extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const settings = obfuscationSettings((name) => api.properties.get(name) ?? '', FeasibilityProperties);
    const connection = property(api, 'dataRepository');
    const client = await api.fhirClientProvider.getById(connection);
    if (!client) throw new Error(`no FHIR connection '${connection}' configured for the local data repository (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG)`);
    const started = performance.now();
    let count: number;
    try {
      const criteria = api.taskHelper.getInputParameterStringValues(queryTask(variables), FEASIBILITY_SYSTEM, FeasibilityCodes.criterion).map(checkCriterion);
      count = await countCohort(client, criteria);
    } catch (e) {
      // The requester gets an error result now instead of waiting for its timeout.
      api.logger.warn(`Feasibility query from ${queryTask(variables).requester?.identifier?.value ?? '?'} not counted: ${errorMessageOf(e)}`);
      variables.setString(FeasibilityVariables.error, failureForRequester(e));
      return;
    }
    const reported = obfuscateCount(count, settings);
    // The exact count stays in this process's log at debug level only.
    api.logger.debug(`Feasibility count ${count} in ${Math.round(performance.now() - started)} ms`);
    api.logger.info(`Feasibility query from ${queryTask(variables).requester?.identifier?.value ?? '?'}: reporting ${reported.reported}`);
    variables.setString(FeasibilityVariables.reported, reported.reported);
    if (reported.count !== undefined) variables.setInteger(FeasibilityVariables.count, reported.count);
  }
}

/** The answer goes to the requesting organisation's active Endpoint, correlated by the query's keys. */
export class SelectRequester extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = queryTask(variables);
    const correlationKey = api.taskHelper.getFirstInputParameterStringValue(task, BpmnMessage.system, BpmnMessage.correlationKey);
    const organizationIdentifier = task.requester?.identifier?.value;
    if (!correlationKey || !organizationIdentifier) throw new Error('feasibility query without correlation-key or requester');
    const organization = await api.organizationProvider.getOrganization(organizationIdentifier);
    const endpoints = (await api.endpointProvider.getRemoteEndpoints()).filter((e) => e.status === 'active' && e.managingOrganization?.reference?.endsWith(`Organization/${organization?.id}`));
    const endpoint = endpoints[0];
    const endpointIdentifier = endpoint?.identifier?.find((i) => i.system === 'http://dsf.dev/sid/endpoint-identifier')?.value;
    if (!organization || !endpoint?.address || !endpointIdentifier) throw new Error(`no active endpoint of the requester ${organizationIdentifier}`);
    variables.setTarget(createTarget(organizationIdentifier, endpointIdentifier, endpoint.address, correlationKey));
  }
}

export class SendFeasibilityResult extends MessageEndEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables, _values: SendTaskValues, _target: Target): TaskInput[] {
    const error = variables.getString(FeasibilityVariables.error);
    if (error !== undefined) return [api.taskHelper.createInput({ valueString: error }, FEASIBILITY_SYSTEM, FeasibilityCodes.error)];
    const reported = variables.getString(FeasibilityVariables.reported);
    if (reported === undefined) throw new Error('no feasibility result to send');
    const count = variables.getInteger(FeasibilityVariables.count);
    return [
      api.taskHelper.createInput({ valueString: reported }, FEASIBILITY_SYSTEM, FeasibilityCodes.result),
      ...(count !== undefined ? [api.taskHelper.createInput({ valueInteger: count }, FEASIBILITY_SYSTEM, FeasibilityCodes.count)] : []),
    ];
  }
}
