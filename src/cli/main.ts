// The `dsf` command: demo network, single FHIR server, BPE, site (both), test certificates.
import { Command } from 'commander';
import { registerCertsCommand } from './certs.ts';
import { DEFAULT_DEMO_ORGANIZATIONS, startDemoNetwork } from './demo-network.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer } from '../fhir/fhir-server.ts';
import { ConfigError } from '../common/config-reader.ts';
import { EmbeddedPostgresError } from '../db/embedded.ts';
import { runBpe, runSite } from './site.ts';

const program = new Command();
program.name('dsf').description('Data Sharing Framework in TypeScript');

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

program
  .command('demo')
  .description('run a network of DSF sites on loopback (embedded PostgreSQL, test certificates)')
  .option('--dir <dir>', 'data folder', process.env.DSF_DEMO_DIR ?? '.dsf/demo')
  .option('--org <identifier...>', 'organisation identifiers', DEFAULT_DEMO_ORGANIZATIONS)
  .option('--base-port <port>', 'port of the first site', process.env.DSF_DEMO_BASE_PORT ?? '18001')
  .option('--database-url <url>', 'external PostgreSQL server instead of the embedded one', process.env.DSF_DEMO_DATABASE_URL)
  .action(async (o: { dir: string; org: string[]; basePort: string; databaseUrl?: string }) => {
    const demo = await startDemoNetwork({ dir: o.dir, organizations: o.org, basePort: Number(o.basePort), databaseUrl: o.databaseUrl, log: (l) => console.log(l) });
    console.log('Press Ctrl+C to stop.');
    onStop(demo.stop);
  });

program
  .command('fhir')
  .description('run one FHIR server configured by DEV_DSF_* environment variables')
  .action(async () => {
    const server = await startFhirServer(readFhirServerConfig(), { log: (l) => console.log(l) });
    onStop(server.close);
  });

program
  .command('bpe')
  .description('run one BPE against a FHIR server by URL, configured by DEV_DSF_BPE_* environment variables')
  .action(async () => {
    onStop(await runBpe());
  });

program
  .command('site')
  .description('run a FHIR server and its BPE in one process (DEV_DSF_FHIR_* and DEV_DSF_BPE_* variables)')
  .action(async () => {
    onStop(await runSite());
  });

registerCertsCommand(program);

program.parseAsync().catch((e) => {
  console.error(e instanceof ConfigError || e instanceof EmbeddedPostgresError ? e.message : e);
  process.exit(1);
});
