// Shared by the BPE server tests: client settings and configuration for a test site's organisation, loggers, Tasks.
import { readFileSync } from 'node:fs';
import type { CertificateSet } from '../../../src/cli/certs.ts';
import type { ClientSettings } from '../../../src/bpe/client/dsf-client-provider.ts';

/** The BPE of `org` talking to the FHIR server at baseUrl with the organisation's client certificate. */
export function clientSettings(certs: CertificateSet, org: string, baseUrl: string): ClientSettings {
  const c = certs.organizations[org]!.client;
  return {
    fhirServerBaseUrl: baseUrl,
    clientCertificate: readFileSync(c.certPath, 'utf8'),
    clientCertificateKey: readFileSync(c.keyPath, 'utf8'),
    trustedServerCas: [readFileSync(certs.ca.certPath, 'utf8')],
    localConnectTimeoutMs: 2_000,
    localReadTimeoutMs: 30_000,
    remoteConnectTimeoutMs: 2_000,
    remoteReadTimeoutMs: 30_000,
  };
}

import type { BpeConfig } from '../../../src/bpe/config.ts';
import { dataLoggerConfigFromEnv } from '../../../src/bpe/api-services/data-logger/data-logger-config.ts';
import { BpeLogger, type LogLevel } from '../../../src/bpe/services/logging.ts';

/** A BPE configuration for the organisation of a test site (no database URL: tests pass their pool). */
export function bpeConfig(certs: CertificateSet, org: string, baseUrl: string, overrides: Partial<BpeConfig> = {}): BpeConfig {
  return {
    ...clientSettings(certs, org, baseUrl),
    taskSubscriptionSearch: '?criteria:exact=Task%3Fstatus%3Drequested&status=active&type=websocket&payload=application/fhir%2Bjson',
    questionnaireResponseSubscriptionSearch: '?criteria:exact=QuestionnaireResponse%3Fstatus%3Dcompleted&status=active&type=websocket&payload=application/fhir%2Bjson',
    subscriptionRetryMax: 5,
    subscriptionRetrySleepMs: 100,
    fhirServerRetryMax: 2,
    fhirServerRetrySleepMs: 100,
    catchUpOverlapMs: 5_000,
    pluginDirectory: '/nonexistent',
    extraPluginDirectories: [],
    excluded: [],
    retired: [],
    dataDir: '/nonexistent',
    mail: { port: 0, useSmtps: false, toAddresses: [], toAddressesCc: [], replyToAddresses: [] },
    dataLogger: dataLoggerConfigFromEnv({}),
    env: { TEST_PLUGIN_GREETING: 'Hello from the environment' },
    ...overrides,
  };
}

/** A logger that keeps every line (printed too when DSF_TEST_VERBOSE is set). */
export function recordingLogger(): { logger: BpeLogger; lines: string[] } {
  const lines: string[] = [];
  const logger = new BpeLogger((level: LogLevel, message: string) => {
    lines.push(`${level} ${message}`);
    if (process.env.DSF_TEST_VERBOSE) console.log(`${new Date().toISOString().slice(11, 23)} ${level} ${message}`);
  });
  return { logger, lines };
}

export const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
export const TEST_SYSTEM = 'http://test.org/fhir/CodeSystem/test';
export const TASK_PROFILE = 'http://test.org/fhir/StructureDefinition/task-test|1.0';

export interface RequestedTaskOptions {
  process: string;
  message: string;
  requester: string;
  recipient: string;
  businessKey?: string;
  correlationKey?: string;
  version?: string;
  /** Inputs of the test CodeSystem: code -> string value. */
  inputs?: Record<string, string>;
}

/** A requested Task of the test plugin's profile. */
export function requestedTask(o: RequestedTaskOptions): any {
  const input: object[] = [{ type: { coding: [{ system: BPMN_MESSAGE, code: 'message-name' }] }, valueString: o.message }];
  if (o.businessKey) input.push({ type: { coding: [{ system: BPMN_MESSAGE, code: 'business-key' }] }, valueString: o.businessKey });
  if (o.correlationKey) input.push({ type: { coding: [{ system: BPMN_MESSAGE, code: 'correlation-key' }] }, valueString: o.correlationKey });
  for (const [code, value] of Object.entries(o.inputs ?? {})) input.push({ type: { coding: [{ system: TEST_SYSTEM, code }] }, valueString: value });
  return {
    resourceType: 'Task',
    meta: { profile: [`http://test.org/fhir/StructureDefinition/task-test|${o.version ?? '1.0'}`] },
    instantiatesCanonical: `http://test.org/bpe/Process/${o.process}|${o.version ?? '1.0'}`,
    status: 'requested',
    intent: 'order',
    authoredOn: new Date().toISOString(),
    requester: { type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: o.requester } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: o.recipient } }] },
    input,
  };
}
