// Operations as data: the routes and the CapabilityStatement follow the operations' definitions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { capabilityStatement } from '../../../src/fhir/service/capability.ts';
import type { Operation } from '../../../src/fhir/service/operations/operation.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

test('the CapabilityStatement lists each operation with a published definition on the types it applies to, and no other', () => {
  const echo: Operation = {
    definition: { name: 'echo', definition: 'http://example.org/OperationDefinition/echo', resourceTypes: ['Patient', 'Group'], typeLevel: true, instanceLevel: false, affectsState: false },
    invoke: async () => ({ status: 200 }),
  };
  const unlisted: Operation = { definition: { name: 'quiet', resourceTypes: ['Patient'], typeLevel: false, instanceLevel: true, affectsState: true }, invoke: async () => ({ status: 200 }) };
  const statement = capabilityStatement('https://x.test/fhir', '0', () => undefined, [echo, unlisted]);
  const rest = statement.rest![0]!;
  const byType = (type: string) => rest.resource!.find((r) => r.type === type)!.operation;
  assert.deepEqual(byType('Patient'), [{ name: 'echo', definition: 'http://example.org/OperationDefinition/echo' }]);
  assert.deepEqual(byType('Group'), [{ name: 'echo', definition: 'http://example.org/OperationDefinition/echo' }]);
  assert.equal(byType('Task'), undefined);
  assert.deepEqual(rest.operation, [{ name: 'echo', definition: 'http://example.org/OperationDefinition/echo' }]);
});

test('/metadata: $snapshot on StructureDefinition only; $permanent-delete (no published definition) is not listed', async () => {
  const r = await site.client.get('/metadata');
  const withOperations = r.json.rest[0].resource.filter((x: any) => x.operation).map((x: any) => x.type);
  assert.deepEqual(withOperations, ['StructureDefinition']);
  assert.deepEqual(r.json.rest[0].operation, [{ name: 'snapshot', definition: 'http://hl7.org/fhir/OperationDefinition/StructureDefinition-snapshot' }]);
});

test('$permanent-delete: POST on an instance of every type; GET and the type level have no route', async () => {
  const p = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  assert.equal((await site.client.get(`/Patient/${p.id}/$permanent-delete`)).status, 404, 'GET: the operation changes state');
  assert.equal((await site.client.post('/Patient/$permanent-delete', undefined)).status, 404, 'no type-level form');
  const early = await site.client.post(`/Patient/${p.id}/$permanent-delete`, undefined);
  assert.equal(early.status, 400, 'not marked deleted yet');
  assert.match(early.json.issue[0].diagnostics, /is not marked deleted/);
  assert.equal((await site.client.delete(`/Patient/${p.id}`)).status, 200);
  const done = await site.client.post(`/Patient/${p.id}/$permanent-delete`, undefined);
  assert.equal(done.status, 200, done.body);
  assert.equal((await site.client.get(`/Patient/${p.id}/_history`)).status, 404, 'every version is gone');
});
