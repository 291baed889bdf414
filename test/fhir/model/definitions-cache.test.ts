// The compact R4 definitions cache: built by a child process, free of HL7 prose, DSF types loaded at
// start, other resource types (a contained Observation) loaded when first met.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builderArguments, definitionsCacheFile, type CoreDefinitions } from '../../../src/fhir/model/definitions-cache.ts';
import { extraDefinitionsLoaded } from '../../../src/fhir/model/definitions.ts';
import { DSF_RESOURCE_TYPES } from '../../../src/fhir/model/resource-types.ts';
import { isResourceType, typeInfo } from '../../../src/fhir/model/type-model.ts';
import { checkJsonShape } from '../../../src/fhir/model/json-parse.ts';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';

const builder = fileURLToPath(new URL('../../../src/fhir/model/definitions-cache-build.ts', import.meta.url));

test('the builder (a child process) writes a compact core and extra file without descriptions or comments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-definitions-test-'));
  try {
    execFileSync(process.execPath, [...process.execArgv, builder, dir], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    const coreText = readFileSync(definitionsCacheFile(dir, 'core'), 'utf8');
    assert.ok(statSync(definitionsCacheFile(dir, 'core')).size < 4 * 2 ** 20, 'core under 4 MiB');
    for (const prose of ['"definition":', '"comment":', '"short":', '"requirements":', '"mapping":', '"description":']) assert.ok(!coreText.includes(prose), prose);
    const core = JSON.parse(coreText) as CoreDefinitions;
    const resources = core.structureDefinitions.filter((sd) => sd.kind === 'resource').map((sd) => sd.type!).sort();
    assert.deepEqual(resources, [...DSF_RESOURCE_TYPES, 'DomainResource', 'Resource'].sort());
    assert.ok(core.structureDefinitions.some((sd) => sd.type === 'Extension') && core.structureDefinitions.some((sd) => sd.type === 'xhtml'));
    assert.equal(core.resourceTypes.Observation, false);
    assert.equal(core.resourceTypes.DomainResource, true);
    assert.ok(core.searchParameters.some((sp) => sp.code === 'identifier' && sp.base?.includes('Task') && sp.expression));
    assert.ok(core.valueSets.some((vs) => vs.url === 'http://hl7.org/fhir/ValueSet/task-status'));
    const extra = JSON.parse(readFileSync(definitionsCacheFile(dir, 'extra'), 'utf8')) as { structureDefinitions: { type: string }[] };
    assert.ok(extra.structureDefinitions.some((sd) => sd.type === 'Observation'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the builder child runs from a process started without the loader flag (as bin/dsf.mjs is)', () => {
  assert.deepEqual(builderArguments(['--import', './bin/ts-loader.mjs'], '/x').slice(0, 2), ['--import', './bin/ts-loader.mjs'], 'a loader flag is kept, not doubled');
  assert.equal(builderArguments(['--import', './bin/ts-loader.mjs'], '/x').filter((a) => a.includes('ts-loader')).length, 1);
  const dir = mkdtempSync(join(tmpdir(), 'dsf-definitions-test-'));
  try {
    // No flags from this process: the arguments alone must make the child able to run TypeScript.
    execFileSync(process.execPath, builderArguments([], dir), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    assert.ok(statSync(definitionsCacheFile(dir, 'core')).size > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DSF types come from the core; a non-DSF resource type is loaded on first use and then maps and checks as before', () => {
  assert.ok(typeInfo('Task') && typeInfo('Coding') && typeInfo('Questionnaire.item'));
  assert.ok(isResourceType('Observation'), 'every R4 resource type name is known without loading its definition');
  assert.ok(!isResourceType('DomainResource'));
  assert.equal(extraDefinitionsLoaded(), false);
  const patient = {
    resourceType: 'Patient',
    contained: [{ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, valueQuantity: { value: 72.5, unit: 'kg' }, component: [{ code: { text: 'x' }, valueString: 'y' }] }],
  };
  assert.deepEqual(checkJsonShape(patient as never), []);
  assert.equal(extraDefinitionsLoaded(), true);
  assert.deepEqual(parseFhirXml(toFhirXml(patient as never)), patient);
  const wrong = { ...patient, contained: [{ ...patient.contained[0], nonsense: 1 }] };
  assert.ok(checkJsonShape(wrong as never).some((i) => JSON.stringify(i).includes('nonsense')));
});
