// The invariants decided in TypeScript (native-invariants.ts) must give FHIRPath's answer wherever
// they answer at all: compared on every value of a corpus (the repository's FHIR JSON: fixtures,
// core and plugin resources) and on crafted valid and invalid variants.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { repositoryFhirJson } from '../../support/fhir-json-corpus.ts';
import type { Resource } from '@medplum/fhirtypes';
import { nativeInvariant, nativeInvariantExpressions } from '../../../src/fhir/validation/native-invariants.ts';
import { evaluateWithFhirpath } from '../../../src/fhir/validation/invariants.ts';
import { baseStructureDefinitions } from '../../../src/fhir/model/definitions.ts';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const READ_ACCESS = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const PRACT_ID = 'http://dsf.dev/sid/practitioner-identifier';

type Json = Record<string, unknown>;

/** Every distinct object and string in a JSON tree, each with the resource it lies in. */
function collect(value: unknown, root: unknown, out: Map<string, { value: unknown; root: unknown }>): void {
  if (Array.isArray(value)) {
    for (const v of value) collect(v, root, out);
  } else if (typeof value === 'object' && value !== null) {
    const resource = typeof (value as Json).resourceType === 'string' ? value : root;
    // The same object within another resource may hold a local reference the other cannot resolve.
    out.set(`${JSON.stringify(value)}\u0000${resource === value ? '' : JSON.stringify((resource as Json).contained ?? null)}`, { value, root: resource });
    for (const v of Object.values(value)) collect(v, resource, out);
  } else if (typeof value === 'string') {
    out.set(JSON.stringify(value), { value, root });
  }
}

const tag = (code?: string, system: unknown = READ_ACCESS) => ({ system, ...(code ? { code } : {}) });

/** Valid and invalid shapes the corpus lacks. */
function crafted(): unknown[] {
  const codes = ['ALL', 'LOCAL', 'ORGANIZATION', 'ROLE', 'all', undefined];
  const metas: unknown[] = [{}, { tag: [] }, { tag: tag('ALL') }, { tag: null }, { tag: 'ALL' }, { tag: [null] }, { tag: [42] }];
  for (const a of codes) {
    metas.push({ tag: [tag(a)] }, { tag: [tag(a, 'http://other')] }, { tag: [tag(a, 42)] }, { tag: [{ ...tag(a), _code: { extension: [] } }] });
    for (const b of codes) metas.push({ tag: [tag(a), tag(b)] }, { tag: [tag(a), tag(b, 'http://other')] }, { tag: [{ system: READ_ACCESS, code: 7 }, tag(b)] });
  }
  metas.push({ tag: [{ _system: { extension: [] }, code: 'ALL' }] }, { security: [tag('ALL')] });
  const references: unknown[] = [
    {}, { reference: 'Patient/1' }, { reference: '#p1' }, { reference: '#' }, { reference: '' }, { reference: 42 }, { reference: null },
    { _reference: { extension: [] } }, { reference: 'https://x.test/fhir/Patient/1', type: 'Patient' }, { display: 'only a display' },
  ];
  for (const system of [ORG_ID, PRACT_ID, 'http://other', undefined, 42]) {
    for (const type of ['Organization', 'Practitioner', 'Patient', undefined, 42]) {
      references.push({ identifier: { system, value: 'x' }, ...(type !== undefined ? { type } : {}) });
      references.push({ identifier: { _system: {}, value: 'x' }, ...(type !== undefined ? { type } : {}) });
      references.push({ identifier: [{ system, value: 'x' }], ...(type !== undefined ? { type } : {}) });
    }
  }
  references.push({ identifier: null, type: 'Organization' }, { identifier: 'x' }, { type: 'Organization', _type: {} });
  const resources: unknown[] = [
    { resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'p1' }], link: [{ other: { reference: '#p1' } }] },
    { resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'p1', contained: [{ resourceType: 'Patient' }] }] },
    { resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'p1', meta: { versionId: '1', security: [tag('ALL')] } }] },
    { resourceType: 'Patient', contained: [] },
    { resourceType: 'Patient', active: true },
  ];
  const strings = [ORG_ID, PRACT_ID, 'http://other', '', ORG_ID + ' ', 42, true, null, undefined, { value: ORG_ID }];
  return [...metas, ...references, ...resources, ...strings];
}

/** Where each expression is evaluated (its FHIRPath context type). */
function contextPath(expression: string): string {
  if (expression.startsWith('contained')) return 'Patient';
  if (expression.startsWith('reference.')) return 'Reference';
  if (expression.startsWith('tag.')) return 'Meta';
  if (expression.startsWith('identifier.')) return 'Task.requester';
  return 'Task.requester.identifier.system';
}

describe('native invariants', () => {
  const distinct = new Map<string, { value: unknown; root: unknown }>();
  for (const json of repositoryFhirJson()) collect(json, json, distinct);
  const corpus = [...distinct.values()];
  for (const value of crafted()) corpus.push({ value, root: typeof value === 'object' && value !== null && 'resourceType' in value ? value : {} });

  it('answer as FHIRPath does on every corpus value they decide', () => {
    for (const expression of nativeInvariantExpressions()) {
      const native = nativeInvariant(expression)!;
      const path = contextPath(expression);
      const seen = { pass: 0, fail: 0 };
      const resourcesOnly = expression.startsWith('contained');
      for (const { value, root } of corpus) {
        if (resourcesOnly && (typeof value !== 'object' || value === null || !('resourceType' in value))) continue;
        const decided = native(value);
        if (decided === undefined) continue;
        const expected = evaluateWithFhirpath(path, expression, value, root, root);
        assert.deepEqual(decided ? 'pass' : 'fail', expected, `${expression}\non ${JSON.stringify(value)}`);
        seen[decided ? 'pass' : 'fail']++;
      }
      assert.ok(seen.pass > 0, `${expression}: never decided to pass`);
      // Some invariants can only fail on shapes left to FHIRPath (dom-*: contained resources; ref-1: '#...').
      if (!expression.startsWith('contained') && !expression.startsWith('reference.')) assert.ok(seen.fail > 0, `${expression}: never decided to fail`);
    }
  });

  it('leave to FHIRPath what they cannot decide exactly (contained resources, local references, odd shapes)', () => {
    const dom3 = nativeInvariantExpressions().find((e) => e.startsWith('contained.where'))!;
    assert.equal(nativeInvariant(dom3)!({ resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'x' }] }), undefined);
    const ref1 = nativeInvariantExpressions().find((e) => e.startsWith('reference.'))!;
    assert.equal(nativeInvariant(ref1)!({ reference: '#x' }), undefined);
    const atLeastOne = `tag.where(system = '${READ_ACCESS}').exists()`;
    assert.equal(nativeInvariant(atLeastOne)!({ tag: [{ system: READ_ACCESS, _code: {} }] }), undefined);
    assert.equal(nativeInvariant(atLeastOne)!({ tag: [tag('ALL')] }), true);
    assert.equal(nativeInvariant(atLeastOne)!({ tag: [tag('ALL', 'http://other')] }), false);
    assert.equal(nativeInvariant(`${atLeastOne} `), undefined, 'any other expression text goes to FHIRPath');
  });

  it('are all expressions of the R4 definitions or the DSF core profiles (no typo leaves one unused)', () => {
    const expressions = new Set<string>();
    const sds = [...baseStructureDefinitions().values(), ...loadCoreResources().filter((r) => r.resourceType === 'StructureDefinition')] as unknown as Json[];
    for (const sd of sds) {
      for (const part of ['snapshot', 'differential']) {
        for (const e of ((sd[part] as Json | undefined)?.element as Json[] | undefined) ?? []) {
          for (const c of (e.constraint as Json[] | undefined) ?? []) if (typeof c.expression === 'string') expressions.add(c.expression);
        }
      }
    }
    for (const expression of nativeInvariantExpressions()) assert.ok(expressions.has(expression), `not in any definition: ${expression}`);
  });

  it('a resource breaking a natively checked invariant is still refused with the same message', () => {
    const validator = new ResourceValidator(new MapResolver(loadCoreResources()));
    const patient = {
      resourceType: 'Patient',
      meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/patient'], tag: [tag('ALL'), tag('LOCAL')] },
      active: true,
    } as unknown as Resource;
    const errors = validator.validate(patient).filter((i) => i.severity === 'error');
    assert.deepEqual(
      errors.map((i) => i.diagnostics?.split(':')[1]?.trim()),
      ['all-implies-no-local'],
      JSON.stringify(errors),
    );
    assert.equal(errors[0]!.expression?.[0], 'Patient.meta');
  });
});
