// Copies of the test plugin in a temporary folder, optionally changed, for loading and deployment
// tests (refusals, versions side by side, drafts). Imports are rewritten to absolute paths so the
// copy still reaches the plugin API and the fixture's activities.
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_PLUGIN = fileURLToPath(new URL('../../fixtures/plugins/test-plugin', import.meta.url));
/** A plugin in the reference's API v1 shapes (apiVersion 1). */
export const V1_FIXTURE_PLUGIN = fileURLToPath(new URL('../../fixtures/plugins/v1-plugin', import.meta.url));
const PLUGIN_API = fileURLToPath(new URL('../../../src/plugin-api/index.ts', import.meta.url));

export interface PluginCopy {
  /** The directory holding the plugin folder (what DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY names). */
  directory: string;
  folder: string;
  read(file: string): string;
  write(file: string, text: string): void;
  edit(file: string, change: (text: string) => string): void;
}

/** A copy of a fixture plugin (default: the test plugin) as `<directory>/<name>`; several copies may share one directory. */
export function copyTestPlugin(name = 'test-plugin', directory = mkdtempSync(join(tmpdir(), 'dsf-plugins-')), source = FIXTURE_PLUGIN): PluginCopy {
  const folder = join(directory, name);
  cpSync(source, folder, { recursive: true });
  for (const f of readdirSync(folder).filter((f) => f.endsWith('.ts'))) {
    const path = join(folder, f);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('../../../../src/plugin-api/index.ts', PLUGIN_API));
  }
  const copy: PluginCopy = {
    directory,
    folder,
    read: (file) => readFileSync(join(folder, file), 'utf8'),
    write: (file, text) => writeFileSync(join(folder, file), text),
    edit: (file, change) => copy.write(file, change(copy.read(file))),
  };
  return copy;
}
