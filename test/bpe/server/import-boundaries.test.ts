// The BPE reaches FHIR servers over the wire only: nothing in src/bpe or src/plugin-api imports the
// FHIR server, except the pure FHIR model converters (JSON/XML) and the pure validator (for the
// plugins' ValidationService), which itself imports only the R4 definitions. Plugins (fixtures and
// plugins/) import src/plugin-api only, which imports nothing outside itself; the test kit for plugin
// authors (src/testkit) runs the servers, so it lives apart and only tests, benches and scripts import
// it; the engine knows nothing of plugins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ALLOWED_FHIR = new Set(['src/fhir/model/xml-parse.ts', 'src/fhir/model/xml-write.ts', 'src/fhir/model/json-parse.ts', 'src/fhir/validation/validator.ts']);
/** What the validator may reach: itself, the R4 definitions (with their cache and its builder's loader path) and the error type. */
const VALIDATOR_REACH = (target: string) =>
  target.startsWith('src/fhir/validation/') || /^src\/fhir\/model\/(definitions|definitions-cache|resource-types)\.ts$/.test(target) || target === 'src/common/errors.ts' || target === 'src/common/ts-loader-flag.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(['"]([^'"]+)['"]\)/g)].map((m) => m[1]!);
}

function resolved(file: string, spec: string): string | undefined {
  return spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) : undefined;
}

test('src/bpe imports of the FHIR server: only the model converters', () => {
  const bad: string[] = [];
  for (const f of files(join(ROOT, 'src/bpe'))) {
    for (const spec of imports(f)) {
      const target = resolved(f, spec);
      if (target?.startsWith('src/fhir/') && !ALLOWED_FHIR.has(target)) bad.push(`${relative(ROOT, f)} -> ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the validator the BPE uses reaches only itself and the R4 definitions', () => {
  const bad: string[] = [];
  for (const f of [...files(join(ROOT, 'src/fhir/validation')), join(ROOT, 'src/fhir/model/definitions.ts'), join(ROOT, 'src/fhir/model/definitions-cache.ts')]) {
    for (const spec of imports(f)) {
      const target = resolved(f, spec);
      if (target && !VALIDATOR_REACH(target)) bad.push(`${relative(ROOT, f)} -> ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('src/plugin-api imports only itself, node: modules and FHIR types', () => {
  const bad: string[] = [];
  for (const f of files(join(ROOT, 'src/plugin-api'))) {
    for (const spec of imports(f)) {
      const target = resolved(f, spec);
      const ok = target ? target.startsWith('src/plugin-api/') : spec.startsWith('node:') || spec === '@medplum/fhirtypes';
      if (!ok) bad.push(`${relative(ROOT, f)} -> ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('nothing in src/ imports the test kit (src/testkit) but the kit itself', () => {
  const bad: string[] = [];
  for (const f of files(join(ROOT, 'src'))) {
    if (relative(ROOT, f).startsWith('src/testkit/')) continue;
    for (const spec of imports(f)) {
      if (resolved(f, spec)?.startsWith('src/testkit/')) bad.push(`${relative(ROOT, f)} -> ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the engine imports nothing of plugins or of the BPE server; fixture and shipped plugins import only the plugin API', () => {
  const bad: string[] = [];
  for (const dir of ['src/bpe/engine', 'src/bpe/bpmn']) {
    for (const f of files(join(ROOT, dir))) {
      for (const spec of imports(f)) {
        const target = resolved(f, spec);
        if (target && !target.startsWith('src/bpe/engine/') && !target.startsWith('src/bpe/bpmn/') && !target.startsWith('src/db/')) bad.push(`${relative(ROOT, f)} -> ${target}`);
      }
    }
  }
  for (const dir of ['test/fixtures/plugins', 'test/fixtures/plugins-v2', 'bench/plugins', 'plugins']) {
    for (const f of files(join(ROOT, dir))) {
      for (const spec of imports(f)) {
        const target = resolved(f, spec);
        if (target && target.startsWith('src/') && target !== 'src/plugin-api/index.ts') bad.push(`${relative(ROOT, f)} -> ${target}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
