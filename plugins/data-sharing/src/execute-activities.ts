// The data integration centre's side (process dataSharingExecute): select the cohort in the local data
// repository, keep the patients whose consent permits the purpose, give each a random record token and
// send the TTP only tokens and Bloom-filter encodings (CLKs) of their quasi-identifiers. When the TTP's
// pseudonyms arrive, build the pseudonymised data set, encrypt it for the data management site and send
// it there. Token -> patient stays in this process instance; nothing identifying leaves the site.
import { randomBytes } from 'node:crypto';
import type { Bundle, Condition, Observation, Patient, Task, TaskInput } from '@medplum/fhirtypes';
import { BpmnExecutionVariables, BpmnMessage, errorMessageOf, ExecutionListener, MessageEndEvent, MessageIntermediateThrowEvent, ServiceTask, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { selectCohort } from '../../research-common/cohort-selection.ts';
import { checkCriterion } from '../../research-common/criterion-check.ts';
import { repositoryFailureReason } from '../../research-common/failure-reason.ts';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingProperties, DEFAULTS, reasonOf, Vars } from './constants.ts';
import { consentingPatients } from './consent.ts';
import { pseudonymisedDataSet, type PatientData } from './data-set.ts';
import { downloadFromSender, storeForRecipient } from './exchange.ts';
import { encodeRecord, toBase64 } from './linkage/bloom-filter-encoding.ts';
import { fetchRecipientKey } from './recipient-key.ts';
import { input, projectOf, purposeOf, startTask } from './request-activities.ts';
import { targetOf } from './targets.ts';

/** JSON exchanged as Binary content (plain application/json would be taken for a FHIR resource). */
export const JSON_TYPE = 'application/vnd.dsf-ts.data-sharing+json';
export const ENCRYPTED_TYPE = 'application/octet-stream';

const organizationInput = (api: ProcessPluginApi, task: Task, code: string) => {
  const value = api.taskHelper.getFirstInputParameter(task, DATA_SHARING_SYSTEM, code)?.valueIdentifier?.value;
  if (!value) throw new Error(`no ${code} input`);
  return value;
};
const correlationKeyOf = (api: ProcessPluginApi, task: Task) => {
  const key = api.taskHelper.getFirstInputParameterStringValue(task, BpmnMessage.system, BpmnMessage.correlationKey);
  if (!key) throw new Error('data sharing request without correlation-key');
  return key;
};

async function repository(api: ProcessPluginApi) {
  const id = api.properties.get(DataSharingProperties.dataRepository) ?? DEFAULTS.dataRepository;
  const client = await api.fhirClientProvider.getById(id);
  if (!client) throw new Error(`no FHIR connection '${id}' configured for the local data repository (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG)`);
  return client;
}

/** The fields the Bloom filter encodes (the same at every DIC). */
function quasiIdentifiers(p: Patient): Record<string, string | undefined> {
  const name = p.name?.[0];
  return { given: name?.given?.join(' '), family: name?.family, birthDate: p.birthDate, sex: p.gender, postalCode: p.address?.[0]?.postalCode };
}

async function patientsById(api: ProcessPluginApi, ids: readonly string[]): Promise<Patient[]> {
  const client = await repository(api);
  const out: Patient[] = [];
  for (let i = 0; i < ids.length; i += 100) out.push(...(await client.searchAll<Patient>('Patient', { _id: ids.slice(i, i + 100).join(','), _count: '100' })));
  return out;
}

/** Records this DIC sends the TTP: a random token and the CLK per consenting patient; token -> patient stays here. */
async function linkageRecords(api: ProcessPluginApi, task: Task, key: string) {
  const client = await repository(api);
  const criteria = api.taskHelper.getInputParameterStringValues(task, DATA_SHARING_SYSTEM, DataSharingCodes.criterion).map(checkCriterion);
  const cohort = await selectCohort(client, criteria);
  const consenting = await consentingPatients(client, cohort, purposeOf(api, task), new Date().toISOString().slice(0, 10));
  const patients = await patientsById(api, [...consenting]);
  const tokens: Record<string, string> = {};
  const records = patients.map((p) => {
    const token = randomBytes(16).toString('hex');
    tokens[token] = p.id!;
    return { token, clk: toBase64(encodeRecord(quasiIdentifiers(p), { key })) };
  });
  api.logger.info(`Data sharing ${projectOf(api, task)}: cohort ${cohort.size}, with consent ${patients.length}`);
  return { tokens, records };
}

/** A failed local step: logged in full here, a fixed reason for the TTP and the DMS, and the error path taken. */
function fail(api: ProcessPluginApi, variables: Variables, task: Task, reason: string, error: unknown): void {
  api.logger.warn(`Data sharing ${projectOf(api, task)} from ${task.requester?.identifier?.value ?? '?'}: ${reason} (${errorMessageOf(error)})`);
  variables.setString(Vars.failure, reason);
  variables.setBoolean(Vars.failed, true);
}

export class SelectConsentingCohort extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const correlationKey = correlationKeyOf(api, task);
    const ttp = organizationInput(api, task, DataSharingCodes.ttpIdentifier);
    variables.setTarget(await targetOf(api, ttp, correlationKey));
    // Only the run's TTP, with this DIC's correlation key, can deliver the pseudonyms to this instance.
    variables.setString(BpmnExecutionVariables.correlationKey, correlationKey);
    variables.setBoolean(Vars.failed, false);
    const key = api.properties.get(DataSharingProperties.linkageKey);
    if (!key) return fail(api, variables, task, 'record linkage not configured at the DIC', new Error(`${DataSharingProperties.linkageKey} (the DICs' shared record linkage key) is not set`));
    let selected: Awaited<ReturnType<typeof linkageRecords>>;
    try {
      selected = await linkageRecords(api, task, key);
    } catch (e) {
      // The TTP and the DMS hear of it now instead of waiting for their timers.
      return fail(api, variables, task, repositoryFailureReason(e, 'cohort selection'), e);
    }
    try {
      variables.setString(Vars.recordsUrl, await storeForRecipient(api, Buffer.from(JSON.stringify(selected.records)), JSON_TYPE, ttp, 'Record linkage records (tokens and CLKs)'));
    } catch (e) {
      return fail(api, variables, task, 'records could not be stored for the TTP', e);
    }
    variables.setJsonVariable(Vars.tokens, selected.tokens);
    variables.setInteger(Vars.recordCount, selected.records.length);
  }
}

/** The DMS of the run (with this DIC's correlation key) is the next target: data set or failure go there. */
export class TargetRunDms extends ExecutionListener {
  async notify(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    variables.setTarget(await targetOf(api, organizationInput(api, task, DataSharingCodes.dmsIdentifier), correlationKeyOf(api, task)));
  }
}

/** Either the failure or the data: whoever waits for this DIC learns which at once. */
const failureInput = (api: ProcessPluginApi, variables: Variables): TaskInput[] | undefined => {
  const failure = variables.getString(Vars.failure);
  return failure ? [input(api, { valueString: failure }, DataSharingCodes.error)] : undefined;
};

export class SendRecords extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    return failureInput(api, variables) ?? [
      input(api, { valueReference: { reference: variables.getString(Vars.recordsUrl)! } }, DataSharingCodes.records),
      input(api, { valueInteger: variables.getInteger(Vars.recordCount)! }, DataSharingCodes.recordCount),
    ];
  }
}

async function clinicalData(api: ProcessPluginApi, patientIds: readonly string[]): Promise<{ conditions: Condition[]; observations: Observation[] }> {
  const client = await repository(api);
  const conditions: Condition[] = [];
  const observations: Observation[] = [];
  for (let i = 0; i < patientIds.length; i += 50) {
    const subject = patientIds.slice(i, i + 50).map((id) => `Patient/${id}`).join(',');
    conditions.push(...(await client.searchAll<Condition>('Condition', { subject, _count: '1000' })));
    observations.push(...(await client.searchAll<Observation>('Observation', { subject, _count: '1000' })));
  }
  return { conditions, observations };
}

const subjectId = (r: Condition | Observation) => /Patient\/([^/]+)/.exec(r.subject?.reference ?? '')?.[1];

/** The TTP's pseudonyms -> the pseudonymised data set, encrypted for the DMS and stored for it alone. */
export class BuildEncryptedDataSet extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const answer = variables.getLatestTask()!;
    const dms = organizationInput(api, task, DataSharingCodes.dmsIdentifier);
    const dmsTarget = await targetOf(api, dms, correlationKeyOf(api, task));
    variables.setTarget(dmsTarget);
    const tokens = variables.getJsonVariable<Record<string, string>>(Vars.tokens) ?? {};
    // The link between tokens and patients is not needed after this step, whatever its outcome.
    variables.setJsonVariable(Vars.tokens, null);
    // The ActivityDefinition lets any TTP of the consortium send pseudonyms; only the run's TTP is heard.
    const ttp = organizationInput(api, task, DataSharingCodes.ttpIdentifier);
    if (answer.requester?.identifier?.value !== ttp) return fail(api, variables, task, 'pseudonyms not sent by the TTP of the run', new Error(`sent by ${answer.requester?.identifier?.value}`));
    const ttpFailure = api.taskHelper.getFirstInputParameterStringValue(answer, DATA_SHARING_SYSTEM, DataSharingCodes.error);
    if (ttpFailure !== undefined) return fail(api, variables, task, `TTP: ${reasonOf(ttpFailure)}`, new Error(ttpFailure));
    let pseudonyms: { token: string; pseudonym: string }[];
    try {
      const url = api.taskHelper.getFirstInputParameter(answer, DATA_SHARING_SYSTEM, DataSharingCodes.pseudonyms)?.valueReference?.reference;
      if (!url) throw new Error('pseudonyms message without pseudonyms reference');
      pseudonyms = JSON.parse((await downloadFromSender(api, answer, url, JSON_TYPE)).toString()) as { token: string; pseudonym: string }[];
      if (!Array.isArray(pseudonyms)) throw new Error('pseudonyms are not a list');
    } catch (e) {
      return fail(api, variables, task, 'pseudonyms of the TTP could not be read', e);
    }
    const byPatient = new Map<string, string>();
    for (const { token, pseudonym } of pseudonyms) if (tokens[token] && typeof pseudonym === 'string') byPatient.set(tokens[token], pseudonym);
    let bundle: Bundle;
    try {
      bundle = await dataSetOf(api, byPatient);
    } catch (e) {
      return fail(api, variables, task, repositoryFailureReason(e, 'data set export'), e);
    }
    try {
      const publicKey = await fetchRecipientKey(api, dmsTarget.endpointUrl, variables.getBusinessKey());
      const encrypted = api.cryptoService.createEcDhKem().encrypt(Buffer.from(JSON.stringify(bundle)), publicKey);
      variables.setString(Vars.dataSetUrl, await storeForRecipient(api, encrypted, ENCRYPTED_TYPE, dms, 'Pseudonymised data set, encrypted for the data management site'));
    } catch (e) {
      return fail(api, variables, task, 'data set could not be encrypted for the DMS', e);
    }
    const count = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient').length;
    variables.setInteger(Vars.recordCount, count);
    api.logger.info(`Data sharing ${projectOf(api, task)}: ${count} pseudonymised patients encrypted for ${dms}`);
  }
}

async function dataSetOf(api: ProcessPluginApi, byPatient: ReadonlyMap<string, string>): Promise<Bundle> {
  const ids = [...byPatient.keys()];
  const patients = await patientsById(api, ids);
  const { conditions, observations } = await clinicalData(api, ids);
  const data: PatientData[] = patients.map((p) => ({
    pseudonym: byPatient.get(p.id!)!,
    patient: p,
    conditions: conditions.filter((c) => subjectId(c) === p.id),
    observations: observations.filter((o) => subjectId(o) === p.id),
  }));
  return pseudonymisedDataSet(data);
}

export class SendDataSet extends MessageEndEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables, _values: unknown, _target: Target): TaskInput[] {
    return failureInput(api, variables) ?? [
      input(api, { valueReference: { reference: variables.getString(Vars.dataSetUrl)! } }, DataSharingCodes.dataSet),
      input(api, { valueInteger: variables.getInteger(Vars.recordCount)! }, DataSharingCodes.recordCount),
    ];
  }
}
