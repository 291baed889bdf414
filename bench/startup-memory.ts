// Resident memory of a FHIR server right after start and after its first validated write (which
// builds the type model, the validator's structures and the terminology), in a process of its own.
// Run: DSF_TEST_DATABASE_URL=postgres://... node --expose-gc --import ./bin/ts-loader.mjs bench/startup-memory.ts
import { startTestSite, TAG_ALL } from '../test/support/fhir-site.ts';

const mib = (n: number) => Math.round(n / 2 ** 20);
function sample(label: string): Record<string, number> {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const out = { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) };
  console.log(`${label}: rss ${out.rssMiB} MiB, heap used ${out.heapUsedMiB} MiB, external ${out.externalMiB} MiB`);
  return out;
}

const t0 = performance.now();
const site = await startTestSite();
const startMs = Math.round(performance.now() - t0);
const afterStart = sample(`after startFhirServer (${startMs} ms)`);
const created = await site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL, active: true, name: [{ family: 'Memory' }] });
if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.body}`);
const xml = await site.client.get(`/Patient/${created.json.id}?_format=xml`);
if (xml.status !== 200) throw new Error('read as XML failed');
const afterWrite = sample('after a validated create and an XML read');
await site.stop();
console.log(JSON.stringify({ startMs, afterStart, afterWrite }));
