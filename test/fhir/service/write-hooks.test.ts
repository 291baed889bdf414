// composeWriteHooks runs each hook through the sets that have it, in the sets' order: each beforeWrite
// gets the resource the one before returned, a failure stops the later ones, and sets without a hook
// are passed over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { composeWriteHooks, type WriteHooks } from '../../../src/fhir/service/write-hooks.ts';
import type { RequestContext } from '../../../src/fhir/service/request-context.ts';
import type { TransactionClient } from '../../../src/db/pool.ts';

const ctx = {} as RequestContext;
const client = {} as TransactionClient;

function recording(calls: string[]): WriteHooks[] {
  return [
    { beforeWrite: async (_c, _t, r) => (calls.push(`b1 ${r.id}`), { ...r, id: `${r.id}1` } as Resource) },
    { afterWrite: async (_c, _t, s) => void calls.push(`a2 ${s.id}`) },
    {},
    {
      beforeWrite: async (_c, _t, r, existing) => (calls.push(`b4 ${r.id} ${existing?.id}`), { ...r, id: `${r.id}4` } as Resource),
      beforeDelete: async (_c, _t, e) => void calls.push(`bd4 ${e.id}`),
      afterWrite: async (_c, _t, s, previous) => void calls.push(`a4 ${s.id} ${previous?.id}`),
    },
    { afterDelete: async (_c, _t, d) => void calls.push(`ad5 ${d.id}`), beforeDelete: async (_c, _t, e) => void calls.push(`bd5 ${e.id}`) },
  ];
}

test('each hook runs in the sets that have it, in order, with the resource the set before returned', async () => {
  const calls: string[] = [];
  const hooks = composeWriteHooks(...recording(calls));
  const out = await hooks.beforeWrite!(ctx, client, { resourceType: 'Patient', id: 'p' }, { resourceType: 'Patient', id: 'old' });
  assert.equal(out.id, 'p14');
  await hooks.afterWrite!(ctx, client, out, { resourceType: 'Patient', id: 'old' });
  await hooks.beforeDelete!(ctx, client, { resourceType: 'Patient', id: 'd' });
  await hooks.afterDelete!(ctx, client, { resourceType: 'Patient', id: 'd' });
  assert.deepEqual(calls, ['b1 p', 'b4 p1 old', 'a2 p14', 'a4 p14 old', 'bd4 d', 'bd5 d', 'ad5 d']);
});

test('a failing hook stops the sets after it', async () => {
  const calls: string[] = [];
  const sets = recording(calls);
  sets.splice(1, 0, {
    beforeWrite: async () => {
      throw new Error('refused');
    },
    afterWrite: async () => {
      throw new Error('after');
    },
  });
  const hooks = composeWriteHooks(...sets);
  await assert.rejects(hooks.beforeWrite!(ctx, client, { resourceType: 'Patient', id: 'p' }), /refused/);
  await assert.rejects(hooks.afterWrite!(ctx, client, { resourceType: 'Patient', id: 'p' }), /after/);
  assert.deepEqual(calls, ['b1 p']);
});

test('no set with a hook: the composed one passes the resource through', async () => {
  const hooks = composeWriteHooks({}, { authorize: () => {} });
  const r = { resourceType: 'Patient', id: 'x' } as Resource;
  assert.equal(await hooks.beforeWrite!(ctx, client, r), r);
  await hooks.afterWrite!(ctx, client, r);
});
