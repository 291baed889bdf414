// The FHIR server's shape, checked on its source: no import cycles between files or between folders
// (imports point inward: rest -> service -> auth/types -> search/store), SQL on the resource tables
// only in src/fhir/store, and the special types named only in their type modules and data tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FHIR = 'src/fhir';

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [relative(ROOT, p)] : [];
    });
}

const SOURCES = files(join(ROOT, FHIR));
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Every module a file imports (static, type-only, re-exports and dynamic), as paths from the root. */
function importsOf(file: string): string[] {
  const source = text(file);
  const specs = [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+['"]([^'"]+)['"]/g), ...source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)));
}

/** A cycle of the graph (as a path that returns to its start), or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

/** The folder of a file under src/fhir ('service', 'store', ...); files directly in src/fhir are their own unit. */
const unitOf = (file: string) => {
  const rest = file.slice(FHIR.length + 1);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest;
};

test('no import cycles between the files of src/fhir (type-only imports included)', () => {
  const graph = new Map(SOURCES.map((f) => [f, new Set(importsOf(f).filter((t) => t.startsWith(`${FHIR}/`)))]));
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' -> ')}`);
});

test('no import cycles between the folders of src/fhir', () => {
  const graph = new Map<string, Set<string>>();
  const via = new Map<string, string>();
  for (const f of SOURCES) {
    const from = unitOf(f);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const t of importsOf(f).filter((x) => x.startsWith(`${FHIR}/`))) {
      const to = unitOf(t);
      if (to === from) continue;
      graph.get(from)!.add(to);
      if (!via.has(`${from}>${to}`)) via.set(`${from}>${to}`, `${f} -> ${t}`);
    }
  }
  const cycle = findCycle(graph);
  const edges = cycle?.slice(1).map((to, i) => via.get(`${cycle[i]}>${to}`));
  assert.equal(cycle, undefined, `folder cycle ${cycle?.join(' -> ')}:\n  ${edges?.join('\n  ')}`);
});

test('SQL on the resource tables only in src/fhir/store', () => {
  const TABLE_SQL = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE|ON|EXISTS)\s+(?:resources|search_index|unique_keys|binary_content)\b/;
  const outside = SOURCES.filter((f) => !f.startsWith(`${FHIR}/store/`) && TABLE_SQL.test(text(f)));
  assert.deepEqual(outside, []);
});

test("'Task' and 'Binary' only in their type modules and in data tables", () => {
  const allowed = new Set([
    'src/fhir/types/task.ts',
    'src/fhir/types/binary.ts',
    // data tables: the served types, the reference's reference locations, remote roles, the default Endpoint's payload type
    'src/fhir/model/resource-types.ts',
    'src/fhir/references/reference-extractor.ts',
    'src/fhir/types/identity.ts',
    'src/fhir/init-bundle.ts',
    // the HTML page shows a Task's inputs and outputs as tables (ui/task-io-view.ts)
    'src/fhir/ui/resource-view.ts',
    // a migration writes the index rows of Task's business-key parameter for the Tasks stored before it
    'src/fhir/store/schema.ts',
  ]);
  const code = (file: string) =>
    text(file)
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
      .join('\n');
  const found = SOURCES.filter((f) => !allowed.has(f) && !f.startsWith(`${FHIR}/validation/`) && /['"`](Task|Binary)['"`]/.test(code(f)));
  assert.deepEqual(found, []);
});
