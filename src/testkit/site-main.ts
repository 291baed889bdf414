// Entry of a test network's child processes: `fhir` runs one FHIR server, `bpe` one BPE, each configured
// by the reference's environment variables (as `dsf fhir` / `dsf bpe` read them). It tells the parent
// over IPC when it is ready (the BPE: connected and caught up) and stops cleanly on SIGTERM.
import { readBpeConfig } from '../bpe/config.ts';
import { startBpeServer } from '../bpe/bpe-server.ts';
import { BpeLogger, consoleSink } from '../bpe/services/logging.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer } from '../fhir/fhir-server.ts';

export type SiteProcessMessage = { ready: true } | { failed: string };

const role = process.argv[2];
const send = (m: SiteProcessMessage) => process.send?.(m);

async function start(): Promise<() => Promise<void>> {
  if (role === 'fhir') {
    const server = await startFhirServer(readFhirServerConfig(process.env));
    return server.close;
  }
  if (role === 'bpe') {
    const logger = new BpeLogger(consoleSink(process.env.DSF_BPE_LOG_LEVEL === 'debug' ? 'debug' : 'info'));
    const jobPollIntervalMs = Number(process.env.DSF_TEST_KIT_JOB_POLL_MS ?? 100);
    const bpe = await startBpeServer(readBpeConfig(process.env), { logger, jobPollIntervalMs });
    await bpe.connected();
    return bpe.stop;
  }
  throw new Error(`unknown site process role '${role}' (fhir or bpe)`);
}

try {
  const stop = await start();
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
  // Without a parent (it died), nobody stops this process: stop with it.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  send({ ready: true });
} catch (e) {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  console.error(message);
  send({ failed: message });
  process.exit(1);
}
