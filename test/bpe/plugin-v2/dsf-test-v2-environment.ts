// The environment the API v2 test plugin runs in (as the reference's PluginV2IntegrationTest): a FHIR
// server and a BPE for Test_Organization, an external member and a parent organisation with
// affiliations (the fixture's init bundle), two users with different practitioner roles, an
// asynchronous FHIR data server on loopback, generated certificate files, a stored Binary, the proxy
// and the plugin's environment. Shared by test/bpe/plugin-v2/dsf-test-v2.test.ts (our port) and
// scripts/run-reference-test-plugins.ts (the reference's BPMN and FHIR files with our activities).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@medplum/fhirtypes';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import { readBpeConfig } from '../../../src/bpe/config.ts';
import { dataLoggerConfigFromEnv } from '../../../src/bpe/api-services/data-logger/data-logger-config.ts';
import { generateCertificates, type CertificateSet } from '../../../src/cli/certs.ts';
import { createPkcs12 } from '../../../src/common/pkcs12.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { startAsyncDataServer, type AsyncDataServer } from '../support/async-data-server.ts';
import { waitFor } from '../../../src/common/polling.ts';
import { recordingLogger } from '../server/bpe-support.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const NETWORK_BUNDLE = join(FIXTURES, 'dsf-test-v2-network', 'network-bundle.json');
const JAVA = join(FIXTURES, 'java-interop');
const TEST_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/test';
const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
const ORG_SID = 'http://dsf.dev/sid/organization-identifier';
const PRACTITIONER_ROLE = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';

export interface DsfTestV2Environment {
  certs: CertificateSet;
  site: TestSite;
  data: AsyncDataServer;
  bpe: RunningBpe;
  /** The BPE's log, line by line. */
  logLines: string[];
  /** Where the data logger writes bpe-data.log. */
  dataLogDir: string;
  stop(): Promise<void>;
}

/** The reference's createCaCerKeyFiles: certificate, key and key store files, here the Java-written PKI plus a server PKCS#12 we write. */
function cryptoFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-test-v2-crypto-'));
  for (const f of readdirSync(join(JAVA, 'pki'))) copyFileSync(join(JAVA, 'pki', f), join(dir, f));
  const serverKey = createPrivateKey({ key: readFileSync(join(dir, 'server.key'), 'utf8'), passphrase: 'password' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(dir, 'server.p12'), createPkcs12({ keyPem: serverKey, certificatePems: [readFileSync(join(dir, 'server.crt'), 'utf8'), readFileSync(join(dir, 'ca.crt'), 'utf8')], password: 'password', friendlyName: 'server' }));
  return dir;
}

/** Starts the whole environment with the plugins found in pluginDirectory (one folder per plugin). */
export async function startDsfTestV2Environment(pluginDirectory: string): Promise<DsfTestV2Environment> {
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
  };
  try {
    const certs = await generateCertificates({
      dir: mkdtempSync(join(tmpdir(), 'dsf-test-v2-certs-')),
      organizations: ['Test_Organization', 'External_Test_Organization'],
      users: [
        { name: 'dic-user', email: 'dic-user@test.org' },
        { name: 'uac-user', email: 'uac-user@test.org' },
      ],
    });
    const user = (name: string) => certs.users[name]!;
    const roleConfig = ['dic-user', 'uac-user']
      .map(
        (name) => `
- ${name}:
    thumbprint: ${user(name).thumbprint}
    dsf-role:
      - CREATE: [Task]
      - READ: &tqqr [Task, Questionnaire, QuestionnaireResponse]
      - UPDATE: [QuestionnaireResponse]
      - SEARCH: *tqqr
      - HISTORY: *tqqr
    practitioner-role:
      - ${PRACTITIONER_ROLE}|${name === 'dic-user' ? 'DIC_USER' : 'UAC_USER'}`,
      )
      .join('');
    const site = await startTestSite({
      certificates: certs,
      organization: 'Test_Organization',
      roleConfig,
      configFor: (baseUrl) => ({
        organizationIdentifier: 'Test_Organization',
        initBundle: NETWORK_BUNDLE,
        env: { DSF_TEST_ENDPOINT_ADDRESS: baseUrl, DSF_TEST_EXTERNAL_THUMBPRINT: certs.organizations['External_Test_Organization']!.client.thumbprint },
      }),
    });
    started.push(site);
    const server = certs.organizations['Test_Organization']!.server;
    const data = await startAsyncDataServer({ certPem: readFileSync(server.certPath, 'utf8'), keyPem: readFileSync(server.keyPath, 'utf8') });
    started.push({ stop: () => data.close() });

    // The stored Binary DsfClientTest reads (whole, by version, by range).
    const binary = await site.client.post('/Binary', { resourceType: 'Binary', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] }, contentType: 'application/octet-stream', data: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).toString('base64') });
    assert.equal(binary.status, 201, binary.body);

    // Keys encrypted with a password, as the reference's connections configure them.
    const encrypted = (keyPath: string, name: string) => {
      const path = join(certs.dir, `${name}.encrypted.key`);
      writeFileSync(path, createPrivateKey(readFileSync(keyPath, 'utf8')).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'password' }) as string);
      return path;
    };
    const organization = certs.organizations['Test_Organization']!.client;
    const connections = `
test-fhir-data-server:
  base-url: '${data.baseUrl}'
dsf-fhir-server:
  base-url: '${site.baseUrl}'
  test-connection-on-startup: yes
  enable-debug-logging: no
  cert-auth:
    private-key-file: '${encrypted(organization.keyPath, 'organization')}'
    certificate-file: '${organization.certPath}'
    password: password
via-proxy:
  base-url: 'http://via.proxy/fhir'
dic-user:
  base-url: '${site.baseUrl}'
  cert-auth:
    private-key-file: '${encrypted(user('dic-user').keyPath, 'dic-user')}'
    certificate-file: '${user('dic-user').certPath}'
    password: password
uac-user:
  base-url: '${site.baseUrl}'
  cert-auth:
    private-key-file: '${encrypted(user('uac-user').keyPath, 'uac-user')}'
    certificate-file: '${user('uac-user').certPath}'
    password: password
`;
    const dataLogDir = mkdtempSync(join(tmpdir(), 'dsf-test-v2-log-'));
    const env: Record<string, string> = {
      DEV_DSF_BPE_FHIR_SERVER_BASE_URL: site.baseUrl,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: organization.certPath,
      DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: organization.keyPath,
      DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certs.ca.certPath,
      DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: pluginDirectory,
      DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_MAX: '10',
      DEV_DSF_BPE_FHIR_TASK_SUBSCRIPTION_RETRY_SLEEP: 'PT0.2S',
      DEV_DSF_PROXY_URL: 'http://proxy:8080',
      DEV_DSF_PROXY_USERNAME: 'proxy_username',
      DEV_DSF_PROXY_PASSWORD: 'proxy_password',
      DEV_DSF_PROXY_NOPROXY: 'localhost, noproxy:443',
      DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: connections,
      DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG_DEFAULT_TRUST_SERVER_CERTIFICATE_CAS: certs.ca.certPath,
      DEV_DSF_LOG_DATA_FILE_ENABLED: 'true',
      DEV_DSF_BPE_TEST_ENV_MANDATORY: 'test-value',
      DEV_DSF_BPE_TEST_CRYPTO_DIRECTORY: cryptoFiles(),
      DEV_DSF_BPE_TEST_COMPRESSION_DIRECTORY: join(JAVA, 'compression'),
    };
    const config = { ...readBpeConfig(env), dataLogger: dataLoggerConfigFromEnv(env, dataLogDir) };
    const db: TestDatabase = await createTestDatabase('dsf_bpe_v2');
    started.push({ stop: () => db.drop() });
    const recorded = recordingLogger();
    const bpe = await startBpeServer(config, { pool: db.pool, logger: recorded.logger, jobPollIntervalMs: 50 });
    started.push(bpe);
    await bpe.connected();
    return { certs, site, data, bpe, logLines: recorded.lines, dataLogDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The start Task of process test|<processVersion> that names a test activity. */
export function startTask(activity: string, processVersion = '2.0'): Task {
  return {
    resourceType: 'Task',
    meta: { profile: [`http://dsf.dev/fhir/StructureDefinition/task-test|${processVersion}`] },
    instantiatesCanonical: `http://dsf.dev/bpe/Process/test|${processVersion}`,
    status: 'requested',
    intent: 'order',
    authoredOn: new Date().toISOString(),
    requester: { type: 'Organization', identifier: { system: ORG_SID, value: 'Test_Organization' } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_SID, value: 'Test_Organization' } }] },
    input: [
      { type: { coding: [{ system: BPMN_MESSAGE, code: 'message-name' }] }, valueString: 'start' },
      { type: { coding: [{ system: TEST_SYSTEM, code: 'test-activity' }] }, valueString: activity },
    ],
  };
}

const outputs = (task: Task, code: string) => (task.output ?? []).filter((o) => o.type?.coding?.[0]?.system === TEST_SYSTEM && o.type.coding[0].code === code).map((o) => o.valueString!);

export interface ActivityRun {
  /** One line: the activity, how many declared methods succeeded, which failed. */
  summary: string;
  /** Everything that was not as it should be; empty when the branch passed. */
  problems: string[];
}

/**
 * Runs one test activity branch (one start Task) and checks its outcome: the Task completed in three
 * versions with one business-key input, one success output per declared test method and no
 * test-method-failed output.
 */
export async function runTestActivity(site: TestSite, activity: string, declared: readonly string[], processVersion = '2.0'): Promise<ActivityRun> {
  const problems: string[] = [];
  const created = await site.client.post('/Task', startTask(activity, processVersion));
  if (created.status !== 201) return { summary: `${activity}: start Task refused (${created.status})`, problems: [`${activity}: start Task refused: ${created.status} ${created.body}`] };
  if (created.json.meta.versionId !== '1') problems.push(`${activity}: created Task version ${created.json.meta.versionId}`);
  const done: Task = await waitFor(
    `Task of ${activity} to finish`,
    async () => {
      const t = (await site.client.get(`/Task/${created.json.id}`)).json as Task;
      return t.status === 'completed' || t.status === 'failed' ? t : undefined;
    },
    120_000,
  );
  const succeeded = outputs(done, 'test-method-succeeded');
  const failed = outputs(done, 'test-method-failed');
  const businessKeys = (done.input ?? []).filter((i) => i.type?.coding?.[0]?.system === BPMN_MESSAGE && i.type.coding[0].code === 'business-key');
  if (done.status !== 'completed') problems.push(`${activity}: Task ${done.status} ${JSON.stringify(done.output?.filter((o) => o.type?.coding?.[0]?.code === 'error'))}`);
  if (done.meta?.versionId !== '3') problems.push(`${activity}: Task version ${done.meta?.versionId}, expected 3 (requested, in-progress, completed)`);
  if (businessKeys.length !== 1 || !/^[0-9a-f-]{36}$/.test(businessKeys[0]!.valueString ?? '')) problems.push(`${activity}: business-key input ${JSON.stringify(businessKeys)}`);
  if (failed.length) problems.push(`${activity}: failed test methods ${failed.join(', ')}`);
  const missing = declared.filter((m) => !succeeded.includes(m));
  if (missing.length) problems.push(`${activity}: no success output for ${missing.join(', ')}`);
  if (succeeded.length !== declared.length) problems.push(`${activity}: ${succeeded.length} success outputs for ${declared.length} declared methods`);
  return { summary: `${activity}: ${succeeded.length}/${declared.length} succeeded${failed.length ? `, failed: ${failed.join(', ')}` : ''}`, problems };
}
