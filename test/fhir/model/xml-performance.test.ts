// Sanity check of conversion speed for a 100-entry Bundle; prints timings, asserts correctness only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { initTypeModel } from '../../../src/fhir/model/type-model.ts';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';

const dir = fileURLToPath(new URL('../../fixtures/fhir-xml/', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(dir + name, 'utf8')) as Resource;

test('a 100-entry Bundle converts JSON -> XML -> JSON correctly; timings are printed', (t) => {
  let started = performance.now();
  initTypeModel();
  const modelMs = performance.now() - started;
  const kinds = ['task.json', 'organization.json', 'endpoint.json', 'questionnaire-response.json', 'patient-contained.json'].map(fixture);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 100,
    entry: Array.from({ length: 100 }, (_, i) => ({
      fullUrl: `https://dsf.test/fhir/${kinds[i % kinds.length]!.resourceType}/${i}`,
      resource: { ...kinds[i % kinds.length]!, id: String(i) } as Resource,
      search: { mode: 'match' as const },
    })),
  };
  const rounds = 5;
  let xml = '';
  started = performance.now();
  for (let i = 0; i < rounds; i++) xml = toFhirXml(bundle);
  const writeMs = (performance.now() - started) / rounds;
  let back: Resource | undefined;
  started = performance.now();
  for (let i = 0; i < rounds; i++) back = parseFhirXml(xml);
  const parseMs = (performance.now() - started) / rounds;
  assert.deepEqual(back, bundle);
  t.diagnostic(`type model ${modelMs.toFixed(0)} ms once; 100-entry Bundle (${(xml.length / 1024).toFixed(0)} KiB XML): write ${writeMs.toFixed(1)} ms, parse ${parseMs.toFixed(1)} ms`);
});
