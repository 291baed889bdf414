import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { primitiveProblem } from '../../../src/fhir/validation/primitive-types.ts';
import { ValueSetExpander } from '../../../src/fhir/validation/terminology.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

describe('primitiveProblem', () => {
  const cases: [type: string, valid: unknown[], invalid: unknown[]][] = [
    ['id', ['a', 'A-1.b', 'x'.repeat(64)], ['', 'a b', 'a_b', 'x'.repeat(65), 5]],
    ['uri', ['http://dsf.dev/x', 'urn:oid:1.2', 'relative'], ['has space', '']],
    ['date', ['2024', '2024-05', '2024-05-31'], ['2024-5', '2024-13', '24-01-01', '2024-05-31T10:00:00Z']],
    ['dateTime', ['2024', '2024-05-31T10:00:00Z', '2024-05-31T10:00:00.5+14:00'], ['2024-05-31T10:00Z', '2024-05-31T10:00:00', '2024-05-31T25:00:00Z']],
    ['instant', ['2024-05-31T10:00:00Z', '2024-05-31T10:00:00.123-05:00'], ['2024-05-31', '2024-05-31T10:00:00']],
    ['time', ['10:00:00', '23:59:60.5'], ['24:00:00', '10:00']],
    ['decimal', [0, -1.5, 3e10], ['1.0', Number.NaN]],
    ['integer', [0, -5, 2147483647], [1.5, 2147483648, '1']],
    ['positiveInt', [1, 99], [0, -1]],
    ['unsignedInt', [0, 7], [-1, 0.5]],
    ['boolean', [true, false], ['true', 0]],
    ['code', ['in-progress', 'a b'], [' a', 'a  b', 'a ', '']],
    ['base64Binary', ['aGVsbG8=', 'ab+/', 'aGVs\nbG8='], ['abc', 'a$bc', '']],
    ['oid', ['urn:oid:1.2.840.10008'], ['1.2.3', 'urn:oid:1.02']],
    ['uuid', ['urn:uuid:0c2e4a53-6e41-4bb0-9f34-7dbb1e2f2d8a'], ['0c2e4a53-6e41-4bb0-9f34-7dbb1e2f2d8a']],
    ['string', ['x', 'multi\nline'], ['', 5]],
    ['markdown', ['# title\n\ntext'], ['']],
    ['xhtml', ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>'], ['<p>x</p>']],
  ];
  for (const [type, valid, invalid] of cases) {
    it(`accepts valid and rejects invalid ${type} values`, () => {
      for (const v of valid) assert.equal(primitiveProblem(type, v), undefined, `${JSON.stringify(v)} should be a valid ${type}`);
      for (const v of invalid) assert.ok(primitiveProblem(type, v), `${JSON.stringify(v)} should not be a valid ${type}`);
    });
  }
});

describe('ValueSetExpander', () => {
  const cs: CodeSystem = {
    resourceType: 'CodeSystem', url: 'http://test.dsf.dev/cs/roles', version: '1.0', status: 'active', content: 'complete',
    concept: [{ code: 'DIC', concept: [{ code: 'DIC_SUB' }] }, { code: 'HRP' }, { code: 'TTP' }],
  };
  const vs = (url: string, compose: ValueSet['compose'], version?: string): ValueSet => ({ resourceType: 'ValueSet', url, version, status: 'active', compose });
  const resolver = new MapResolver([
    cs,
    vs('http://test.dsf.dev/vs/all-roles', { include: [{ system: cs.url }] }),
    vs('http://test.dsf.dev/vs/some-roles', { include: [{ system: cs.url, concept: [{ code: 'HRP' }] }] }, '2.0'),
    vs('http://test.dsf.dev/vs/nested', { include: [{ valueSet: ['http://test.dsf.dev/vs/all-roles'] }], exclude: [{ system: cs.url, concept: [{ code: 'TTP' }] }] }),
    vs('http://test.dsf.dev/vs/external', { include: [{ system: 'http://loinc.org' }] }),
  ]);
  const expander = new ValueSetExpander(resolver);

  it('expands a whole CodeSystem including nested concepts', () => {
    const e = expander.expand('http://test.dsf.dev/vs/all-roles')!;
    assert.equal(e.size, 4);
    assert.ok(e.contains(cs.url, 'DIC_SUB'));
    assert.ok(!e.contains('http://other', 'DIC'));
    assert.ok(e.contains(undefined, 'TTP'), 'a plain code is looked up in every system');
  });

  it('expands listed concepts, versioned canonicals, imports and excludes', () => {
    const some = expander.expand('http://test.dsf.dev/vs/some-roles|2.0')!;
    assert.ok(some.contains(cs.url, 'HRP'));
    assert.ok(!some.contains(cs.url, 'DIC'));
    const nested = expander.expand('http://test.dsf.dev/vs/nested')!;
    assert.ok(nested.contains(cs.url, 'DIC'));
    assert.ok(!nested.contains(cs.url, 'TTP'));
  });

  it('accepts any code of a system it cannot enumerate, and returns undefined for unknown ValueSets', () => {
    const external = expander.expand('http://test.dsf.dev/vs/external')!;
    assert.ok(external.contains('http://loinc.org', '1234-5'));
    assert.ok(!external.contains('http://snomed.info/sct', '1'));
    assert.equal(expander.expand('http://example.org/unknown'), undefined);
  });

  it('falls back to the FHIR R4 ValueSets and CodeSystems', () => {
    const status = expander.expand('http://hl7.org/fhir/ValueSet/task-status|4.0.1')!;
    assert.ok(status.contains('http://hl7.org/fhir/task-status', 'in-progress'));
    assert.ok(!status.contains('http://hl7.org/fhir/task-status', 'running'));
    const mime = expander.expand('http://hl7.org/fhir/ValueSet/mimetypes')!;
    assert.ok(mime.contains(undefined, 'application/fhir+json'));
  });
});
