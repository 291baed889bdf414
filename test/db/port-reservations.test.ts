// Test runs and demos on one machine pick server ports from the same range; a port one process picked
// must not be picked by another before its server binds it (a CI run beside a developer's run failed
// with EADDRINUSE when a site's child process started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { releasePort, reservePort } from '../../src/db/port-reservations.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const MODULE = fileURLToPath(new URL('../../src/db/port-reservations.ts', import.meta.url));
const FILE_OF = (port: number) => join(tmpdir(), 'dsf-port-reservations', String(port));

/** A port nobody else in this suite uses: above the freePort range, below the kernel's outgoing range. */
const testPort = (offset: number) => 29_000 + (process.pid % 500) * 4 + offset;

/** A child process that reserves the port, says so, then waits for 'exit' (clean) or is killed. */
async function holder(port: number) {
  const code = `import { reservePort } from ${JSON.stringify(MODULE)};
console.log(reservePort(${port}) ? 'reserved' : 'refused');
process.stdin.on('data', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--import', TS_LOADER, '--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(line.toString().trim(), 'reserved');
  return {
    exitCleanly: async () => {
      child.stdin!.write('x');
      await once(child, 'exit');
    },
    kill: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

test('a port another live process reserved is refused; once that process exits, it is free again and its file is gone', async () => {
  const port = testPort(0);
  const other = await holder(port);
  try {
    assert.equal(reservePort(port), false);
  } finally {
    await other.exitCleanly();
  }
  assert.equal(existsSync(FILE_OF(port)), false, 'the reservation ends with its process');
  assert.equal(reservePort(port), true);
  releasePort(port);
});

test('a reservation left by a killed process does not block the port', async () => {
  const port = testPort(1);
  const other = await holder(port);
  await other.kill();
  assert.equal(existsSync(FILE_OF(port)), true, 'SIGKILL leaves the file');
  assert.equal(reservePort(port), true);
  releasePort(port);
  assert.equal(existsSync(FILE_OF(port)), false);
});

test('one process is not handed the same port twice until it gives it back', () => {
  const port = testPort(2);
  assert.equal(reservePort(port), true);
  assert.equal(reservePort(port), false);
  releasePort(port);
  assert.equal(reservePort(port), true);
  releasePort(port);
});
