// Log lines of one event-loop turn go out in one write after the turn; none is lost on exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { batchedLogDestination } from '../../src/common/batched-log-destination.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

test('the lines of a turn are written together after it, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-log-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    const d = batchedLogDestination(fd);
    d.write('one\n');
    d.write('two\n');
    assert.equal(readFileSync(file, 'utf8'), '', 'not yet: the turn is not over');
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    d.write('three\n');
    d.flushSync();
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\nthree\n');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines logged just before process.exit() are written', () => {
  const module = resolve('src/common/batched-log-destination.ts');
  const script = `import { batchedLogDestination } from ${JSON.stringify(module)}; const d = batchedLogDestination(1); d.write('last words\\n'); process.exit(3);`;
  let out = '';
  try {
    execFileSync(process.execPath, ['--import', TS_LOADER, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  } catch (e) {
    out = (e as { stdout: string; status: number }).stdout;
    assert.equal((e as { status: number }).status, 3);
  }
  assert.equal(out, 'last words\n');
});
