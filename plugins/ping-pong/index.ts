// The ping-pong process plugin: ping, pong and ping-autostart, wire-compatible with the reference's
// dsf-process-ping-pong 1.0.1.0 (same process URLs, Task profiles, messages, codes and outputs). The
// BPMN names the reference's Java classes; they map to the TypeScript activities here.
import { definePlugin } from '../../src/plugin-api/index.ts';
import { LogSendError, LogNoResponse, LogPong } from './src/target-outcomes.ts';
import { SaveResults } from './src/save-results.ts';
import { SelectPingTargets } from './src/select-ping-targets.ts';
import { SendPing } from './src/send-ping.ts';
import { SetCorrelationKeyListener } from './src/set-correlation-key-listener.ts';
import { LogPing, SelectPongTarget, SendPong } from './src/pong-activities.ts';
import { SendStartPing, SetTargetAndConfigureTimer } from './src/autostart-activities.ts';

const fhir = (name: string) => `fhir/${name}`;
const codeSystemsAndValueSets = [fhir('CodeSystem-ping.json'), fhir('ValueSet-ping.json')];
const status = [fhir('CodeSystem-ping-status.json'), fhir('StructureDefinition-extension-ping-status.json')];

export default definePlugin({
  name: 'dsf-process-ping-pong',
  version: '1.0.1.0',
  releaseDate: '2023-09-12',
  title: 'Ping / pong communication test',
  publisher: 'DSF',
  publisherEmail: 'pmo@dsf.dev',
  license: 'Apache2',
  processModels: ['bpe/ping-autostart.bpmn', 'bpe/ping.bpmn', 'bpe/pong.bpmn'],
  fhirResources: {
    dsfdev_ping: [
      fhir('ActivityDefinition-ping.json'),
      ...codeSystemsAndValueSets,
      ...status,
      fhir('StructureDefinition-task-start-ping.json'),
      fhir('StructureDefinition-task-pong.json'),
      fhir('Task-start-ping.json'),
      fhir('ValueSet-ping-status.json'),
    ],
    dsfdev_pingAutostart: [
      fhir('ActivityDefinition-ping-autostart.json'),
      ...codeSystemsAndValueSets,
      fhir('StructureDefinition-task-start-ping-autostart.json'),
      fhir('StructureDefinition-task-stop-ping-autostart.json'),
      fhir('Task-start-ping-autostart.json'),
      fhir('Task-stop-ping-autostart.json'),
    ],
    dsfdev_pong: [
      fhir('ActivityDefinition-pong.json'),
      ...codeSystemsAndValueSets,
      ...status,
      fhir('StructureDefinition-task-ping.json'),
      fhir('ValueSet-pong-status.json'),
    ],
  },
  activities: {
    'dev.dsf.bpe.service.SelectPingTargets': SelectPingTargets,
    'dev.dsf.bpe.message.SendPing': SendPing,
    'dev.dsf.bpe.listener.SetCorrelationKeyListener': SetCorrelationKeyListener,
    'dev.dsf.bpe.service.LogPong': LogPong,
    'dev.dsf.bpe.service.LogNoResponse': LogNoResponse,
    'dev.dsf.bpe.service.LogSendError': LogSendError,
    'dev.dsf.bpe.service.SaveResults': SaveResults,
    'dev.dsf.bpe.service.LogPing': LogPing,
    'dev.dsf.bpe.service.SelectPongTarget': SelectPongTarget,
    'dev.dsf.bpe.message.SendPong': SendPong,
    'dev.dsf.bpe.service.SetTargetAndConfigureTimer': SetTargetAndConfigureTimer,
    'dev.dsf.bpe.message.SendStartPing': SendStartPing,
  },
});
