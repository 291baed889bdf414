// The allow-list process plugin, wire-compatible with the reference's dsf-process-allow-list 1.0.0.1:
// updateAllowList runs at the organisation that manages the network's allow list (DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION,
// as the reference's property dev.dsf.bpe.allow.list.organization) and publishes its Organizations,
// Endpoints and OrganizationAffiliations as a transaction Bundle; downloadAllowList runs at each member,
// reads that Bundle, checks it and applies it locally. The BPMN names the reference's Java classes.
import { definePlugin } from '../../src/plugin-api/index.ts';
import { CheckAllowList } from './src/check-allow-list.ts';
import { DownloadAllowList } from './src/download-allow-list.ts';
import { InsertAllowList } from './src/insert-allow-list.ts';
import { UpdateAllowList } from './src/update-allow-list.ts';

const terminology = ['fhir/CodeSystem-allow-list.json', 'fhir/ValueSet-allow-list.json'];

export default definePlugin({
  name: 'dsf-process-allow-list',
  version: '1.0.0.1',
  releaseDate: '2023-09-14',
  title: 'Allow list of the organisations of a network',
  publisher: 'DSF',
  publisherEmail: 'pmo@dsf.dev',
  license: 'Apache2',
  processModels: ['bpe/update-allow-list.bpmn', 'bpe/download-allow-list.bpmn'],
  fhirResources: {
    dsfdev_updateAllowList: [...terminology, 'fhir/ActivityDefinition-update-allow-list.json', 'fhir/StructureDefinition-task-update-allow-list.json', 'fhir/Task-update-allow-list.json'],
    dsfdev_downloadAllowList: [
      ...terminology,
      'fhir/ActivityDefinition-download-allow-list.json',
      'fhir/StructureDefinition-task-download-allow-list.json',
      'fhir/Task-download-allow-list.json',
    ],
  },
  activities: {
    'dev.dsf.bpe.service.UpdateAllowList': UpdateAllowList,
    'dev.dsf.bpe.service.DownloadAllowList': DownloadAllowList,
    'dev.dsf.bpe.service.CheckAllowList': CheckAllowList,
    'dev.dsf.bpe.service.InsertAllowList': InsertAllowList,
  },
});
