// `dsf plugin verify <folder>`: the checks the BPE makes before it deploys a process plugin (definition,
// BPMN, FHIR resources, placeholders), without a database or a FHIR server. A folder with an entry
// module is one plugin; otherwise every plugin folder inside it is checked. Exit 1 when one is refused.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPlugin, loadPlugins, pluginFolders, type PluginRefusal } from '../bpe/plugins/plugin-loader.ts';
import { pluginLabel, type LoadedPlugin } from '../bpe/plugins/loaded-plugin.ts';
import { EXIT_FAILURE, UsageError } from './exit-codes.ts';
import { parseEnvFile } from './env-file.ts';

export interface VerifyResult {
  plugins: LoadedPlugin[];
  refused: PluginRefusal[];
}

export async function verifyPlugins(folder: string, o: { organization?: string; env?: Record<string, string | undefined> } = {}): Promise<VerifyResult> {
  const path = resolve(folder);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`${folder} is not a folder`);
  const ctx = { organizationIdentifier: o.organization, env: o.env ?? process.env };
  // A folder of plugins (the BPE's plugin directory), or one plugin.
  const inside = pluginFolders([path]);
  if (inside.length) return loadPlugins([path], ctx);
  const outcome = await loadPlugin(path, ctx);
  return 'problems' in outcome ? { plugins: [], refused: [outcome] } : { plugins: [outcome], refused: [] };
}

export function registerPluginCommand(program: Command): void {
  const plugin = program.command('plugin').description('process plugins');
  plugin
    .command('verify <folder>')
    .description("the BPE's deployment checks of a plugin folder (or a folder of plugins) without deploying; exit 1 with the problems listed when one is refused")
    .option('--organization <identifier>', 'the local organisation (#{organization} in draft Tasks)', 'organization.example')
    .option('--env-file <file>', 'values of #{...} placeholders (NAME=value lines), on top of the environment')
    .option('--json', 'print JSON')
    .action(async (folder: string, o: { organization?: string; envFile?: string; json?: boolean }) => {
      const env = { ...process.env, ...(o.envFile ? parseEnvFile(readFileSync(o.envFile, 'utf8'), o.envFile) : {}) };
      const r = await verifyPlugins(folder, { organization: o.organization, env });
      if (o.json) {
        console.log(
          JSON.stringify(
            { ok: r.refused.length === 0, plugins: r.plugins.map((p) => ({ plugin: pluginLabel(p), folder: p.folder, processes: p.processes.map((x) => `${x.processId}|${x.version}`) })), refused: r.refused },
            null,
            2,
          ),
        );
      } else {
        for (const p of r.plugins) console.log(`ok       ${pluginLabel(p)}: ${p.processes.map((x) => `${x.processId}|${x.version}`).join(', ')}`);
        for (const x of r.refused) {
          console.log(`REFUSED  ${x.plugin ?? '?'} (${x.folder})`);
          for (const problem of x.problems) console.log(`  - ${problem}`);
        }
        if (!r.plugins.length && !r.refused.length) console.log('no plugins found');
      }
      if (r.refused.length || (!r.plugins.length && !r.refused.length)) process.exitCode = EXIT_FAILURE;
    });
}
