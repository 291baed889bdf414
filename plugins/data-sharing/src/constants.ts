// The data-sharing processes' URLs, codes, property names and variable names (our own canonical base,
// http://dsf-ts.dev; not wire-compatible with the MII data-sharing plugins).

export const DATA_SHARING_SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/data-sharing';
/** Task input and output codes of all four processes. */
export const DataSharingCodes = {
  projectIdentifier: 'project-identifier',
  purpose: 'purpose',
  criterion: 'criterion',
  dmsIdentifier: 'dms-identifier',
  ttpIdentifier: 'ttp-identifier',
  /** `<organization identifier>|<correlation key>` of a DIC taking part. */
  expectedSite: 'expected-site',
  /** A Binary on the sender's FHIR server, readable only by the recipient. */
  records: 'records',
  pseudonyms: 'pseudonyms',
  dataSet: 'data-set',
  /** Patients (records) a DIC contributes. */
  recordCount: 'record-count',
  decision: 'decision',
  comment: 'comment',
  siteStatus: 'site-status',
  persons: 'persons',
  personsAtSeveralSites: 'persons-at-several-sites',
  mergedDataSet: 'merged-data-set',
  /** Why a site (or the DMS) could not do its part: a fixed reason, never personal data. */
  error: 'error',
} as const;

export const DATA_SHARING_STATUS_SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/data-sharing-status';
export const DataSharingStatus = {
  approved: 'approved',
  rejected: 'rejected',
  delivered: 'delivered',
  noConsentingPatients: 'no-consenting-patients',
  notReachable: 'not-reachable',
  timeout: 'timeout',
  error: 'error',
  /** HRP: the DMS's result did not arrive, so what the DMS got from the DIC is not known. */
  unknown: 'unknown',
} as const;
export type DataSharingStatusCode = (typeof DataSharingStatus)[keyof typeof DataSharingStatus];

export const SITE_STATUS_EXTENSION = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-data-sharing-site-status';
export const COMMITTEE_QUESTIONNAIRE = 'http://dsf-ts.dev/fhir/Questionnaire/data-sharing-committee';
/** linkIds of the committee's questionnaire. */
export const CommitteeItems = { project: 'project', purpose: 'purpose', criteria: 'criteria', approve: 'approve', comment: 'comment' } as const;

/** Identifier system of the DMS's published encryption key (DocumentReference), value: the business key. */
export const RECIPIENT_KEY_SID = 'http://dsf-ts.dev/sid/data-sharing-recipient-key';
/** Identifier system of the DocumentReferences that are the security context of exchanged Binaries. */
export const EXCHANGE_SID = 'http://dsf-ts.dev/sid/data-sharing-exchange';
/** Identifier system of the pseudonyms in the shared data set. */
export const PSEUDONYM_SID = 'http://dsf-ts.dev/sid/data-sharing-pseudonym';
/** Identifier system of the merged data set Bundle at the DMS, value: project identifier. */
export const MERGED_DATA_SET_SID = 'http://dsf-ts.dev/sid/data-sharing-merged-data-set';

export const PROCESS_URL_BASE = 'http://dsf-ts.dev/bpe/Process';

/** Plugin properties (environment DEV_DSF_DATA_SHARING_*). */
export const DataSharingProperties = {
  consortium: 'dev.dsf.data.sharing.consortium',
  dataRepository: 'dev.dsf.data.sharing.data.repository',
  /** DIC: key of the Bloom-filter encoding, shared by the DICs, never by the TTP. */
  linkageKey: 'dev.dsf.data.sharing.linkage.key',
  /** TTP: Dice similarity from which two records are one person. */
  linkageThreshold: 'dev.dsf.data.sharing.linkage.threshold',
  /** TTP: secret of the keyed pseudonym function (HMAC-SHA-256). */
  pseudonymKey: 'dev.dsf.data.sharing.pseudonym.key',
} as const;

export const DEFAULTS = {
  consortium: 'Test_Consortium',
  dataRepository: 'data-repository',
  linkageThreshold: '0.8',
};

/** Process variables. */
export const Vars = {
  statusCode: 'statusCode',
  errorMessage: 'errorMessage',
  approved: 'approved',
  dmsTarget: 'dmsTarget',
  ttpTarget: 'ttpTarget',
  /** HRP: per DIC the send outcome; TTP/DMS: per DIC what arrived. */
  outcomeOf: (correlationKey: string) => `siteOutcome_${correlationKey}`,
  /** DIC: token -> local patient id (never leaves the DIC's BPE). */
  tokens: 'recordTokens',
  recordsUrl: 'recordsUrl',
  dataSetUrl: 'dataSetUrl',
  recordCount: 'recordCount',
  /** TTP: the per-DIC pseudonym Binaries. */
  pseudonymsUrlOf: (correlationKey: string) => `pseudonymsUrl_${correlationKey}`,
  report: 'linkageReport',
  /** DMS: the key pair of this run (private key PKCS#8 PEM). */
  privateKey: 'recipientPrivateKey',
  mergeResult: 'mergeResult',
  /** Why this site's part failed (sent instead of data; no personal data). */
  failure: 'failure',
  /** Boolean: this site's part failed (the BPMN takes the error path). */
  failed: 'failed',
} as const;

/** What happened with one DIC, as the TTP, the DMS and the HRP record it. */
export interface SiteOutcome {
  status: DataSharingStatusCode;
  records?: number;
  errorMessage?: string;
}

/** Another site's failure reason as it is passed on: one line, bounded (it is shown to the researcher). */
export const reasonOf = (text: string) => text.replace(/\s+/g, ' ').slice(0, 200);
