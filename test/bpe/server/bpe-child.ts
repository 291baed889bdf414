// A BPE in a child process, for the crash test: started with a JSON configuration as argument, it
// tells the parent when it is connected (and when a test activity hangs) and runs until killed.
import { startBpeServer } from '../../../src/bpe/bpe-server.ts';
import type { BpeConfig } from '../../../src/bpe/config.ts';
import { createPool } from '../../../src/db/pool.ts';
import { recordingLogger } from './bpe-support.ts';

const { config, dbUrl } = JSON.parse(process.argv[2]!) as { config: BpeConfig; dbUrl: string };
const bpe = await startBpeServer(config, { pool: createPool(dbUrl, 5), logger: recordingLogger().logger, jobPollIntervalMs: 50 });
await bpe.connected();
process.send?.('connected');
