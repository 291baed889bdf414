// `dsf site` as a child process, its output collected for the test's assertions on what it logged.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Starts `dsf site` with only PATH and `env` (see site-env.ts); stdout and stderr go to `output()`. */
export function runSite(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, 'site'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
