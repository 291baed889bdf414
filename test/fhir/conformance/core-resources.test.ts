// The files under fhir/: each one a well-formed resource with the reference's identity (url, version,
// names, codes), unique ids, and the default-profile rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, NamingSystem, Resource, StructureDefinition, Subscription, ValueSet } from '@medplum/fhirtypes';
import { CORE_RESOURCES_DIR, loadCoreResourceFiles, loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { defaultProfileOf } from '../../../src/fhir/types/registry.ts';
import { withDefaultProfile } from '../../../src/fhir/service/write-preparation.ts';
import { DSF_RESOURCE_TYPES, kebabCase } from '../../../src/fhir/model/resource-types.ts';

const SD = 'http://dsf.dev/fhir/StructureDefinition/';
const files = loadCoreResourceFiles();
const resources = files.map((f) => f.resource);
const ofType = <T extends Resource>(type: T['resourceType']): T[] => resources.filter((r): r is T => r.resourceType === type);
const codeSystem = (url: string) => ofType<CodeSystem>('CodeSystem').find((c) => c.url === url);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('every file under fhir/ is JSON with one resource whose type matches its folder', () => {
  const onDisk: string[] = [];
  for (const dir of readdirSync(CORE_RESOURCES_DIR)) {
    for (const name of readdirSync(join(CORE_RESOURCES_DIR, dir))) onDisk.push(`${dir}/${name}`);
  }
  assert.deepEqual(files.map((f) => f.file).sort(), onDisk.sort(), 'only .json files, all of them loaded');
  for (const { file } of files) {
    const parsed = JSON.parse(readFileSync(join(CORE_RESOURCES_DIR, file), 'utf8')) as Resource;
    assert.equal(parsed.resourceType, file.split('/')[0], file);
  }
  assert.equal(loadCoreResources().length, files.length);
  assert.equal(ofType('StructureDefinition').length, 48);
  assert.equal(ofType('CodeSystem').length, 5);
  assert.equal(ofType('ValueSet').length, 6);
  assert.equal(ofType('NamingSystem').length, 4);
  assert.equal(ofType('Subscription').length, 2);
});

test('canonical resources have url, version, name and status; NamingSystems a name and unique id', () => {
  for (const { file, resource } of files) {
    const r = resource as Resource & { url?: string; version?: string; status?: string; name?: string };
    assert.equal(typeof r.status, 'string', `${file}: status`);
    if (r.resourceType === 'Subscription') continue; // R4 Subscription has no canonical url
    assert.equal(typeof r.name, 'string', `${file}: name`);
    if (r.resourceType === 'NamingSystem') {
      // R4 NamingSystem has no url/version; the reference identifies it by name.
      assert.ok((r as NamingSystem).uniqueId.length > 0, file);
      continue;
    }
    assert.match(r.url ?? '', /^http:\/\/dsf\.dev\/fhir\/(StructureDefinition|CodeSystem|ValueSet)\/[a-z-]+$/, `${file}: url`);
    assert.equal(r.version, r.url === SD + 'task' ? '2.1.0' : '2.0.0', `${file}: version`);
    assert.equal(r.status, 'active', file);
  }
});

test('ids are stable UUIDs, unique; urls are unique per version', () => {
  const ids = resources.map((r) => r.id);
  for (const id of ids) assert.match(id ?? '', UUID);
  assert.equal(new Set(ids).size, ids.length, 'duplicate id');
  const canonicals = resources.flatMap((r) => ('url' in r && r.url ? [`${r.url}|${(r as { version?: string }).version}`] : []));
  assert.equal(new Set(canonicals).size, canonicals.length, 'duplicate url|version');
  const namingNames = ofType<NamingSystem>('NamingSystem').map((n) => n.name);
  assert.equal(new Set(namingNames).size, namingNames.length);
  // Loading twice gives equal content but separate objects (the server may mutate what it stores).
  const again = loadCoreResources();
  assert.deepEqual(again, resources);
  assert.notEqual(again[0], resources[0]);
});

test('every resource carries its DSF default profile and a read-access tag', () => {
  for (const { file, resource } of files) {
    assert.deepEqual(resource.meta?.profile, [defaultProfileOf(resource.resourceType)], file);
    const tags = resource.meta?.tag?.filter((t) => t.system === 'http://dsf.dev/fhir/CodeSystem/read-access-tag').map((t) => t.code);
    assert.deepEqual(tags, [resource.resourceType === 'Subscription' ? 'LOCAL' : 'ALL'], file);
  }
});

test('all 26 types have a profile at the kebab-case URL; the type registry gives it as default profile, except for Task', () => {
  const sds = ofType<StructureDefinition>('StructureDefinition');
  for (const type of DSF_RESOURCE_TYPES) {
    const url = SD + kebabCase(type);
    const profile = sds.find((s) => s.url === url);
    assert.ok(profile, `missing profile for ${type}`);
    assert.equal(profile.type, type);
    assert.equal(profile.kind, 'resource');
    assert.equal(profile.derivation, 'constraint');
    assert.equal(defaultProfileOf(type), type === 'Task' ? undefined : url);
  }
  assert.equal(defaultProfileOf('OrganizationAffiliation'), SD + 'organization-affiliation');
  assert.equal(defaultProfileOf('Observation'), undefined, 'not a DSF type');
  assert.equal(defaultProfileOf('Task'), undefined);
  // A parent organisation declares organization-parent instead: any DSF profile keeps the default away.
  const parent = { resourceType: 'Organization', meta: { profile: [SD + 'organization-parent'] } } as Resource;
  assert.deepEqual(withDefaultProfile(parent).meta?.profile, [SD + 'organization-parent']);
  assert.deepEqual(withDefaultProfile({ resourceType: 'Endpoint' } as Resource).meta?.profile, [SD + 'endpoint']);
  assert.equal(withDefaultProfile({ resourceType: 'Task' } as Resource).meta, undefined);
});

test('the extension and coding profiles of the reference are all present', () => {
  const urls = new Set(ofType<StructureDefinition>('StructureDefinition').map((s) => s.url));
  const expected = [
    'organization-parent', 'meta',
    'extension-certificate-thumbprint', 'extension-check-logical-reference', 'extension-process-authorization',
    'extension-process-authorization-organization', 'extension-process-authorization-organization-practitioner',
    'extension-process-authorization-parent-organization-role',
    'extension-process-authorization-parent-organization-role-practitioner',
    'extension-process-authorization-practitioner', 'extension-questionnaire-authorization',
    'extension-read-access-organization', 'extension-read-access-parent-organization-role',
    'coding-process-authorization-local-all', 'coding-process-authorization-local-all-practitioner',
    'coding-process-authorization-local-organization', 'coding-process-authorization-local-organization-practitioner',
    'coding-process-authorization-local-parent-organization-role',
    'coding-process-authorization-local-parent-organization-role-practitioner',
    'coding-process-authorization-remote-all', 'coding-process-authorization-remote-organization',
    'coding-process-authorization-remote-parent-organization-role',
  ];
  for (const name of expected) assert.ok(urls.has(SD + name), name);
  for (const sd of ofType<StructureDefinition>('StructureDefinition')) {
    if (sd.type !== 'Extension') continue;
    const urlElement = sd.differential?.element.find((e) => e.id === 'Extension.url');
    assert.equal(urlElement?.fixedUri, sd.url, `${sd.url}: Extension.url fixed to the extension's own url`);
  }
});

test('CodeSystems hold exactly the reference codes', () => {
  const roles = ['UAC', 'COS', 'CRR', 'DIC', 'DMS', 'DTS', 'HRP', 'TTP', 'AMS', 'ASP', 'SPR', 'TSP', 'PPH', 'BIO'];
  const expected: Record<string, string[]> = {
    'bpmn-message': ['message-name', 'business-key', 'correlation-key', 'error'],
    'organization-role': roles,
    'practitioner-role': [...roles.map((r) => `${r}_USER`), 'DSF_ADMIN'],
    'process-authorization': [
      'LOCAL_ORGANIZATION', 'LOCAL_ORGANIZATION_PRACTITIONER', 'REMOTE_ORGANIZATION', 'LOCAL_ROLE',
      'LOCAL_ROLE_PRACTITIONER', 'REMOTE_ROLE', 'LOCAL_ALL', 'LOCAL_ALL_PRACTITIONER', 'REMOTE_ALL',
    ],
    'read-access-tag': ['LOCAL', 'ORGANIZATION', 'ROLE', 'ALL'],
  };
  for (const [name, codes] of Object.entries(expected)) {
    const cs = codeSystem(`http://dsf.dev/fhir/CodeSystem/${name}`);
    assert.ok(cs, name);
    assert.deepEqual(cs.concept?.map((c) => c.code).sort(), [...codes].sort(), name);
    assert.equal(cs.count, codes.length, name);
    assert.equal(cs.content, 'complete');
    assert.equal(cs.caseSensitive, true);
    for (const c of cs.concept ?? []) assert.ok(c.display, `${name}#${c.code} display`);
  }
});

test('ValueSets select the reference codes from the 2.0.0 CodeSystems', () => {
  const valueSets = ofType<ValueSet>('ValueSet');
  const vs = (name: string) => valueSets.find((v) => v.url === `http://dsf.dev/fhir/ValueSet/${name}`);
  for (const name of ['bpmn-message', 'organization-role', 'practitioner-role', 'read-access-tag']) {
    const include = vs(name)?.compose?.include;
    assert.deepEqual(include, [{ system: `http://dsf.dev/fhir/CodeSystem/${name}`, version: '2.0.0' }], name);
  }
  const codes = (name: string) => vs(name)?.compose?.include.flatMap((i) => i.concept?.map((c) => c.code) ?? []);
  assert.deepEqual(codes('process-authorization-recipient'), ['LOCAL_ORGANIZATION', 'LOCAL_ROLE', 'LOCAL_ALL']);
  assert.equal(codes('process-authorization-requester')?.length, 9);
});

test('NamingSystems give the four DSF identifier systems', () => {
  const systems = ofType<NamingSystem>('NamingSystem').flatMap((n) => n.uniqueId.map((u) => `${n.name} ${u.type} ${u.value}`));
  assert.deepEqual(systems.sort(), [
    'DsfEndpointIdentifier other http://dsf.dev/sid/endpoint-identifier',
    'DsfOrganizationIdentifier other http://dsf.dev/sid/organization-identifier',
    'DsfPractitionerIdentifier other http://dsf.dev/sid/practitioner-identifier',
    'DsfTaskIdentifier other http://dsf.dev/sid/task-identifier',
  ]);
  for (const n of ofType<NamingSystem>('NamingSystem')) assert.equal(n.kind, 'identifier');
});

test('the two built-in Subscriptions feed the BPE over websocket', () => {
  const subs = ofType<Subscription>('Subscription');
  assert.deepEqual(subs.map((s) => s.criteria).sort(), ['QuestionnaireResponse?status=completed', 'Task?status=requested']);
  for (const s of subs) {
    assert.equal(s.status, 'active');
    assert.deepEqual(s.channel, { type: 'websocket', payload: 'application/fhir+json' });
    assert.deepEqual(s.meta?.tag, [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }]);
    assert.ok(s.reason);
  }
});

test('Organization, Endpoint and OrganizationAffiliation profiles carry the identity rules', () => {
  const element = (profile: string, id: string) =>
    ofType<StructureDefinition>('StructureDefinition').find((s) => s.url === SD + profile)?.differential?.element.find((e) => e.id === id);
  const thumbprint = [{ code: 'Extension', profile: [SD + 'extension-certificate-thumbprint|2.0.0'] }];
  assert.deepEqual(element('organization', 'Organization.extension:certificateThumbprint')?.type, thumbprint);
  assert.equal(element('organization', 'Organization.extension:certificateThumbprint')?.min, 1);
  assert.equal(element('organization', 'Organization.identifier:dsfIdentifier.system')?.fixedUri, 'http://dsf.dev/sid/organization-identifier');
  assert.equal(element('organization', 'Organization.active')?.min, 1);
  assert.equal(element('organization', 'Organization.endpoint')?.min, 1);
  assert.equal(element('endpoint', 'Endpoint.extension:certificateThumbprint')?.min, 0);
  assert.equal(element('endpoint', 'Endpoint.identifier:dsfIdentifier.system')?.fixedUri, 'http://dsf.dev/sid/endpoint-identifier');
  assert.equal(element('endpoint', 'Endpoint.connectionType.code')?.fixedCode, 'hl7-fhir-rest');
  assert.equal(element('endpoint', 'Endpoint.payloadType:slicePayloadType.coding.code')?.fixedCode, 'Task');
  assert.deepEqual(
    [element('endpoint', 'Endpoint.payloadMimeType:fhirJson')?.fixedCode, element('endpoint', 'Endpoint.payloadMimeType:fhirXml')?.fixedCode],
    ['application/fhir+json', 'application/fhir+xml'],
  );
  assert.deepEqual(element('organization-affiliation', 'OrganizationAffiliation.organization')?.type?.[0]?.targetProfile, [SD + 'organization-parent|2.0.0']);
  assert.deepEqual(element('organization-affiliation', 'OrganizationAffiliation.participatingOrganization')?.type?.[0]?.targetProfile, [SD + 'organization|2.0.0']);
  assert.equal(element('organization-affiliation', 'OrganizationAffiliation.endpoint')?.max, '1');
  assert.equal(element('organization-affiliation', 'OrganizationAffiliation.code.coding')?.binding?.valueSet, 'http://dsf.dev/fhir/ValueSet/organization-role|2.0.0');
  const processAuthorization = ['message-name', 'task-profile', 'requester', 'recipient'].map((slice) =>
    element('extension-process-authorization', `Extension.extension:${slice}`)?.min);
  assert.deepEqual(processAuthorization, [1, 1, 1, 1]);
});

test('the fhir/ folder is found from this module, whatever the working directory', () => {
  assert.ok(CORE_RESOURCES_DIR.startsWith('/') && CORE_RESOURCES_DIR.endsWith('/fhir/'), CORE_RESOURCES_DIR);
  assert.ok(readdirSync(CORE_RESOURCES_DIR).includes('StructureDefinition'));
});
