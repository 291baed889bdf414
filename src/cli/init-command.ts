// `dsf init`: a site's configuration from a few answers (flags, or questions on a terminal): a .env
// file for `dsf site --env-file` with the reference's variable names, and the initial bundle with the
// site's Organization and Endpoint (the thumbprint is filled in at start from the client certificate).
// Certificates are given as files, or test certificates are made (--test-certificates). The result
// is checked as `dsf site` would check it; a problem exits with 2 and writes nothing.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ConfigError } from '../common/config-reader.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { readBpeConfig } from '../bpe/config.ts';
import { sitesBundle } from '../fhir/init-bundle.ts';
import { generateCertificates } from './certs.ts';
import { formatEnvFile } from './env-file.ts';
import { siteEnvironment } from './site.ts';
import { UsageError } from './exit-codes.ts';

export interface InitOptions {
  dir: string;
  organization?: string;
  fhirBaseUrl?: string;
  serverCert?: string;
  serverKey?: string;
  clientCert?: string;
  clientKey?: string;
  /** CA certificates trusted for clients and servers (PEM file). */
  ca?: string;
  testCertificates?: boolean;
  apiPort?: string;
  statusPort?: string;
  bpeStatusPort?: string;
  databaseUrl?: string;
  force?: boolean;
}

export interface InitResult {
  envFile: string;
  bundleFile: string;
  env: Record<string, string>;
}

type Ask = (question: string) => Promise<string>;

async function answer(value: string | undefined, question: string, ask: Ask | undefined, flag: string): Promise<string> {
  if (value) return value;
  if (!ask) throw new UsageError(`${flag} is required (or run on a terminal to be asked)`);
  const v = (await ask(`${question}: `)).trim();
  if (!v) throw new UsageError(`${flag}: no answer`);
  return v;
}

export async function initSite(o: InitOptions, ask?: Ask): Promise<InitResult> {
  const dir = resolve(o.dir);
  const envFile = join(dir, 'site.env');
  const bundleFile = join(dir, 'bundle.json');
  if (!o.force && (existsSync(envFile) || existsSync(bundleFile))) throw new UsageError(`${dir} has a configuration already (--force overwrites)`);
  const organization = await answer(o.organization, 'Organisation identifier (e.g. hospital.example.org)', ask, '--org');
  if (!/^[A-Za-z0-9._-]+$/.test(organization)) throw new UsageError(`--org '${organization}': letters, digits, '.', '_' and '-' only`);
  const fhirBaseUrl = (await answer(o.fhirBaseUrl, 'External FHIR base URL (e.g. https://dsf.example.org/fhir)', ask, '--fhir-base-url')).replace(/\/$/, '');
  let certs: { serverCert: string; serverKey: string; clientCert: string; clientKey: string; ca: string };
  if (o.testCertificates) {
    const host = new URL(fhirBaseUrl).hostname;
    const set = await generateCertificates({ dir: join(dir, 'certs'), organizations: [organization], hostnames: [...new Set([host, 'localhost', '127.0.0.1'])] });
    const c = set.organizations[organization]!;
    certs = { serverCert: c.server.certPath, serverKey: c.server.keyPath, clientCert: c.client.certPath, clientKey: c.client.keyPath, ca: set.ca.certPath };
  } else {
    certs = {
      serverCert: resolve(await answer(o.serverCert, 'Server certificate (PEM file)', ask, '--server-cert')),
      serverKey: resolve(await answer(o.serverKey, 'Server certificate private key (PEM file)', ask, '--server-key')),
      clientCert: resolve(await answer(o.clientCert, 'Client certificate of the organisation (PEM file)', ask, '--client-cert')),
      clientKey: resolve(await answer(o.clientKey, 'Client certificate private key (PEM file)', ask, '--client-key')),
      ca: resolve(await answer(o.ca, 'Trusted CA certificates (PEM file)', ask, '--ca')),
    };
  }
  const entries: [string, string, string?][] = [
    ['DEV_DSF_FHIR_SERVER_BASE_URL', fhirBaseUrl, 'The FHIR server (`dsf fhir`, `dsf site`)'],
    ['DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE', organization],
    ['DEV_DSF_FHIR_SERVER_INIT_BUNDLE', bundleFile],
    ['DEV_DSF_SERVER_API_HOST', '0.0.0.0'],
    ['DEV_DSF_SERVER_API_PORT', o.apiPort ?? '8001'],
    ['DEV_DSF_SERVER_CERTIFICATE', certs.serverCert],
    ['DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY', certs.serverKey],
    ['DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS', certs.ca],
    ['DEV_DSF_FHIR_CLIENT_CERTIFICATE', certs.clientCert],
    ['DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY', certs.clientKey],
    ['DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', certs.ca],
    ['DEV_DSF_SERVER_STATUS_PORT', o.statusPort ?? '10000', 'Status ports (plain HTTP /status and /metrics, loopback): FHIR server, then BPE'],
    ['DSF_BPE_SERVER_STATUS_PORT', o.bpeStatusPort ?? String(Number(o.statusPort ?? '10000') + 1)],
    ['DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY', join(dir, 'process'), 'The BPE takes the client certificate and the FHIR base URL from the settings above'],
    ['DSF_DATA_DIR', join(dir, 'data')],
    ['DSF_BPE_DATA_DIR', join(dir, 'data', 'bpe')],
  ];
  if (o.databaseUrl) entries.push(['DEV_DSF_FHIR_DB_URL', `${o.databaseUrl.replace(/\/[^/]*$/, '')}/fhir`, 'PostgreSQL (without: an embedded one under DSF_DATA_DIR)'], ['DEV_DSF_BPE_DB_URL', `${o.databaseUrl.replace(/\/[^/]*$/, '')}/bpe`]);
  const env = Object.fromEntries(entries.map(([k, v]) => [k, v]));
  // Checked as `dsf site` checks it, before anything is written.
  const problems: string[] = [];
  for (const read of [() => readFhirServerConfig(env), () => readBpeConfig(siteEnvironment(env))]) {
    try {
      read();
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else if (!/placeholder/.test((e as Error).message)) throw e;
    }
  }
  if (problems.length) throw new ConfigError(problems);
  mkdirSync(join(dir, 'process'), { recursive: true });
  const bundle = sitesBundle([{ organizationIdentifier: organization, thumbprints: ['${DEV_DSF_FHIR_SERVER_ORGANIZATION_THUMBPRINT}'], fhirBaseUrl }]);
  writeFileSync(bundleFile, `${JSON.stringify(bundle, null, 2)}\n`);
  writeFileSync(envFile, formatEnvFile(entries, [`DSF site ${organization}, written by dsf init on ${new Date().toISOString()}`, 'Every variable: docs/configuration.md']), { mode: 0o600 });
  return { envFile, bundleFile, env };
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description("write a site's configuration (a .env file for `dsf site --env-file`) and initial bundle (its Organization and Endpoint), from flags or questions")
    .option('--dir <dir>', 'folder of the site', '.dsf/site')
    .option('--org <identifier>', "the organisation's identifier")
    .option('--fhir-base-url <url>', "the FHIR server's external base URL (https)")
    .option('--server-cert <file>', 'server certificate (PEM)')
    .option('--server-key <file>', 'its private key (PEM)')
    .option('--client-cert <file>', "the organisation's client certificate (PEM)")
    .option('--client-key <file>', 'its private key (PEM)')
    .option('--ca <file>', 'trusted CA certificates (PEM)')
    .option('--test-certificates', 'make test certificates (a test CA under <dir>/certs) instead')
    .option('--api-port <port>', 'HTTPS port of the FHIR server', '8001')
    .option('--status-port <port>', 'status port of the FHIR server; the BPE gets the next one', '10000')
    .option('--database-url <url>', 'PostgreSQL server (postgres://user:password@host:port/x); default: embedded')
    .option('--force', 'overwrite an existing configuration')
    .action(async (o: { dir: string; org?: string; fhirBaseUrl?: string; serverCert?: string; serverKey?: string; clientCert?: string; clientKey?: string; ca?: string; testCertificates?: boolean; apiPort: string; statusPort: string; databaseUrl?: string; force?: boolean }) => {
      const rl = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
      try {
        const r = await initSite(
          { dir: o.dir, organization: o.org, fhirBaseUrl: o.fhirBaseUrl, serverCert: o.serverCert, serverKey: o.serverKey, clientCert: o.clientCert, clientKey: o.clientKey, ca: o.ca, testCertificates: o.testCertificates, apiPort: o.apiPort, statusPort: o.statusPort, databaseUrl: o.databaseUrl, force: o.force },
          rl ? (q) => rl.question(q) : undefined,
        );
        console.log(`wrote ${r.envFile} and ${r.bundleFile}`);
        console.log(`start the site with: dsf site --env-file ${r.envFile}`);
      } finally {
        rl?.close();
      }
    });
}
