// The test launcher behind `npm test`: provides a PostgreSQL server (DSF_TEST_DATABASE_URL, or an
// embedded one started here and shared by all test files, each of which makes its own databases),
// then runs node's test runner over test/**/*.test.ts (or the files given as arguments).
import { spawn } from 'node:child_process';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { TS_LOADER } from '../src/common/ts-loader-flag.ts';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.length ? args : findTests('test').map((f) => relative('.', f));
let embedded: EmbeddedDatabase | undefined;
if (!process.env.DSF_TEST_DATABASE_URL) {
  const dir = join('.dsf', 'test-postgres');
  rmSync(dir, { recursive: true, force: true });
  console.log('starting embedded PostgreSQL for the tests (set DSF_TEST_DATABASE_URL to use a server of yours)');
  try {
    embedded = await startEmbeddedPostgres(dir, { log: (l) => console.log(`  ${l}`) });
  } catch (e) {
    console.error(e instanceof EmbeddedPostgresError ? e.message : e);
    process.exit(1);
  }
  process.env.DSF_TEST_DATABASE_URL = embedded.url;
}

// Three files at once on a 2-core machine: many tests wait on timers and child processes. Measured back to
// back on test/bpe/server + test/ops: 102 s at 3 against 116 s at 2, both green; a full run at 3 passed.
// At 4, graceful-shutdown once saw a connection reset under the extra load: not the default.
const concurrency = process.env.DSF_TEST_CONCURRENCY ?? '3';
const child = spawn(
  process.execPath,
  ['--import', TS_LOADER, '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: process.env },
);
const code: number = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await embedded?.stop();
process.exit(code);
