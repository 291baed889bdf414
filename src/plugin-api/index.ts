// The DSF process plugin API: the only module process plugins import. Contracts (activities,
// variables, services, FHIR client) and small pure helpers; the BPE server implements the services.
export * from './constants.ts';
export * from './definition.ts';
export * from './activities.ts';
export * from './default-user-task-listener.ts';
export * from './errors.ts';
export * from './fhir-client.ts';
export * from './services.ts';
export * from './targets.ts';
export * from './task-sender.ts';
export * from './variables.ts';
export { TaskHelper } from './task-helper.ts';
export { QuestionnaireResponseHelper, type Answer } from './questionnaire-response-helper.ts';
export { ReadAccessHelper } from './read-access-helper.ts';
export * from './services/compression.ts';
export * from './services/crypto.ts';
export * from './services/data-logger.ts';
export * from './services/mime-type.ts';
