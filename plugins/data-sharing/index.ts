// The data-sharing plugin: a researcher at the research platform (role HRP) asks for data; the
// use-and-access committee decides in a user task; on approval each data integration centre (DIC)
// selects its cohort, keeps the patients whose consent permits the purpose, and sends the trusted third
// party (TTP) only Bloom-filter encodings; the TTP links them across sites and returns keyed pseudonyms;
// each DIC encrypts its pseudonymised data set for the data management site (DMS), which decrypts and
// merges it into one record per person. Four processes, one per role.
import { definePlugin } from '../../src/plugin-api/index.ts';
import { DataSharingProperties, DEFAULTS } from './src/constants.ts';
import { BuildEncryptedDataSet, SelectConsentingCohort, SendDataSet, SendRecords, TargetRunDms } from './src/execute-activities.ts';
import { LinkAndPseudonymise, PrepareLinkage, ReceiveRecords, RecordsTimeout, SelectReportRecipient, SendPseudonyms, SendReport, SetCorrelationKey } from './src/linkage-activities.ts';
import { DataSetTimeout, MergeDataSets, PublishRecipientKey, ReceiveDataSet, SendMergeResult } from './src/merge-activities.ts';
import {
  CheckRequest,
  CommitteeTaskListener,
  RecordDecision,
  RecordLinkageReport,
  RecordMergeResult,
  SaveResults,
  SelectSites,
  SendExecute,
  SendLinkageStart,
  SendMergeStart,
  TargetDms,
  TargetTtp,
} from './src/request-activities.ts';
import { TellOfUnreachableDics } from './src/unreachable-dic.ts';

const fhir = (name: string) => `fhir/${name}`;
const codes = [fhir('CodeSystem-data-sharing.json'), fhir('ValueSet-data-sharing.json'), fhir('CodeSystem-data-sharing-status.json'), fhir('ValueSet-data-sharing-status.json'), fhir('StructureDefinition-extension-data-sharing-site-status.json')];
const NS = 'dev.dsf.ts.dataSharing.';

export default definePlugin({
  name: 'dsf-ts-process-data-sharing',
  version: '0.1.0.0',
  releaseDate: '2026-12-05',
  title: 'Data sharing with a use-and-access committee, record linkage and pseudonymisation',
  publisher: 'dsf-ts',
  publisherEmail: 'dsf-ts@example.org',
  license: 'Apache2',
  processModels: ['bpe/data-sharing-request.bpmn', 'bpe/data-sharing-execute.bpmn', 'bpe/record-linkage.bpmn', 'bpe/data-sharing-merge.bpmn'],
  fhirResources: {
    'dsf-tsdev_dataSharingRequest': [
      fhir('ActivityDefinition-data-sharing-request.json'),
      ...codes,
      fhir('Questionnaire-data-sharing-committee.json'),
      fhir('StructureDefinition-task-data-sharing-request.json'),
      fhir('StructureDefinition-task-record-linkage-report.json'),
      fhir('StructureDefinition-task-data-sharing-merge-result.json'),
      fhir('Task-data-sharing-request.json'),
    ],
    'dsf-tsdev_dataSharingExecute': [fhir('ActivityDefinition-data-sharing-execute.json'), ...codes, fhir('StructureDefinition-task-data-sharing-execute.json'), fhir('StructureDefinition-task-record-linkage-pseudonyms.json')],
    'dsf-tsdev_recordLinkage': [fhir('ActivityDefinition-record-linkage.json'), ...codes, fhir('StructureDefinition-task-record-linkage-start.json'), fhir('StructureDefinition-task-record-linkage-records.json')],
    'dsf-tsdev_dataSharingMerge': [fhir('ActivityDefinition-data-sharing-merge.json'), ...codes, fhir('StructureDefinition-task-data-sharing-merge-start.json'), fhir('StructureDefinition-task-data-sharing-data.json')],
  },
  activities: Object.fromEntries(
    Object.entries({
      CheckRequest,
      CommitteeTaskListener,
      RecordDecision,
      SelectSites,
      TargetDms,
      TargetTtp,
      SendMergeStart,
      SendLinkageStart,
      SendExecute,
      TellOfUnreachableDics,
      RecordLinkageReport,
      RecordMergeResult,
      SaveResults,
      SelectConsentingCohort,
      SendRecords,
      BuildEncryptedDataSet,
      SendDataSet,
      TargetRunDms,
      PrepareLinkage,
      SetCorrelationKey,
      ReceiveRecords,
      RecordsTimeout,
      LinkAndPseudonymise,
      SendPseudonyms,
      SelectReportRecipient,
      SendReport,
      PublishRecipientKey,
      ReceiveDataSet,
      DataSetTimeout,
      MergeDataSets,
      SendMergeResult,
    }).map(([name, cls]) => [NS + name, cls]),
  ),
  properties: {
    [DataSharingProperties.consortium]: { default: DEFAULTS.consortium, description: 'Parent organisation whose HRP, DICs, TTP and DMS take part' },
    [DataSharingProperties.dataRepository]: { default: DEFAULTS.dataRepository, description: 'DIC: id of the FHIR connection (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG) of the local data repository' },
    [DataSharingProperties.linkageKey]: { description: 'DIC: secret key of the Bloom-filter encoding of quasi-identifiers, the same at every DIC, never at the TTP' },
    [DataSharingProperties.linkageThreshold]: { default: DEFAULTS.linkageThreshold, description: 'TTP: Dice similarity from which two records of different DICs are one person' },
    [DataSharingProperties.pseudonymKey]: { description: 'TTP: secret key of the pseudonym function (HMAC-SHA-256 over project and linked records)' },
  },
});
