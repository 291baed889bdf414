// The DSF core conformance resources (profiles, extensions, CodeSystems, ValueSets, NamingSystems and the
// built-in Subscriptions) live as FHIR R4 JSON files under fhir/ at the repository root, one resource a
// file. The FHIR server loads them at start-up; validation and the default-profile rule rely on them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';

/** Absolute path of the fhir/ folder (resolved from this module, so it works from any working directory). */
export const CORE_RESOURCES_DIR = fileURLToPath(new URL('../../../fhir/', import.meta.url));

/** A core resource together with the file it came from (relative to fhir/), for error messages and tooling. */
export interface CoreResourceFile {
  file: string;
  resource: Resource;
}

function listJsonFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...listJsonFiles(join(dir, entry.name), relative));
    else if (entry.isFile() && entry.name.endsWith('.json')) files.push(relative);
  }
  return files;
}

let cache: CoreResourceFile[] | undefined;

/** Every core resource with its file name, in a stable order (sorted by path). Parse errors name the file. */
export function loadCoreResourceFiles(): CoreResourceFile[] {
  cache ??= listJsonFiles(CORE_RESOURCES_DIR).map((file) => {
    let resource: Resource;
    try {
      resource = JSON.parse(readFileSync(join(CORE_RESOURCES_DIR, file), 'utf8')) as Resource;
    } catch (e) {
      throw new Error(`fhir/${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
      throw new Error(`fhir/${file}: not a FHIR resource (no resourceType)`);
    }
    return { file, resource };
  });
  // Callers get their own copies: the server adds meta and ids while storing them.
  return cache.map(({ file, resource }) => ({ file, resource: structuredClone(resource) }));
}

/** Every core resource under fhir/, in a stable order. */
export function loadCoreResources(): Resource[] {
  return loadCoreResourceFiles().map((f) => f.resource);
}
