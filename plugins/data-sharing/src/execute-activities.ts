// The data integration centre's side (process dataSharingExecute): select the cohort in the local data
// repository, keep the patients whose consent permits the purpose, give each a random record token and
// send the TTP only tokens and Bloom-filter encodings (CLKs) of their quasi-identifiers. When the TTP's
// pseudonyms arrive, build the pseudonymised data set, encrypt it for the data management site and send
// it there. Token -> patient stays in this process instance; nothing identifying leaves the site.
import { randomBytes } from 'node:crypto';
import type { Bundle, Condition, Observation, Patient, Task, TaskInput } from '@medplum/fhirtypes';
import { BpmnMessage, MessageEndEvent, MessageIntermediateThrowEvent, ServiceTask, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { selectCohort } from '../../research-common/cohort-selection.ts';
import { checkCriterion } from '../../research-common/criterion-check.ts';
import { DATA_SHARING_SYSTEM, DataSharingCodes, DataSharingProperties, DEFAULTS, Vars } from './constants.ts';
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

export class SelectConsentingCohort extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const task = startTask(variables);
    const key = api.properties.get(DataSharingProperties.linkageKey);
    if (!key) throw new Error(`${DataSharingProperties.linkageKey} (the DICs' shared record linkage key) is not set`);
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
    const ttp = organizationInput(api, task, DataSharingCodes.ttpIdentifier);
    const url = await storeForRecipient(api, Buffer.from(JSON.stringify(records)), JSON_TYPE, ttp, 'Record linkage records (tokens and CLKs)');
    variables.setJsonVariable(Vars.tokens, tokens);
    variables.setString(Vars.recordsUrl, url);
    variables.setInteger(Vars.recordCount, records.length);
    variables.setTarget(await targetOf(api, ttp, correlationKeyOf(api, task)));
  }
}

export class SendRecords extends MessageIntermediateThrowEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables): TaskInput[] {
    return [
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
    const url = api.taskHelper.getFirstInputParameter(answer, DATA_SHARING_SYSTEM, DataSharingCodes.pseudonyms)?.valueReference?.reference;
    if (!url) throw new Error('pseudonyms message without pseudonyms reference');
    const pseudonyms = JSON.parse((await downloadFromSender(api, answer, url, JSON_TYPE)).toString()) as { token: string; pseudonym: string }[];
    const tokens = variables.getJsonVariable<Record<string, string>>(Vars.tokens) ?? {};
    const byPatient = new Map<string, string>();
    for (const { token, pseudonym } of pseudonyms) if (tokens[token]) byPatient.set(tokens[token], pseudonym);
    const ids = [...byPatient.keys()];
    const patients = await patientsById(api, ids);
    const { conditions, observations } = await clinicalData(api, ids);
    const data: PatientData[] = patients.map((p) => ({
      pseudonym: byPatient.get(p.id!)!,
      patient: p,
      conditions: conditions.filter((c) => subjectId(c) === p.id),
      observations: observations.filter((o) => subjectId(o) === p.id),
    }));
    const bundle: Bundle = pseudonymisedDataSet(data);
    const dms = organizationInput(api, task, DataSharingCodes.dmsIdentifier);
    const dmsTarget = await targetOf(api, dms, correlationKeyOf(api, task));
    const publicKey = await fetchRecipientKey(api, dmsTarget.endpointUrl, variables.getBusinessKey());
    const encrypted = api.cryptoService.createEcDhKem().encrypt(Buffer.from(JSON.stringify(bundle)), publicKey);
    variables.setString(Vars.dataSetUrl, await storeForRecipient(api, encrypted, ENCRYPTED_TYPE, dms, 'Pseudonymised data set, encrypted for the data management site'));
    variables.setInteger(Vars.recordCount, data.length);
    variables.setTarget(dmsTarget);
    // The link between tokens and patients is no longer needed.
    variables.setJsonVariable(Vars.tokens, null);
    api.logger.info(`Data sharing ${projectOf(api, task)}: ${data.length} pseudonymised patients encrypted for ${dms}`);
  }
}

export class SendDataSet extends MessageEndEvent {
  override getAdditionalInputParameters(api: ProcessPluginApi, variables: Variables, _values: unknown, _target: Target): TaskInput[] {
    return [
      input(api, { valueReference: { reference: variables.getString(Vars.dataSetUrl)! } }, DataSharingCodes.dataSet),
      input(api, { valueInteger: variables.getInteger(Vars.recordCount)! }, DataSharingCodes.recordCount),
    ];
  }
}
