// The FHIR JSON the repository holds (test fixtures, plugin resources, the server's own conformance
// resources), parsed: a corpus for tests that compare a fast path with FHIRPath on real shapes.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS_DIRS = ['test/fixtures', 'plugins', 'fhir'];

function jsonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) jsonFiles(path, out);
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

/** Every .json document under the corpus folders, parsed (whole files: Bundles, resources, other JSON). */
export function repositoryFhirJson(): unknown[] {
  return CORPUS_DIRS.flatMap((d) => jsonFiles(join(ROOT, d))).map((file) => JSON.parse(readFileSync(file, 'utf8')) as unknown);
}
