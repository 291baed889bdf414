// Search-index values of plain element paths read from the JSON (plain-path.ts) must be FHIRPath's
// values wherever the direct reading answers: compared for every served search parameter on every
// resource of the repository's FHIR JSON (fixtures, core and plugin resources) and on crafted shapes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { repositoryFhirJson } from '../../support/fhir-json-corpus.ts';
import { plainPathEvaluator } from '../../../src/fhir/search/plain-path.ts';
import { evaluateWithFhirpath, searchParameters } from '../../../src/fhir/search/parameters.ts';
import { servedResourceTypes } from '../../../src/fhir/model/resource-types.ts';
import { computeIndexRows } from '../../../src/fhir/search/index-rows.ts';

const TAG = { system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' };

type Json = Record<string, unknown>;

/** Every resource in a JSON tree (bundle entries and contained resources too). */
function resources(value: unknown, out: Json[]): void {
  if (Array.isArray(value)) for (const v of value) resources(v, out);
  else if (typeof value === 'object' && value !== null) {
    if (typeof (value as Json).resourceType === 'string') out.push(value as Json);
    for (const v of Object.values(value)) resources(v, out);
  }
}

function crafted(): Json[] {
  const meta = { tag: [TAG], profile: ['http://dsf.dev/fhir/StructureDefinition/task-base|1.0.0'], security: [{ system: 'http://x', code: 'y' }] };
  return [
    { resourceType: 'Patient', meta, identifier: [{ system: 'http://a', value: '1' }, { value: '2' }], active: true },
    { resourceType: 'Patient', active: false, _active: { extension: [{ url: 'http://x', valueString: 'y' }] } },
    { resourceType: 'Patient', _active: { extension: [{ url: 'http://x', valueString: 'y' }] } },
    { resourceType: 'Patient', identifier: [null] },
    { resourceType: 'Patient', identifier: { system: 'http://a', value: 'not an array' } },
    { resourceType: 'Patient', meta: { profile: ['http://p'], _profile: [null] } },
    { resourceType: 'Patient', meta: { tag: [] } },
    { resourceType: 'Patient', meta: null },
    { resourceType: 'Task', meta, status: 'requested', authoredOn: '2025-03-01T12:00:00.000+01:00', lastModified: '2025', requester: { reference: 'Organization/1' } },
    { resourceType: 'Task', status: 'requested', authoredOn: '2025-03-01', lastModified: '2025-03-01T12:00:00Z', identifier: [{ system: 'http://t', value: 'x' }] },
    { resourceType: 'Task', status: 'requested', authoredOn: '2025-03-01T12:00:00.123456789+14:00', requester: { identifier: { system: 'http://o', value: 'a' }, type: 'Organization' } },
    { resourceType: 'Organization', name: 'A', alias: ['B', 'A'], type: [{ coding: [{ system: 'http://s', code: 'c' }, { code: 'd' }] }, { text: 'only text' }], endpoint: [{ reference: 'Endpoint/1' }] },
    { resourceType: 'Subscription', status: 'active', criteria: 'Task?status=requested', channel: { type: 'websocket', payload: 'application/fhir+json' } },
    { resourceType: 'Subscription', channel: { type: 'websocket', _payload: { extension: [] } } },
    { resourceType: 'Endpoint', status: 'active', address: 'https://x.test/fhir', managingOrganization: { reference: 'Organization/1' } },
    { resourceType: 'StructureDefinition', url: 'http://x', version: '1.0', name: 'X', status: 'draft', date: '2024-01-01T00:00:00+00:00' },
    { resourceType: 'QuestionnaireResponse', status: 'completed', authored: '2024-05-01T10:00:00.5+02:00', questionnaire: 'http://q|1.0', author: { reference: 'Practitioner/1' }, subject: { reference: 'Task/1' } },
  ];
}

describe('plain element paths of search parameters', () => {
  const corpus: Json[] = [];
  for (const json of repositoryFhirJson()) resources(json, corpus);
  corpus.push(...crafted());

  it('give FHIRPath values on every resource they answer for', () => {
    let answered = 0;
    let plainParams = 0;
    for (const type of servedResourceTypes()) {
      for (const p of searchParameters(type).values()) {
        const plain = plainPathEvaluator(p.expression);
        if (!plain) continue;
        plainParams++;
        for (const resource of corpus) {
          const values = plain(resource);
          if (values === undefined) continue;
          answered++;
          assert.deepEqual(values, evaluateWithFhirpath(p.expression, resource), `${type}.${p.code} (${p.expression}) on ${JSON.stringify(resource).slice(0, 300)}`);
        }
      }
    }
    assert.ok(plainParams > 50, `only ${plainParams} plain parameters`);
    assert.ok(answered > 1000, `only ${answered} values compared`);
  });

  it('leave to FHIRPath what is not plain JSON (extensions, nulls, choices, other types, other expressions)', () => {
    assert.equal(plainPathEvaluator('Patient.active')!({ resourceType: 'Patient', _active: { extension: [] } }), undefined);
    assert.equal(plainPathEvaluator('Patient.identifier')!({ resourceType: 'Patient', identifier: [null] }), undefined);
    assert.equal(plainPathEvaluator('Observation.value')!({ resourceType: 'Observation', valueQuantity: { value: 1 } }), undefined);
    assert.equal(plainPathEvaluator('Patient.identifier')!({ resourceType: 'Organization', identifier: [] }), undefined);
    assert.equal(plainPathEvaluator('Organization.name | Organization.alias'), undefined);
    assert.equal(plainPathEvaluator("Measure.relatedArtifact.where(type='depends-on').resource"), undefined);
    assert.deepEqual(plainPathEvaluator('Patient.identifier.system')!({ resourceType: 'Patient', identifier: [{ system: 'a' }, { value: 'x' }, { system: 'b' }] }), ['a', 'b']);
  });

  it('index rows of a resource are those FHIRPath alone gives', () => {
    for (const resource of corpus) {
      const type = resource.resourceType as string;
      if (!servedResourceTypes().includes(type)) continue;
      const expected: unknown[] = [];
      for (const p of searchParameters(type).values()) expected.push(...evaluateWithFhirpath(p.expression, resource).map((v) => `${p.code}=${JSON.stringify(v)}`));
      const actual: unknown[] = [];
      for (const p of searchParameters(type).values()) actual.push(...p.evaluate(resource).map((v) => `${p.code}=${JSON.stringify(v)}`));
      assert.deepEqual(actual, expected, type);
      assert.doesNotThrow(() => computeIndexRows(resource, 'https://fhir.test/fhir'));
    }
  });
});
