// `dsf bpe` and `dsf site`: one BPE against a FHIR server by URL, or a FHIR server and its BPE in one
// process (talking over loopback HTTPS and the websocket, as two processes would). With
// DEV_DSF_BPE_SERVER_BASE_URL the BPE also serves HTTPS: its status JSON and the BPE view (<base>/ui).
import { join } from 'node:path';
import { ConfigError } from '../common/config-reader.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import { withDatabase } from '../db/pool.ts';
import { readBpeConfig } from '../bpe/config.ts';
import { startBpeServer } from '../bpe/bpe-server.ts';
import { BpeLogger, consoleSink } from '../bpe/services/logging.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer } from '../fhir/fhir-server.ts';

type Env = Record<string, string | undefined>;

/** The BPE variables a site takes from the FHIR server's when they are not set. */
const SITE_DEFAULTS: ReadonlyArray<[bpe: string, fhir: string]> = [
  ['DEV_DSF_BPE_FHIR_SERVER_BASE_URL', 'DEV_DSF_FHIR_SERVER_BASE_URL'],
  ['DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE', 'DEV_DSF_FHIR_CLIENT_CERTIFICATE'],
  ['DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY', 'DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY'],
  ['DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS', 'DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS'],
];

export function siteEnvironment(env: Env): Env {
  const out: Env = { ...env };
  // The FHIR pages link the BPE view of the same site for administrators.
  const bpeBase = out.DEV_DSF_BPE_SERVER_BASE_URL?.replace(/\/$/, '');
  if (bpeBase && !out.DSF_FHIR_SERVER_UI_BPE_URL) out.DSF_FHIR_SERVER_UI_BPE_URL = `${bpeBase}/ui`;
  for (const [bpe, fhir] of SITE_DEFAULTS) {
    if (!out[bpe] && !out[`${bpe}_FILE`]) {
      if (out[fhir]) out[bpe] = out[fhir];
      else if (out[`${fhir}_FILE`]) out[`${bpe}_FILE`] = out[`${fhir}_FILE`];
    }
  }
  return out;
}

/** Reads both configurations; a problem in either is reported together with the other's. */
function readBoth(env: Env) {
  const problems: string[] = [];
  const read = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      return undefined;
    }
  };
  const fhir = read(() => readFhirServerConfig(env));
  const bpe = read(() => readBpeConfig(env));
  if (fhir && bpe?.web && bpe.web.port === fhir.apiPort && bpe.web.port !== 0) {
    problems.push(`DSF_BPE_SERVER_API_PORT: the BPE's HTTPS server needs a port of its own in \`dsf site\` (DEV_DSF_SERVER_API_PORT ${fhir.apiPort} is the FHIR server's)`);
  }
  if (problems.length || !fhir || !bpe) throw new ConfigError(problems);
  return { fhir, bpe };
}

export async function runBpe(env: Env = process.env): Promise<() => Promise<void>> {
  const logger = new BpeLogger(consoleSink(env.DSF_BPE_LOG_LEVEL === 'debug' ? 'debug' : 'info'));
  const bpe = await startBpeServer(readBpeConfig(env), { logger });
  void bpe.connected().then(() => logger.info('BPE connected to its FHIR server'));
  return bpe.stop;
}

export async function runSite(env: Env = process.env): Promise<() => Promise<void>> {
  const siteEnv = siteEnvironment(env);
  // One embedded PostgreSQL with a database each, when neither server has a database URL.
  let embedded: EmbeddedDatabase | undefined;
  if (!siteEnv.DEV_DSF_FHIR_DB_URL && !siteEnv.DEV_DSF_BPE_DB_URL) {
    readBoth(siteEnv); // report configuration problems before starting anything
    const dir = siteEnv.DSF_DATA_DIR ?? join('.dsf', 'site');
    console.log('starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(join(dir, 'postgres'));
    siteEnv.DEV_DSF_FHIR_DB_URL = withDatabase(embedded.url, 'fhir');
    siteEnv.DEV_DSF_BPE_DB_URL = withDatabase(embedded.url, 'bpe');
  }
  try {
    const { fhir, bpe: bpeConfig } = readBoth(siteEnv);
    const server = await startFhirServer(fhir, { log: (l) => console.log(l) });
    const logger = new BpeLogger(consoleSink(siteEnv.DSF_BPE_LOG_LEVEL === 'debug' ? 'debug' : 'info'));
    let bpe;
    try {
      bpe = await startBpeServer(bpeConfig, { logger });
    } catch (e) {
      await server.close();
      throw e;
    }
    void bpe.connected().then(() => logger.info('BPE connected to its FHIR server'));
    // Each part stops even when the one before it failed to (the first failure is reported).
    return async () => {
      try {
        await bpe.stop();
      } finally {
        try {
          await server.close();
        } finally {
          await embedded?.stop();
        }
      }
    };
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}
