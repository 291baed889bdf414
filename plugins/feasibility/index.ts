// The feasibility plugin: a researcher at the research platform (role HRP) asks how many patients match
// a few FHIR search criteria; every data integration centre (role DIC) of the consortium counts in its
// local data repository, obfuscates the count and answers with it alone; the researcher's Task gets the
// per-site results (timeouts included) and the total.
import { definePlugin } from '../../src/plugin-api/index.ts';
import { DEFAULTS, FeasibilityProperties } from './src/constants.ts';
import { CountCohort, SelectRequester, SendFeasibilityResult } from './src/execute-activities.ts';
import { RecordSendError, RecordSiteResult, RecordTimeout, SaveFeasibilityResults, SelectFeasibilityTargets, SendFeasibilityQuery, SetCorrelationKey } from './src/request-activities.ts';

const fhir = (name: string) => `fhir/${name}`;
const codes = [fhir('CodeSystem-feasibility.json'), fhir('ValueSet-feasibility.json')];

export default definePlugin({
  name: 'dsf-ts-process-feasibility',
  version: '0.1.0.0',
  releaseDate: '2026-12-05',
  title: 'Feasibility query across data integration centres',
  publisher: 'dsf-ts',
  publisherEmail: 'dsf-ts@example.org',
  license: 'Apache2',
  processModels: ['bpe/feasibility-request.bpmn', 'bpe/feasibility-execute.bpmn'],
  fhirResources: {
    'dsf-tsdev_feasibilityRequest': [
      fhir('ActivityDefinition-feasibility-request.json'),
      ...codes,
      fhir('CodeSystem-feasibility-status.json'),
      fhir('ValueSet-feasibility-status.json'),
      fhir('StructureDefinition-extension-feasibility-site-result.json'),
      fhir('StructureDefinition-task-feasibility-request.json'),
      fhir('StructureDefinition-task-feasibility-result.json'),
      fhir('Task-feasibility-request.json'),
    ],
    'dsf-tsdev_feasibilityExecute': [fhir('ActivityDefinition-feasibility-execute.json'), ...codes, fhir('StructureDefinition-task-feasibility-query.json')],
  },
  activities: {
    'dev.dsf.ts.feasibility.SelectFeasibilityTargets': SelectFeasibilityTargets,
    'dev.dsf.ts.feasibility.SendFeasibilityQuery': SendFeasibilityQuery,
    'dev.dsf.ts.feasibility.SetCorrelationKey': SetCorrelationKey,
    'dev.dsf.ts.feasibility.RecordSiteResult': RecordSiteResult,
    'dev.dsf.ts.feasibility.RecordTimeout': RecordTimeout,
    'dev.dsf.ts.feasibility.RecordSendError': RecordSendError,
    'dev.dsf.ts.feasibility.SaveFeasibilityResults': SaveFeasibilityResults,
    'dev.dsf.ts.feasibility.CountCohort': CountCohort,
    'dev.dsf.ts.feasibility.SelectRequester': SelectRequester,
    'dev.dsf.ts.feasibility.SendFeasibilityResult': SendFeasibilityResult,
  },
  properties: {
    [FeasibilityProperties.dataRepository]: { default: DEFAULTS.dataRepository, description: 'Id of the FHIR connection (DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG) of the local data repository' },
    [FeasibilityProperties.threshold]: { default: DEFAULTS.threshold, description: 'Counts below it are reported as <threshold' },
    [FeasibilityProperties.rounding]: { default: DEFAULTS.rounding, description: 'Reported counts are rounded to a multiple of it (1: exact)' },
    [FeasibilityProperties.noise]: { default: DEFAULTS.noise, description: 'none or laplace: noise added to the count before rounding' },
    [FeasibilityProperties.epsilon]: { default: DEFAULTS.epsilon, description: 'Laplace noise: privacy budget epsilon (scale 1/epsilon)' },
    [FeasibilityProperties.consortium]: { default: DEFAULTS.consortium, description: 'Parent organisation whose DICs are asked and whose HRPs may ask' },
  },
});
