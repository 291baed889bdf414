// Run as a process of its own (test/fhir/rest/promise-hooks.test.ts; node:test turns promise hooks on in
// its processes): starts a FHIR server, sends it creates, reads, a search and a transaction, then prints one JSON line telling whether promise hooks were on at any point.
//
// The probe: a promise reaction runs with an async id of its own only while promise hooks are on (an
// AsyncLocalStorage in use, or an enabled async hook); otherwise executionAsyncId() there is 0.
import { executionAsyncId, AsyncLocalStorage } from 'node:async_hooks';
import { startTestSite, TAG_ALL } from './fhir-site.ts';

async function promiseHooksOn(): Promise<boolean> {
  let id = -1;
  await Promise.resolve().then(() => {
    id = executionAsyncId();
  });
  return id !== 0;
}

const seen: Record<string, boolean> = { atStart: await promiseHooksOn() };
const site = await startTestSite();
try {
  seen.afterStart = await promiseHooksOn();
  const patient = (value: string) => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/hooks', value }], active: true });
  const created = await Promise.all(Array.from({ length: 8 }, (_, i) => site.client.create(patient(`p-${i}`))));
  await Promise.all(created.map((p) => site.client.get(`/Patient/${p.id}`)));
  await site.client.get('/Patient?identifier=http://example.org/hooks|p-1');
  await site.client.request('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:6a6e4b1e-1c3f-4a53-9d0e-6f5e0c1a2b3c', resource: patient('t-1'), request: { method: 'POST', url: 'Patient' } }] });
  await site.client.get(`/Patient/${created[0]!.id}`);
  seen.afterRequests = await promiseHooksOn();
} finally {
  await site.stop();
}
// The probe itself works: an AsyncLocalStorage in use turns promise hooks on.
new AsyncLocalStorage<number>().run(1, () => {});
seen.control = await promiseHooksOn();
console.log(JSON.stringify(seen));
