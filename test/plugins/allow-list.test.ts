// The allow-list plugin on three sites: Test_TTP manages the allow list. A fourth organisation registered
// only at Test_TTP reaches the members through updateAllowList (at Test_TTP) and downloadAllowList (at each
// member); only the managing organisation may start updateAllowList; applying the list twice changes nothing; a Bundle with other content is refused before
// anything of it is applied, with every problem as an error output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Endpoint, Organization, OrganizationAffiliation, Task, TaskInput } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork, type TestSite } from '../../src/testkit/index.ts';
import { networkBundle } from '../../src/cli/network-bundle.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/allow-list');
const ALLOW_LIST = 'http://dsf.dev/fhir/CodeSystem/allow-list';
const ORG_SID = 'http://dsf.dev/sid/organization-identifier';
const UPDATE = draftTaskIdentifier('http://dsf.dev/bpe/Process/updateAllowList', '1.0', 'task-update-allow-list');
const DOWNLOAD = draftTaskIdentifier('http://dsf.dev/bpe/Process/downloadAllowList', '1.0', 'task-download-allow-list');
const NEW_ORG = 'Test_DIC_3';

let network: TestNetwork;

before(async () => {
  network = await startTestNetwork({ sites: ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'], plugins: [PLUGIN], env: { DEV_DSF_BPE_ALLOW_LIST_ORGANIZATION: 'Test_TTP' } });
});

after(async () => {
  await network?.stop();
});

const allowListInput = (reference: string): TaskInput => ({ type: { coding: [{ system: ALLOW_LIST, code: 'allow_list' }] }, valueReference: { reference } });
const errorsOf = (task: Task) => (task.output ?? []).filter((o) => o.type?.coding?.some((c) => c.code === 'error')).map((o) => o.valueString ?? '');

async function runUpdate(ttp: TestSite): Promise<string> {
  const started = await ttp.startProcess(UPDATE);
  const done = await ttp.waitForTask(started.id!, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const outputs = (done.output ?? []).filter((o) => o.type?.coding?.some((c) => c.system === ALLOW_LIST && c.code === 'allow_list'));
  assert.equal(outputs.length, 1);
  return outputs[0]!.valueReference!.reference!;
}

async function runDownload(site: TestSite, reference: string): Promise<Task> {
  const started = await site.startProcess(DOWNLOAD, { inputs: [allowListInput(reference)] });
  return site.waitForTask(started.id!, ['completed', 'failed']);
}

async function knows(site: TestSite, organization: string) {
  const orgs = await site.fhir.searchAll<Organization>('Organization', { identifier: `${ORG_SID}|${organization}` });
  const affiliations = orgs.length ? await site.fhir.searchAll<OrganizationAffiliation>('OrganizationAffiliation', { 'participating-organization': `Organization/${orgs[0]!.id}` }) : [];
  const endpoints = orgs.length ? await site.fhir.searchAll<Endpoint>('Endpoint', { organization: `Organization/${orgs[0]!.id}` }) : [];
  return { organizations: orgs.length, endpoints: endpoints.length, affiliations: affiliations.length };
}

test('a fourth organisation registered at the managing site reaches the members through update and download', async () => {
  const ttp = network.site('Test_TTP');
  const newSite = { organizationIdentifier: NEW_ORG, name: 'Test DIC 3', thumbprints: ['ab'.repeat(64)], fhirBaseUrl: 'https://dic3.example.org/fhir', roles: ['DIC'] };
  await ttp.fhir.postBundle(networkBundle([newSite], network.parentOrganization));
  assert.deepEqual(await knows(network.site('Test_DIC_1'), NEW_ORG), { organizations: 0, endpoints: 0, affiliations: 0 });

  const reference = await runUpdate(ttp);
  assert.match(reference, new RegExp(`^${ttp.fhirBaseUrl}/Bundle/[^/]+/_history/\\d+$`));
  const bundle = await ttp.fhir.read<Bundle>('Bundle', reference.split('/Bundle/')[1]!.split('/')[0]!);
  assert.equal(bundle.type, 'transaction');
  assert.deepEqual(bundle.identifier, { system: ALLOW_LIST, value: 'allow_list' });
  assert.ok(bundle.meta?.tag?.some((t) => t.system === 'http://dsf.dev/fhir/CodeSystem/read-access-tag' && t.code === 'ALL'));
  const counts = (type: string) => bundle.entry!.filter((e) => e.resource?.resourceType === type).length;
  // 4 sites and the parent; 4 endpoints; 4 member affiliations.
  assert.deepEqual([counts('Organization'), counts('Endpoint'), counts('OrganizationAffiliation')], [5, 4, 4]);
  assert.ok(bundle.entry!.every((e) => e.request?.method === 'PUT' && e.request.url?.includes('identifier=') && e.fullUrl?.startsWith('urn:uuid:')));

  for (const member of ['Test_DIC_1', 'Test_DIC_2']) {
    const site = network.site(member);
    const done = await runDownload(site, reference);
    assert.equal(done.status, 'completed', JSON.stringify(done.output));
    assert.deepEqual(await knows(site, NEW_ORG), { organizations: 1, endpoints: 1, affiliations: 1 }, member);
  }

  // Applying the same list again finds every entry by its identifiers: nothing is duplicated.
  const site = network.site('Test_DIC_1');
  const before = (await site.fhir.searchAll('OrganizationAffiliation', {})).length;
  assert.equal((await runDownload(site, reference)).status, 'completed');
  assert.equal((await site.fhir.searchAll('OrganizationAffiliation', {})).length, before);
  assert.deepEqual(await knows(site, NEW_ORG), { organizations: 1, endpoints: 1, affiliations: 1 });
});

test('a Bundle with other resource types or methods is refused before any entry is applied', async () => {
  const ttp = network.site('Test_TTP');
  const intruder: Organization = {
    resourceType: 'Organization',
    meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    identifier: [{ system: ORG_SID, value: 'Intruder' }],
    active: true,
    name: 'Intruder',
  };
  const bad: Bundle = {
    resourceType: 'Bundle',
    meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] },
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:2b0c2a4e-1f0e-4a8e-9d55-3f6f0c1b7a01', resource: intruder, request: { method: 'PUT', url: `Organization?identifier=${ORG_SID}|Intruder` } },
      { fullUrl: 'urn:uuid:2b0c2a4e-1f0e-4a8e-9d55-3f6f0c1b7a02', resource: { resourceType: 'Patient', active: true }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'DELETE', url: 'ActivityDefinition?url=http://dsf.dev/bpe/Process/ping' } },
    ],
  };
  const stored = await ttp.fhir.create(bad);
  const site = network.site('Test_DIC_2');
  const done = await runDownload(site, `${ttp.fhirBaseUrl}/Bundle/${stored.id}`);
  assert.equal(done.status, 'failed');
  const errors = errorsOf(done);
  assert.ok(errors.some((e) => e.includes("Resource of type 'Patient' not allowed")), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes("Request with Method 'POST' not allowed")), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes("Resource delete of 'ActivityDefinition?url=http://dsf.dev/bpe/Process/ping' not allowed")), errors.join('\n'));
  assert.deepEqual(await knows(site, 'Intruder'), { organizations: 0, endpoints: 0, affiliations: 0 }, 'nothing of the refused Bundle was applied');
});

test('updateAllowList may only be started at the managing organisation', async () => {
  await assert.rejects(network.site('Test_DIC_1').startProcess(UPDATE), /403/);
});
