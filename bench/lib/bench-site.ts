// One FHIR server for a benchmark: a fresh database on the benchmark's PostgreSQL and the server in a
// child process (`dsf fhir`) with the organisation's certificates; stop() removes both.
import { freePort } from '../../src/db/embedded.ts';
import { withDatabase } from '../../src/db/pool.ts';
import pg from 'pg';
import type { CertificateSet } from '../../src/cli/certs.ts';
import { startChild, type Child } from './child.ts';

export interface BenchSite {
  fhir: Child;
  baseUrl: string;
  /** URL of the site's own database (for EXPLAIN and counts). */
  databaseUrl: string;
  stop(): Promise<void>;
}

/** A side's runtime settings for an A/B of them: node options and environment variables of the server process. */
export interface ServerSettings {
  nodeArgs?: string[];
  env?: Record<string, string>;
}

/**
 * Settings from a text such as `--max-semi-space-size=32 DSF_FHIR_DB_POOL_MAX=4`: words starting with `-`
 * are node options, NAME=value words are environment variables.
 */
export function parseServerSettings(text: string | undefined): ServerSettings {
  const words = (text ?? '').split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  for (const w of words.filter((w) => !w.startsWith('-'))) {
    const i = w.indexOf('=');
    if (i < 1) throw new Error(`server setting '${w}' is neither a node option nor NAME=value`);
    env[w.slice(0, i)] = w.slice(i + 1);
  }
  return { nodeArgs: words.filter((w) => w.startsWith('-')), env };
}

/**
 * script: the server's command line (default `dsf fhir`; bench/read-costs.ts runs its probe server); cwd: the
 * checkout to run it in; settings: node options and environment of this side's server (on top of the rest).
 * Without settings, DSF_BENCH_SERVER_SETTINGS gives them (e.g. `--max-semi-space-size=64` for a whole bench of
 * servers with a larger young generation).
 */
export async function startBenchSite(serverUrl: string, certs: CertificateSet, organization: string, dbPrefix: string, script: string[] = ['src/cli/main.ts', 'fhir'], ready = /listening on https/, cwd?: string, settings: ServerSettings = parseServerSettings(process.env.DSF_BENCH_SERVER_SETTINGS)): Promise<BenchSite & { fhir: { match: RegExpMatchArray } }> {
  const org = certs.organizations[organization]!;
  const dbName = `${dbPrefix}_${Date.now().toString(36)}`;
  // DSF_BENCH_DB_SOCKET=<folder> in a side's settings: that side's server reaches the same PostgreSQL over its
  // Unix-domain socket in <folder> (e.g. /var/run/postgresql) instead of the URL's host (an A/B of the transport).
  const siteDatabaseUrl = overSocket(withDatabase(serverUrl, dbName), settings.env?.DSF_BENCH_DB_SOCKET);
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  // DSF_BENCH_PLAN_CACHE_MODE (auto, force_generic_plan, force_custom_plan): how PostgreSQL plans the
  // server's prepared statements, to compare generic and custom plans.
  const planCacheMode = process.env.DSF_BENCH_PLAN_CACHE_MODE;
  if (planCacheMode) {
    if (!/^(auto|force_generic_plan|force_custom_plan)$/.test(planCacheMode)) throw new Error(`DSF_BENCH_PLAN_CACHE_MODE: unknown mode '${planCacheMode}'`);
    await admin.query(`ALTER DATABASE ${dbName} SET plan_cache_mode = ${planCacheMode}`);
  }
  const dropDatabase = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
  };
  const port = await freePort();
  const baseUrl = `https://localhost:${port}/fhir`;
  let fhir: Child & { match: RegExpMatchArray };
  try {
    fhir = await startChild(
      script,
      {
        DEV_DSF_FHIR_SERVER_BASE_URL: baseUrl,
        DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: organization,
        DEV_DSF_SERVER_API_PORT: String(port),
        DEV_DSF_SERVER_CERTIFICATE: org.server.certPath,
        DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: org.server.keyPath,
        DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: certs.ca.certPath,
        DEV_DSF_FHIR_CLIENT_CERTIFICATE: org.client.certPath,
        DEV_DSF_FHIR_DB_URL: siteDatabaseUrl,
        ...settings.env,
      },
      ready,
      undefined,
      // DSF_BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
      [...(process.env.DSF_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DSF_BENCH_CPU_PROF}`] : []), ...(settings.nodeArgs ?? [])],
      cwd,
    );
  } catch (e) {
    await dropDatabase();
    throw e;
  }
  return {
    fhir,
    baseUrl,
    databaseUrl: siteDatabaseUrl,
    async stop() {
      await fhir.stop();
      await dropDatabase();
    },
  };
}

function overSocket(url: string, socketDir: string | undefined): string {
  if (!socketDir) return url;
  const u = new URL(url);
  u.searchParams.set('host', socketDir);
  return u.toString();
}
