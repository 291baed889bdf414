// Child process for the crash-recovery test: runs an engine until the second task starts, tells the
// parent, and hangs there so the parent can SIGKILL it mid-transaction.
import { appendFileSync } from 'node:fs';
import { createPool } from '../../../src/db/pool.ts';
import { ProcessEngine } from '../../../src/bpe/engine/engine.ts';
import { fn } from './harness.ts';
import { CRASH_PROCESS } from './crash-process.ts';

const [url, marker] = process.argv.slice(2) as [string, string];
const pool = createPool(url, 4);
const engine = new ProcessEngine({
  pool,
  delegates: new Map([
    ['crash.First', fn((e) => {
      appendFileSync(marker, 'first\n');
      e.setVariable('first', 'done');
    })],
    ['crash.Second', fn(async () => {
      appendFileSync(marker, 'second-started\n');
      process.send?.('in-second');
      await new Promise((resolve) => setTimeout(resolve, 60_000)); // killed long before this ends
    })],
  ]),
});
await engine.migrate();
await engine.deploy(CRASH_PROCESS);
const inst = await engine.startProcessByKey('crash', { businessKey: 'crash-1' });
process.send?.(`started:${inst.id}`);
await engine.runDueJobs();
