// The tagged types on their own: the default (any type without a module), Organization, Endpoint,
// OrganizationAffiliation, Subscription, NamingSystem and the canonical resources: local writers with
// valid tags, what each requires and keeps, its uniqueness keys and conditional identity.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, NamingSystem, Organization, OrganizationAffiliation, Resource, StructureDefinition, Subscription } from '@medplum/fhirtypes';
import { behaviourOf, defaultProfileOf, identityCriteriaOf, readAccessOf, readAccessOfAnyType, uniqueKeysOf } from '../../../src/fhir/types/registry.ts';
import { organization as organizationType, thumbprintKey } from '../../../src/fhir/types/organization.ts';
import { endpoint as endpointType } from '../../../src/fhir/types/endpoint.ts';
import { organizationAffiliation as affiliationType } from '../../../src/fhir/types/organization-affiliation.ts';
import { subscription as subscriptionType } from '../../../src/fhir/types/subscription.ts';
import { namingSystem as namingSystemType } from '../../../src/fhir/types/naming-system.ts';
import { ORG_ID, organizationTag, tagAll, tagLocal } from '../auth/auth-support.ts';
import { identities, LOCAL, organizationResource, refusalOf, SITE, typeTestStore, type TypeTestStore } from './type-fixtures.ts';

let s: TypeTestStore;
let who: ReturnType<typeof identities>;
const THUMBPRINT = 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint';

before(async () => {
  s = await typeTestStore();
  const [l, r, o] = await Promise.all([s.put(organizationResource(LOCAL)), s.put(organizationResource('remote.test')), s.put(organizationResource('other.test'))]);
  who = identities(l as Organization, r as Organization, o as Organization);
});
after(() => s?.stop());

test('the default: read by tags, written and deleted by local identities with valid tags', async () => {
  const patient = behaviourOf('Patient');
  assert.equal(patient.defaultProfile, 'http://dsf.dev/fhir/StructureDefinition/patient');
  assert.equal(defaultProfileOf('Observation'), undefined, 'not a DSF type');
  const create = (r: Resource, identity: keyof typeof who = 'local') => refusalOf(() => patient.authorizeCreate(s.rules(who[identity]), r));
  assert.equal(await create({ resourceType: 'Patient', meta: tagAll() }), undefined);
  assert.equal(await create({ resourceType: 'Patient', meta: { tag: [...tagLocal().tag, organizationTag('remote.test')] } }), undefined);
  assert.match((await create({ resourceType: 'Patient', meta: tagAll() }, 'remote'))!, /^Patient create: only local identities may write Patient resources/);
  assert.match((await create({ resourceType: 'Patient', meta: { tag: [...tagLocal().tag, organizationTag('nowhere.test')] } }))!, /^Patient create: invalid read-access tags: .*'nowhere.test', which does not exist/);
  assert.match((await refusalOf(() => patient.authorizeDelete(s.rules(who.remote), { resourceType: 'Patient' })))!, /^Patient delete: only local identities may delete Patient resources/);

  const forOther = await s.put({ resourceType: 'Patient', meta: { tag: [...tagLocal().tag, organizationTag('other.test')] } } as Resource);
  const all = await s.put({ resourceType: 'Patient', meta: tagAll() } as Resource);
  assert.equal(await s.readable(readAccessOf('Patient', who.other, SITE), forOther), true);
  assert.equal(await s.readable(readAccessOf('Patient', who.remote, SITE), forOther), false);
  assert.equal(await s.readable(readAccessOfAnyType(who.remote, SITE), all), true, 'the rule over every type agrees');
  assert.equal(await s.readable(readAccessOfAnyType(who.remote, SITE), forOther), false);
});

test('Organization: one organization-identifier that may not change; identifier and thumbprints unique; it affects identities', async () => {
  const org: Organization = { ...organizationResource('new.test'), extension: [{ url: THUMBPRINT, valueString: 'ABCDEF' }] };
  assert.deepEqual(organizationType.uniqueKeys(org), [`identifier:${ORG_ID}|new.test`, 'thumbprint:abcdef']);
  assert.equal(thumbprintKey('ABCDEF'), 'thumbprint:abcdef');
  assert.equal(organizationType.affectsIdentities, true);
  assert.match((await refusalOf(() => organizationType.authorizeCreate(s.rules(who.local), { ...org, identifier: [] })))!, /^Organization create: Organization.identifier: exactly one with system/);
  const renamed = { ...org, identifier: [{ system: ORG_ID, value: 'renamed.test' }] };
  assert.match((await refusalOf(() => organizationType.authorizeUpdate(s.rules(who.local), org, renamed)))!, /^Organization update: Organization.identifier \(.*\) may not change/);
});

test('Endpoint: one endpoint-identifier and an https address, neither may change; both unique', async () => {
  const ep: Endpoint = {
    resourceType: 'Endpoint',
    meta: tagAll(),
    status: 'active',
    address: 'https://ep.test/fhir',
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'ep' }],
    connectionType: { code: 'hl7-fhir-rest' },
    payloadType: [],
  };
  assert.deepEqual(endpointType.uniqueKeys(ep), ['address:https://ep.test/fhir', 'identifier:http://dsf.dev/sid/endpoint-identifier|ep']);
  assert.equal(await refusalOf(() => endpointType.authorizeCreate(s.rules(who.local), ep)), undefined);
  assert.match((await refusalOf(() => endpointType.authorizeCreate(s.rules(who.local), { ...ep, address: 'http://ep.test' })))!, /^Endpoint create: Endpoint.address not matching/);
  assert.match((await refusalOf(() => endpointType.authorizeUpdate(s.rules(who.local), ep, { ...ep, address: 'https://moved.test/fhir' })))!, /^Endpoint update: Endpoint.address may not change/);
});

test('OrganizationAffiliation: parent, member, one endpoint and coded roles; parent, member and endpoint may not change; unique per endpoint and role', async () => {
  const a: OrganizationAffiliation = {
    resourceType: 'OrganizationAffiliation',
    meta: tagAll(),
    active: true,
    organization: { reference: 'Organization/p' },
    participatingOrganization: { reference: 'Organization/m' },
    endpoint: [{ reference: 'Endpoint/e' }],
    code: [{ coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: 'DIC' }] }],
  };
  assert.deepEqual(affiliationType.uniqueKeys(a), ['Organization/p>Organization/m|endpoint:Endpoint/e', 'Organization/p>Organization/m|role:http://dsf.dev/fhir/CodeSystem/organization-role|DIC']);
  assert.equal(await refusalOf(() => affiliationType.authorizeCreate(s.rules(who.local), a)), undefined);
  assert.match((await refusalOf(() => affiliationType.authorizeCreate(s.rules(who.local), { ...a, endpoint: [] })))!, /OrganizationAffiliation.endpoint missing or more than one/);
  assert.match((await refusalOf(() => affiliationType.authorizeUpdate(s.rules(who.local), a, { ...a, participatingOrganization: { reference: 'Organization/x' } })))!, /OrganizationAffiliation.participatingOrganization may not change/);
  assert.equal(await refusalOf(() => affiliationType.authorizeUpdate(s.rules(who.local), a, { ...a, code: [{ coding: [{ system: 'x', code: 'TTP' }] }] })), undefined, 'roles may change');
  assert.equal(affiliationType.affectsIdentities, true);
});

test('Subscription: websocket, FHIR payload, supported criteria that do not change; identified by criteria, type and payload', () => {
  const sub: Subscription = { resourceType: 'Subscription', status: 'active', reason: 'r', criteria: 'Task?status=requested', channel: { type: 'websocket', payload: 'application/fhir+json' } };
  assert.deepEqual(subscriptionType.contentProblems!(sub), []);
  assert.deepEqual(subscriptionType.contentProblems!({ ...sub, channel: { type: 'rest-hook' } }), ['Subscription.channel.type not websocket']);
  assert.match(subscriptionType.contentProblems!({ ...sub, criteria: 'Task?nope=1' }).join(), /Subscription.criteria invalid/);
  assert.deepEqual(subscriptionType.contentProblems!({ ...sub, criteria: 'Task?status=completed' }, sub), ['Subscription.criteria may not change']);
  assert.deepEqual(uniqueKeysOf(sub), ['subscription:Task?status=requested|websocket|application/fhir+json']);
  assert.equal(identityCriteriaOf(sub), 'criteria%3Aexact=Task%3Fstatus%3Drequested&type=websocket&payload=application%2Ffhir%2Bjson');
});

test('NamingSystem and the canonical resources: what they require, keep and make unique; how conditional writes find them', async () => {
  const ns: NamingSystem = { resourceType: 'NamingSystem', meta: tagAll(), name: 'ns', status: 'active', kind: 'identifier', date: '2024-01-01', uniqueId: [{ type: 'uri', value: 'http://x' }] };
  assert.deepEqual(namingSystemType.uniqueKeys(ns), ['name:ns', 'uniqueId:http://x']);
  assert.equal(identityCriteriaOf(ns), 'name=ns');
  assert.match((await refusalOf(() => namingSystemType.authorizeUpdate(s.rules(who.local), ns, { ...ns, name: 'other' })))!, /^NamingSystem update: NamingSystem.name may not change/);

  const sd: StructureDefinition = { resourceType: 'StructureDefinition', meta: tagAll(), url: 'http://p', version: '1.0', name: 'P', status: 'active', kind: 'resource', abstract: false, type: 'Patient' };
  const structureDefinitions = behaviourOf('StructureDefinition');
  assert.deepEqual(uniqueKeysOf(sd), ['url:http://p|1.0']);
  assert.equal(identityCriteriaOf(sd), 'url=http%3A%2F%2Fp&version=1.0');
  assert.match((await refusalOf(() => structureDefinitions.authorizeCreate(s.rules(who.local), sd)))!, /^StructureDefinition create: StructureDefinition.baseDefinition not defined/);
  assert.match((await refusalOf(() => structureDefinitions.authorizeUpdate(s.rules(who.local), { ...sd, baseDefinition: 'http://b' }, { ...sd, baseDefinition: 'http://b', version: '2.0' })))!, /StructureDefinition.version may not change/);
  assert.deepEqual(uniqueKeysOf({ resourceType: 'Questionnaire', url: 'http://q', status: 'active' } as Resource), [], 'identified by url, not unique by it');
  assert.equal(identityCriteriaOf({ resourceType: 'Questionnaire', url: 'http://q', status: 'active' } as Resource), 'url=http%3A%2F%2Fq');
});
