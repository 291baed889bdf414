// The `dsf` command: demo network, single FHIR server, BPE, site (both), test certificates, site
// configuration (init), status, Tasks, plugin checks. Exit codes (exit-codes.ts): 0 done, 1 failed,
// 2 wrong usage or invalid configuration.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.ts';
import { parseEnvFile } from './env-file.ts';
import { ConfigError } from '../common/config-reader.ts';
import { EmbeddedPostgresError } from '../db/embedded-error.ts';

const program = new Command();
program.name('dsf').description('Data Sharing Framework in TypeScript');
// Usage errors throw instead of exiting, so they get exit code 2 (help: 0); inherited by sub-commands.
program.exitOverride();

/** The environment, with the NAME=value lines of --env-file on top (the process environment wins). */
function environment(envFile: string | undefined): Record<string, string | undefined> {
  if (!envFile) return process.env;
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (e) {
    throw new UsageError(`--env-file: ${(e as Error).message}`);
  }
  return { ...parseEnvFile(text, envFile), ...process.env };
}

function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

async function registerDemoCommand(): Promise<void> {
  const { DEFAULT_DEMO_ORGANIZATIONS, demoOrganizations, startDemoNetwork } = await import('./demo-network.ts');
  program
    .command('demo')
    .description('run a network of DSF sites on loopback, FHIR server and BPE each, with the shipped plugins (embedded PostgreSQL, test certificates)')
    .option('--dir <dir>', 'data folder', process.env.DSF_DEMO_DIR ?? '.dsf/demo')
    .option('--sites <n>', 'number of sites: n-1 data integration centres and a trusted third party (default 3)')
    .option('--org <identifier...>', 'organisation identifiers instead of --sites', DEFAULT_DEMO_ORGANIZATIONS)
    .option('--base-port <port>', 'port of the first FHIR server; the BPE status endpoints are 1000 above, the status ports (/status, /metrics) of FHIR servers 2000 and of BPEs 3000 above', process.env.DSF_DEMO_BASE_PORT ?? '18001')
    .option('--database-url <url>', 'external PostgreSQL server instead of the embedded one', process.env.DSF_DEMO_DATABASE_URL)
    .option('--database-prefix <prefix>', 'put before the database names, so several networks can share one server', process.env.DSF_DEMO_DATABASE_PREFIX ?? '')
    .option('--bpe-log-level <level>', 'BPE log lines shown here (all are in <dir>/logs)', process.env.DSF_BPE_LOG_LEVEL ?? 'warn')
    .option('--data-repository <patients>', 'give each DIC a local data repository with this many synthetic patients (adds Test_HRP, the research platform, if no site is one)', process.env.DSF_DEMO_DATA_REPOSITORY_PATIENTS)
    .action(async (o: { dir: string; sites?: string; org: string[]; basePort: string; databaseUrl?: string; databasePrefix: string; bpeLogLevel: string; dataRepository?: string }) => {
      const organizations = o.sites !== undefined ? demoOrganizations(Number(o.sites)) : o.org;
      const level = ['debug', 'info', 'warn', 'error'].includes(o.bpeLogLevel) ? (o.bpeLogLevel as 'debug' | 'info' | 'warn' | 'error') : 'warn';
      const patients = o.dataRepository !== undefined ? Number(o.dataRepository) : 0;
      if (!Number.isInteger(patients) || patients < 0) throw new Error(`--data-repository must be a whole number of patients, got '${o.dataRepository}'`);
      const demo = await startDemoNetwork({ dir: o.dir, organizations, basePort: Number(o.basePort), databaseUrl: o.databaseUrl, databasePrefix: o.databasePrefix, log: (l) => console.log(l), bpeConsoleLevel: level, dataRepositoryPatients: patients });
      console.log('Press Ctrl+C to stop.');
      onStop(demo.stop);
    });
  (await import('./demo-add-site.ts')).registerDemoAddSiteCommand(program, onStop);
}

function registerServerCommands(): void {
  program
    .command('fhir')
    .description('run one FHIR server configured by DEV_DSF_* environment variables (docs/configuration.md)')
    .option('--env-file <file>', 'NAME=value lines (e.g. from dsf init); the environment wins')
    .action(async (o: { envFile?: string }) => {
      const { readFhirServerConfig } = await import('../fhir/config.ts');
      const { startFhirServer } = await import('../fhir/fhir-server.ts');
      const server = await startFhirServer(readFhirServerConfig(environment(o.envFile)), { log: (l) => console.log(l) });
      onStop(server.close);
    });

  program
    .command('bpe')
    .description('run one BPE against a FHIR server by URL, configured by DEV_DSF_BPE_* environment variables (docs/configuration.md)')
    .option('--env-file <file>', 'NAME=value lines; the environment wins')
    .action(async (o: { envFile?: string }) => {
      const { runBpe } = await import('./site.ts');
      onStop(await runBpe(environment(o.envFile)));
    });

  program
    .command('site')
    .description('run a FHIR server and its BPE in one process (DEV_DSF_FHIR_* and DEV_DSF_BPE_* variables, docs/configuration.md)')
    .option('--env-file <file>', 'NAME=value lines (e.g. from dsf init); the environment wins')
    .action(async (o: { envFile?: string }) => {
      const { runSite } = await import('./site.ts');
      onStop(await runSite(environment(o.envFile)));
    });
}

// Each sub-command with what registers it. Only the one asked for is loaded: most pull in the FHIR
// server or the BPE, and `dsf status` or `dsf task show` in a script loop should not pay for that at
// every start. No known command (help, a typo): all of them, so help and errors list everything.
const commands: [name: string, register: () => void | Promise<void>][] = [
  ['demo', registerDemoCommand], // with its sub-command add-site
  ['fhir', registerServerCommands],
  ['bpe', registerServerCommands],
  ['site', registerServerCommands],
  ['certs', async () => (await import('./certs.ts')).registerCertsCommand(program)],
  ['start-process', async () => (await import('./start-process.ts')).registerStartProcessCommand(program)],
  ['init', async () => (await import('./init-command.ts')).registerInitCommand(program)],
  ['status', async () => (await import('./status-command.ts')).registerStatusCommand(program)],
  ['task', async () => (await import('./task-command.ts')).registerTaskCommand(program)],
  ['plugin', async () => (await import('./plugin-command.ts')).registerPluginCommand(program)],
];
const asked = commands.filter(([name]) => name === process.argv[2]);
const registered = new Set<() => void | Promise<void>>();
for (const [, register] of asked.length ? asked : commands) {
  if (registered.has(register)) continue; // fhir, bpe and site share one
  registered.add(register);
  await register();
}

program.parseAsync().catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Help and version were printed by commander; its usage errors too.
    process.exit(e.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
  }
  if (e instanceof ConfigError || e instanceof UsageError) {
    console.error(e.message);
    process.exit(EXIT_USAGE);
  }
  console.error(e instanceof EmbeddedPostgresError ? e.message : e);
  process.exit(EXIT_FAILURE);
});
