// Pure helpers of the plugin API: process authorization of ActivityDefinitions (build, read back,
// check, decide), JSON values with dates and bytes, FHIR package validation from a package cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityDefinition, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { decodeJsonValue, encodeJsonValue, jsonMapper, ProcessAuthorizationHelper, PROCESS_AUTHORIZATION_SYSTEM, ProcessAuthorizationExtensions as X } from '../../../src/plugin-api/index.ts';
import { FhirPackageValidationServiceProvider } from '../../../src/bpe/services/validation-service-provider.ts';

const ORG = 'http://dsf.dev/sid/organization-identifier';
const ROLE = 'http://dsf.dev/fhir/CodeSystem/organization-role';
const PRACTITIONER_ROLE = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';

const activityDefinition = (): ActivityDefinition => ({ resourceType: 'ActivityDefinition', url: 'http://dsf.dev/bpe/Process/test', version: '2.0', status: 'active' });
const org = (value: string, active = true): Organization => ({ resourceType: 'Organization', active, identifier: [{ system: ORG, value }] });

test('process authorization: built as the reference writes it, not twice, read back, checked and decided', () => {
  const helper = new ProcessAuthorizationHelper();
  const req = helper.getRequesterFactory();
  const rec = helper.getRecipientFactory();
  const ad = helper.add(activityDefinition(), 'start', 'http://dsf.dev/fhir/StructureDefinition/task-test|2.0', [req.localAll(), req.remoteRole('Parent_Organization', ROLE, 'DIC'), req.localAllPractitioner(PRACTITIONER_ROLE, 'DIC_USER')], rec.localAll());
  helper.add(ad, 'start', 'http://dsf.dev/fhir/StructureDefinition/task-test|2.0', req.localAll(), rec.localAll());
  helper.add(ad, 'continue', 'http://dsf.dev/fhir/StructureDefinition/task-continue|2.0', req.remoteOrganization('External_Test_Organization'), rec.localOrganization('Test_Organization'));
  assert.equal(ad.extension?.length, 2);
  const start = ad.extension![0]!;
  assert.equal(start.url, X.PROCESS_AUTHORIZATION);
  assert.deepEqual(start.extension!.slice(0, 2), [{ url: 'message-name', valueString: 'start' }, { url: 'task-profile', valueCanonical: 'http://dsf.dev/fhir/StructureDefinition/task-test|2.0' }]);
  assert.equal(start.extension!.filter((e) => e.url === 'requester').length, 3, 'localAll added once');
  assert.deepEqual(start.extension![3]!.valueCoding, {
    system: PROCESS_AUTHORIZATION_SYSTEM,
    code: 'REMOTE_ROLE',
    extension: [{ url: X.PARENT_ORGANIZATION_ROLE, extension: [{ url: 'parent-organization', valueIdentifier: { system: ORG, value: 'Parent_Organization' } }, { url: 'organization-role', valueCoding: { system: ROLE, code: 'DIC' } }] }],
  });
  assert.equal(helper.isValid(ad), true);
  assert.equal(helper.isValid(ad, { organizationWithIdentifierExists: (i) => i.value !== 'Parent_Organization' }), false);
  assert.equal(helper.isValid(ad, { profileExists: () => false }), false);
  assert.equal(helper.isValid(activityDefinition()), false, 'no process authorization');

  // Versionless task profiles match; another process version does not.
  const requesters = helper.getRequesters(ad, 'http://dsf.dev/bpe/Process/test', '2.0', 'start', 'http://dsf.dev/fhir/StructureDefinition/task-test');
  assert.deepEqual(requesters.map((r) => r.getProcessAuthorizationCode().code), ['LOCAL_ALL', 'REMOTE_ROLE', 'LOCAL_ALL_PRACTITIONER']);
  assert.deepEqual(helper.getRequesters(ad, 'http://dsf.dev/bpe/Process/test', '1.0', 'start', 'http://dsf.dev/fhir/StructureDefinition/task-test'), []);
  const [recipient] = helper.getRecipients(ad, 'http://dsf.dev/bpe/Process/test', '2.0', 'continue', ['http://dsf.dev/fhir/StructureDefinition/task-continue|2.0']);
  assert.equal(recipient!.getProcessAuthorizationCode().code, 'LOCAL_ORGANIZATION');

  const [, remoteRole, practitioner] = requesters;
  const affiliation: OrganizationAffiliation = {
    resourceType: 'OrganizationAffiliation',
    active: true,
    organization: { identifier: { system: ORG, value: 'Parent_Organization' } },
    participatingOrganization: { identifier: { system: ORG, value: 'External_Test_Organization' } },
    code: [{ coding: [{ system: ROLE, code: 'DIC' }] }],
  };
  const external = { isLocalIdentity: false, organization: org('External_Test_Organization') };
  assert.equal(remoteRole!.isRequesterAuthorized(external, [affiliation]), true);
  assert.equal(remoteRole!.isRequesterAuthorized(external, [{ ...affiliation, code: [{ coding: [{ system: ROLE, code: 'TTP' }] }] }]), false);
  assert.equal(remoteRole!.isRequesterAuthorized({ ...external, organization: org('External_Test_Organization', false) }, [affiliation]), false, 'inactive organisation');
  assert.equal(remoteRole!.isRequesterAuthorized({ ...external, isLocalIdentity: true }, [affiliation]), false);
  const user = { isLocalIdentity: true, organization: org('Test_Organization'), practitionerRoles: [{ system: PRACTITIONER_ROLE, code: 'DIC_USER' }] };
  assert.equal(practitioner!.isRequesterAuthorized(user, []), true);
  assert.equal(practitioner!.isRequesterAuthorized({ ...user, practitionerRoles: [{ system: PRACTITIONER_ROLE, code: 'UAC_USER' }] }, []), false);
  assert.equal(requesters[0]!.isRequesterAuthorized(user, []), false, 'LOCAL_ALL is for the organisation, not its users');
  assert.throws(() => req.localOrganization(' '), RangeError);
  assert.throws(() => helper.add(activityDefinition(), 'start', 'p', [], rec.localAll()), RangeError);
});

test('JSON values keep Dates and byte arrays; the mapper writes and reads them', () => {
  const value = { 'value-1': 'a', when: new Date('2025-09-01T10:11:12.123Z'), nested: [{ bytes: new Uint8Array([1, 2, 3]) }], skip: undefined };
  const stored = JSON.parse(JSON.stringify(encodeJsonValue(value)));
  const back = decodeJsonValue<typeof value>(stored);
  assert.ok(back.when instanceof Date);
  assert.equal(back.when.toISOString(), '2025-09-01T10:11:12.123Z');
  assert.deepEqual(back.nested[0]!.bytes, new Uint8Array([1, 2, 3]));
  assert.equal('skip' in back, false);
  assert.deepEqual(jsonMapper.readValue<{ d: Date }>(jsonMapper.writeValueAsString({ d: new Date(0) })).d, new Date(0));
  assert.throws(() => encodeJsonValue({ n: Number.NaN }), RangeError);
});

test('validation against FHIR packages from the package cache (with dependencies); disabled: none; a missing package: an error', () => {
  const cache = mkdtempSync(join(tmpdir(), 'dsf-packages-'));
  const pkg = (name: string, version: string, deps: Record<string, string>, resources: object[]) => {
    const folder = join(cache, `${name}#${version}`, 'package');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, version, dependencies: deps }));
    resources.forEach((r, i) => writeFileSync(join(folder, `r${i}.json`), JSON.stringify(r)));
  };
  pkg('example.base', '1.0.0', { 'hl7.fhir.r4.core': '4.0.1' }, [
    {
      resourceType: 'StructureDefinition',
      url: 'http://example.org/fhir/StructureDefinition/named-organization',
      version: '1.0.0',
      name: 'NamedOrganization',
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Organization',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Organization',
      derivation: 'constraint',
      differential: { element: [{ id: 'Organization.name', path: 'Organization.name', min: 1 }] },
    },
  ]);
  pkg('example.app', '2.0.0', { 'example.base': '1.0.0' }, []);
  const provider = new FhirPackageValidationServiceProvider(true, cache);
  const service = provider.getValidationService({ name: 'example.app', version: '2.0.0' })!;
  const profiled: Organization = { resourceType: 'Organization', meta: { profile: ['http://example.org/fhir/StructureDefinition/named-organization'] }, active: true };
  const invalid = service.validate(profiled);
  assert.equal(invalid.successful, false);
  assert.ok(invalid.issues.some((i) => i.severity === 'error' && /name/.test(`${i.expression?.join()} ${i.diagnostics}`)), JSON.stringify(invalid.issues));
  assert.equal(service.validate({ ...profiled, name: 'Test' }).successful, true);
  assert.equal(service.validate({ resourceType: 'Organization', active: true }, 'http://example.org/fhir/StructureDefinition/named-organization').successful, false);
  const bundle = service.validateEntries({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: profiled }, { resource: { ...profiled, name: 'ok' } }] });
  assert.equal(bundle.entry![0]!.response?.outcome?.resourceType, 'OperationOutcome');
  assert.ok(bundle.entry![0]!.response!.outcome!.issue.some((i) => i.severity === 'error'));
  assert.ok(!bundle.entry![1]!.response!.outcome!.issue.some((i) => i.severity === 'error'));
  // The filter leaves the base package out: its profile is unknown then.
  const filtered = provider.getValidationServiceFiltered((p) => p.name !== 'example.base', { name: 'example.app', version: '2.0.0' })!;
  assert.equal(filtered.validate({ ...profiled, name: 'Test' }).successful, false);
  assert.throws(() => provider.getValidationService({ name: 'not.there', version: '1.0.0' }), /not\.there\|1\.0\.0 not in the package cache/);
  assert.equal(new FhirPackageValidationServiceProvider(false, cache).getValidationService({ name: 'example.app', version: '2.0.0' }), undefined);
});
