// The services plugins get: organisation, endpoint and target look-ups over the local FHIR server,
// mail over SMTP (or to the log), the data logger that keeps resource contents out unless enabled,
// read-access tags.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BpeDsfClientProvider } from '../../../src/bpe/client/dsf-client-provider.ts';
import { FhirEndpointProvider } from '../../../src/bpe/services/endpoint-provider.ts';
import { LoggingMailService } from '../../../src/bpe/services/mail-service.ts';
import { createDataLogger } from '../../../src/bpe/api-services/data-logger/data-logger.ts';
import { dataLoggerConfigFromEnv } from '../../../src/bpe/api-services/data-logger/data-logger-config.ts';
import { createCompressionService } from '../../../src/bpe/api-services/compression/compression-service.ts';
import { createCryptoService } from '../../../src/bpe/api-services/crypto/crypto-service.ts';
import { createMimeTypeService } from '../../../src/bpe/api-services/mime-type/mime-type-service.ts';
import { createProcessPluginApi } from '../../../src/bpe/plugins/plugin-api-factory.ts';
import type { LoadedPlugin } from '../../../src/bpe/plugins/loaded-plugin.ts';
import { FhirOrganizationProvider } from '../../../src/bpe/services/organization-provider.ts';
import { SmtpMailService } from '../../../src/bpe/services/smtp-mail-service.ts';
import { FhirTargetProvider } from '../../../src/bpe/services/target-provider.ts';
import { ReadAccessHelper } from '../../../src/plugin-api/index.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { clientSettings, recordingLogger } from './bpe-support.ts';

let site: TestSite;
let clients: BpeDsfClientProvider;
let organizations: FhirOrganizationProvider;
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';

before(async () => {
  site = await startTestSite({ remoteOrganizations: true });
  clients = new BpeDsfClientProvider(clientSettings(site.certs, 'Test_Organization', site.baseUrl));
  organizations = new FhirOrganizationProvider(clients.getLocal(), site.baseUrl);
  // A consortium with the external organisation as DIC member.
  const parent = await site.client.create({
    resourceType: 'Organization',
    meta: { ...TAG_ALL, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] },
    identifier: [{ system: ORG_ID, value: 'consortium.test' }],
    active: true,
  });
  const member = (await site.client.get(`/Organization?identifier=${ORG_ID}|external-test-organization.test`)).json.entry[0].resource;
  await site.client.create({
    resourceType: 'OrganizationAffiliation',
    meta: TAG_ALL,
    active: true,
    organization: { reference: `Organization/${parent.id}` },
    participatingOrganization: { reference: `Organization/${member.id}` },
    endpoint: [member.endpoint[0]],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  });
});
after(async () => {
  clients.close();
  await site.stop();
});

test('organisations: the local one through its Endpoint, others by identifier, members of a consortium', async () => {
  assert.equal(await organizations.getLocalOrganizationIdentifierValue(), 'test-organization.test');
  assert.equal((await organizations.getOrganization('third-test-organization.test'))?.identifier?.[0]?.value, 'third-test-organization.test');
  assert.equal(await organizations.getOrganization('nobody.test'), undefined);
  const remote = (await organizations.getRemoteOrganizations()).map((o) => o.identifier?.[0]?.value).sort();
  assert.deepEqual(remote, ['consortium.test', 'external-test-organization.test', 'third-test-organization.test']);
  assert.deepEqual((await organizations.getOrganizations('consortium.test', 'DIC')).map((o) => o.identifier?.[0]?.value), ['external-test-organization.test']);
  assert.deepEqual(await organizations.getOrganizations('consortium.test', 'TTP'), []);
  assert.deepEqual((await organizations.getParentOrganizations()).map((o) => o.identifier?.[0]?.value), ['consortium.test']);
});

test('endpoints and targets', async () => {
  const endpoints = new FhirEndpointProvider(clients.getLocal(), site.baseUrl, organizations);
  assert.equal(endpoints.getLocalEndpointAddress(), site.baseUrl);
  assert.equal((await endpoints.getLocalEndpoint())?.address, site.baseUrl);
  assert.equal(await endpoints.getEndpointAddress('external-test-organization.test'), 'https://external-test-organization.test/fhir');
  assert.deepEqual((await endpoints.getEndpoints('consortium.test', 'DIC')).map((e) => e.address), ['https://external-test-organization.test/fhir']);
  assert.equal((await endpoints.getRemoteEndpoints()).length, 2);

  const targets = new FhirTargetProvider(clients.getLocal(), organizations);
  const members = await targets.create('consortium.test', 'DIC').withCorrelationKey();
  assert.equal(members.entries.length, 1);
  assert.equal(members.entries[0]!.organizationIdentifierValue, 'external-test-organization.test');
  assert.equal(members.entries[0]!.endpointIdentifierValue, 'external-test-organization.test');
  assert.equal(members.entries[0]!.endpointUrl, 'https://external-test-organization.test/fhir');
  assert.match(members.entries[0]!.correlationKey ?? '', /^[0-9a-f-]{36}$/);
  const remote = await targets.createForRemoteOrganizations().withoutCorrelationKey();
  assert.deepEqual(remote.entries.map((t) => t.organizationIdentifierValue).sort(), ['external-test-organization.test', 'third-test-organization.test']);
  assert.ok(remote.entries.every((t) => t.correlationKey === undefined));
  const filtered = await targets
    .createForRemoteOrganizations()
    .filter((c) => c.member.identifier?.[0]?.value === 'third-test-organization.test')
    .withoutCorrelationKey();
  assert.deepEqual(filtered.entries.map((t) => t.organizationIdentifierValue), ['third-test-organization.test']);
});

test('mail over SMTP with AUTH PLAIN; without a server to the log', async () => {
  const session: string[] = [];
  let data = '';
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let inData = false;
    let buffer = '';
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 queued\r\n');
          } else data += `${line}\n`;
          continue;
        }
        session.push(line);
        if (line.startsWith('EHLO')) socket.write('250-fake\r\n250 AUTH PLAIN\r\n');
        else if (line.startsWith('AUTH')) socket.write('235 ok\r\n');
        else if (line === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (line === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const mail = new SmtpMailService({
      host: '127.0.0.1',
      port: (server.address() as net.AddressInfo).port,
      useSmtps: false,
      username: 'bpe',
      password: 'secret',
      fromAddress: 'bpe@test.org',
      toAddresses: ['ops@test.org'],
      toAddressesCc: ['cc@test.org'],
      replyToAddresses: [],
    });
    await mail.send('Ping results – täst', 'all targets answered\n.leading dot');
    assert.deepEqual(session, [
      'EHLO dsf-bpe',
      `AUTH PLAIN ${Buffer.from('\0bpe\0secret').toString('base64')}`,
      'MAIL FROM:<bpe@test.org>',
      'RCPT TO:<ops@test.org>',
      'RCPT TO:<cc@test.org>',
      'DATA',
      'QUIT',
    ]);
    const [head, body] = data.split('\n\n');
    assert.match(head!, /^To: ops@test\.org$/m);
    assert.match(head!, /^Cc: cc@test\.org$/m);
    assert.match(head!, new RegExp(`^Subject: =\\?UTF-8\\?B\\?${Buffer.from('Ping results – täst').toString('base64').replace(/[+/=]/g, (c) => `\\${c}`)}\\?=$`, 'm'));
    assert.equal(Buffer.from(body!.replace(/\n/g, ''), 'base64').toString('utf8'), 'all targets answered\n.leading dot');
  } finally {
    server.close();
  }
  const { logger, lines } = recordingLogger();
  await new LoggingMailService(logger).send('subject', 'text', 'someone@test.org');
  assert.match(lines.join('\n'), /Mail to someone@test\.org \(no SMTP server configured\): subject\ntext/);
});

test('the API object: every service wired; the data logger writes resource contents only when enabled; read-access tags', () => {
  const written: string[] = [];
  const shared = (enabled: boolean) => ({
    localBaseUrl: site.baseUrl,
    clients,
    organizations,
    mail: new LoggingMailService(recordingLogger().logger),
    logger: recordingLogger().logger,
    dataLogger: createDataLogger(dataLoggerConfigFromEnv(enabled ? { DEV_DSF_LOG_DATA_CONSOLE_OUT_ENABLED: 'true' } : {}), { stdout: (t) => written.push(t) }),
    crypto: createCryptoService(),
    compression: createCompressionService(),
    mimeTypes: createMimeTypeService(),
  });
  const plugin = { name: 'p', version: '1.0.0.0', resourceVersion: '1.0', releaseDate: '2025-01-01', draft: false } as LoadedPlugin;
  const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Secret' }] };
  const off = createProcessPluginApi(plugin, shared(false));
  for (const service of ['dsfClientProvider', 'organizationProvider', 'endpointProvider', 'targetProvider', 'taskHelper', 'questionnaireResponseHelper', 'readAccessHelper', 'mailService', 'logger', 'dataLogger', 'cryptoService', 'compressionService', 'mimeTypeService'] as const) {
    assert.ok(off[service], service);
  }
  assert.equal(off.processPluginDefinition.resourceVersion, '1.0');
  assert.equal(off.dataLogger.isEnabled(), false);
  off.dataLogger.log('received', patient);
  assert.deepEqual(written, []);
  const on = createProcessPluginApi(plugin, shared(true));
  on.dataLogger.log('received', patient);
  assert.match(written.join(''), /received: \{"resourceType":"Patient","id":"p1","name":\[\{"family":"Secret"\}\]\}/);

  const tags = new ReadAccessHelper();
  const r = tags.addOrganization({ resourceType: 'Library' } as any, 'external-test-organization.test');
  assert.ok(tags.hasLocal(r) && tags.hasOrganization(r, 'external-test-organization.test') && tags.isValid(r));
  assert.ok(!tags.hasAll(r));
  tags.addAll(r);
  assert.ok(tags.hasAll(r) && !tags.hasLocal(r) && tags.isValid(r));
});
