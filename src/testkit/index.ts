// The test kit for process plugin authors: inside a node:test test, start a network of DSF sites (FHIR
// server + BPE each, as child processes, over real TLS, on real PostgreSQL), deploy the plugin under test
// where it should run, start processes from draft Tasks, wait for Tasks, answer user tasks, stop, kill or
// restart a site, shut everything down. Unlike the plugin API itself, the kit runs the servers.
export { DATA_REPOSITORY_CONNECTION, startTestNetwork, type DataRepositoryOptions, type TestNetwork, type TestNetworkOptions, type TestSiteOptions } from './network.ts';
export type { AnswerUserTaskOptions, DataRepository, SiteProcessControl, StartProcessOptions, TaskCondition, TaskStatus, TestSite, WaitOptions } from './test-site.ts';
export { draftTaskIdentifier } from '../plugin-api/draft-tasks.ts';
export type { AnswerValue } from './user-tasks.ts';
export { waitFor } from '../common/polling.ts';
