// The feasibility processes' URLs, codes, property names and variable names (our own canonical base,
// http://dsf-ts.dev; not wire-compatible with the MII feasibility plugins).

export const FEASIBILITY_SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility';
export const FeasibilityCodes = {
  criterion: 'criterion',
  siteResult: 'site-result',
  total: 'total',
  result: 'result',
  count: 'count',
  /** Instead of result and count: why the DIC could not count. */
  error: 'error',
} as const;

export const FEASIBILITY_STATUS_SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility-status';
export const FeasibilityStatus = {
  answered: 'answered',
  belowThreshold: 'below-threshold',
  timeout: 'timeout',
  notReachable: 'not-reachable',
  notAllowed: 'not-allowed',
  /** The DIC received the query but could not count (its data repository down, the query refused there). */
  error: 'error',
} as const;
export type FeasibilityStatusCode = (typeof FeasibilityStatus)[keyof typeof FeasibilityStatus];

export const SITE_RESULT_EXTENSION = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-feasibility-site-result';

/** Plugin properties (environment DEV_DSF_FEASIBILITY_*), read at the data integration centres. */
export const FeasibilityProperties = {
  /** Id of the configured FHIR connection of the local data repository. */
  dataRepository: 'dev.dsf.feasibility.data.repository',
  /** Counts below it are reported as "<threshold". */
  threshold: 'dev.dsf.feasibility.threshold',
  /** Reported counts are rounded to a multiple of it (1: exact). */
  rounding: 'dev.dsf.feasibility.rounding',
  /** none or laplace: noise added before rounding. */
  noise: 'dev.dsf.feasibility.noise',
  /** Privacy budget of the Laplace noise (scale 1/epsilon; a count has sensitivity 1). */
  epsilon: 'dev.dsf.feasibility.laplace.epsilon',
  /** Parent organisation whose DIC members are asked and whose HRP members may ask. */
  consortium: 'dev.dsf.feasibility.consortium',
} as const;

export const DEFAULTS = {
  dataRepository: 'data-repository',
  threshold: '10',
  rounding: '10',
  noise: 'none',
  epsilon: '1.0',
  consortium: 'Test_Consortium',
};

/** Process variables. */
export const FeasibilityVariables = {
  /** Local to one target's sub-process: the send outcome read by the BPMN's gateway. */
  statusCode: 'statusCode',
  errorMessage: 'errorMessage',
  /** Process level, per target: the outcome as JSON (SiteOutcome). */
  outcomeOf: (correlationKey: string) => `feasibilityOutcome_${correlationKey}`,
  /** At the DIC: the obfuscated result to send. */
  reported: 'feasibilityReported',
  count: 'feasibilityCount',
  /** At the DIC: why counting failed (sent instead of a result). */
  error: 'feasibilityError',
} as const;

/** What one DIC's sub-process ended with. */
export interface SiteOutcome {
  status: FeasibilityStatusCode;
  reported?: string;
  count?: number;
  errorMessage?: string;
}
