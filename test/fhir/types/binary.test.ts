// The Binary module on its own: read access by tags or through the resource its securityContext names
// (that resource's own rule, run by PostgreSQL), tags XOR security context on writes, and its content
// storage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Binary, Organization, Patient } from '@medplum/fhirtypes';
import { binary as binaryType } from '../../../src/fhir/types/binary.ts';
import { readAccessOf } from '../../../src/fhir/types/registry.ts';
import { tagAll, tagLocal } from '../auth/auth-support.ts';
import { identities, LOCAL, organizationResource, refusalOf, SITE, typeTestStore, type TypeTestStore } from './type-fixtures.ts';

let s: TypeTestStore;
let who: ReturnType<typeof identities>;
let shared: Patient & { id: string };
let local: Patient & { id: string };

before(async () => {
  s = await typeTestStore();
  const [l, r, o] = await Promise.all([s.put(organizationResource(LOCAL)), s.put(organizationResource('remote.test')), s.put(organizationResource('other.test'))]);
  who = identities(l as Organization, r as Organization, o as Organization);
  shared = await s.put<Patient>({ resourceType: 'Patient', meta: tagAll() });
  local = await s.put<Patient>({ resourceType: 'Patient', meta: tagLocal() });
});
after(() => s?.stop());

const binary = (b: Partial<Binary>): Binary => ({ resourceType: 'Binary', contentType: 'text/plain', ...b });

test('read: by its tags, or through its security context (that version, or the current one)', async () => {
  const tagged = await s.put(binary({ meta: tagAll() }));
  const viaShared = await s.put(binary({ securityContext: { reference: `Patient/${shared.id}` } }));
  const viaLocal = await s.put(binary({ securityContext: { reference: `Patient/${local.id}` } }));
  const viaVersion = await s.put(binary({ securityContext: { reference: `${SITE.baseUrl}/Patient/${shared.id}/_history/1` } }));
  const remote = readAccessOf('Binary', who.remote, SITE);
  assert.equal(await s.readable(remote, tagged), true);
  assert.equal(await s.readable(remote, viaShared), true);
  assert.equal(await s.readable(remote, viaLocal), false, 'the Patient is LOCAL');
  assert.equal(await s.readable(remote, viaVersion), true);
  assert.equal(await s.readable(readAccessOf('Binary', who.local, SITE), viaLocal), true);
  // Once the Patient is LOCAL, only the Binary naming its first version stays readable remotely.
  await s.update({ ...shared, meta: tagLocal() });
  assert.equal(await s.readable(remote, viaShared), false);
  assert.equal(await s.readable(remote, viaVersion), true);
});

test('write: local identities, with either valid read-access tags or a valid security context', async () => {
  const create = (b: Binary, identity: keyof typeof who = 'local') => refusalOf(() => binaryType.authorizeCreate(s.rules(who[identity]), b));
  assert.equal(await create(binary({ meta: tagAll() })), undefined);
  assert.equal(await create(binary({ securityContext: { reference: `Patient/${local.id}` } })), undefined);
  assert.match((await create(binary({ meta: tagAll() }), 'remote'))!, /^Binary create: only local identities may write Binary resources/);
  assert.match((await create(binary({ meta: tagAll(), securityContext: { reference: `Patient/${local.id}` } })))!, /^Binary create: a Binary has either a valid read-access tag or a valid securityContext, not both/);
  assert.match((await create(binary({})))!, /^Binary create: no read-access tag/);
  assert.match((await create(binary({ securityContext: { reference: 'Task/6f1e4c8a-1d2b-4c3d-8e9f-0a1b2c3d4e5f' } })))!, /^Binary create: a Task cannot be a Binary's security context/);
  assert.match((await create(binary({ securityContext: { reference: 'Patient/6f1e4c8a-1d2b-4c3d-8e9f-0a1b2c3d4e5f' } })))!, /does not exist/);
  assert.match((await refusalOf(() => binaryType.authorizeDelete(s.rules(who.remote), binary({}))))!, /^Binary delete: only local identities may delete Binary resources/);
});

test('content storage: data outside the row, raw uploads carry their media type and security context', () => {
  assert.equal(binaryType.content?.element, 'data');
  assert.deepEqual(binaryType.content!.rawResource({ contentType: 'application/pdf', securityContext: 'Patient/x', id: 'b-1' }), {
    resourceType: 'Binary',
    id: 'b-1',
    contentType: 'application/pdf',
    securityContext: { reference: 'Patient/x' },
  });
  assert.equal(binaryType.content!.contentType(binary({ contentType: 'image/png' })), 'image/png');
  assert.equal(binaryType.securityContextTarget, false);
  assert.equal(binaryType.defaultProfile, 'http://dsf.dev/fhir/StructureDefinition/binary');
});
