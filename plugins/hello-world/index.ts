// The hello-world process plugin, as the reference's dsf-process-hello-world 1.5.0.0: helloWorld (a
// service task that logs a greeting) and helloUser (a user task answered through a QuestionnaireResponse,
// whose answers the process logs). Both start from the draft Tasks in fhir/.
import { definePlugin } from '../../src/plugin-api/index.ts';
import { HelloWorld } from './src/hello-world.ts';
import { LogUserTaskResponse } from './src/log-user-task-response.ts';

export default definePlugin({
  name: 'dsf-process-hello-world',
  version: '1.5.0.0',
  releaseDate: '2024-02-21',
  title: 'Hello world example processes',
  publisher: 'DSF',
  publisherEmail: 'pmo@dsf.dev',
  license: 'Apache2',
  processModels: ['bpe/hello-world.bpmn', 'bpe/hello-user.bpmn'],
  fhirResources: {
    dsfdev_helloWorld: [
      'fhir/ActivityDefinition-hello-world.json',
      'fhir/CodeSystem-hello-world.json',
      'fhir/StructureDefinition-task-hello-world.json',
      'fhir/Task-hello-world.json',
      'fhir/ValueSet-hello-world.json',
    ],
    dsfdev_helloUser: ['fhir/ActivityDefinition-hello-user.json', 'fhir/Questionnaire-hello-user.json', 'fhir/StructureDefinition-task-hello-user.json', 'fhir/Task-hello-user.json'],
  },
  activities: {
    'dev.dsf.bpe.service.HelloWorld': HelloWorld,
    'dev.dsf.bpe.service.LogUserTaskResponse': LogUserTaskResponse,
  },
});
