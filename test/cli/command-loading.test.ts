// `dsf` loads only the sub-command it runs: scripts call `dsf status` or `dsf task show` in loops, and
// each start used to load the FHIR server and the BPE too (about 1 s of CPU instead of 0.4 s). Help
// and unknown commands still see every command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('../support/record-loaded-modules.mjs', import.meta.url));

/** Runs `dsf args`; returns its exit code, output and the source files of ours it loaded. */
function dsf(args: string[]): Promise<{ code: number; stdout: string; loaded: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-command-loading-'));
  const file = join(dir, 'modules');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TS_LOADER, '--import', RECORDER, MAIN, ...args], { timeout: 60_000, env: { ...process.env, DSF_TEST_LOADED_MODULES_FILE: file } }, (error, stdout) => {
      let lines: string[] = [];
      try {
        lines = readFileSync(file, 'utf8').split('\n');
      } catch {
        // nothing resolved through the hook
      }
      rmSync(dir, { recursive: true, force: true });
      const loaded = [...new Set(lines.filter((u) => u.includes('/src/')).map((u) => u.slice(u.indexOf('/src/') + 1)))];
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, loaded });
    });
  });
}

const SERVERS = ['src/fhir/fhir-server.ts', 'src/bpe/bpe-server.ts', 'src/cli/site.ts', 'src/cli/demo-network.ts'];

test('dsf status and dsf task load neither the FHIR server nor the BPE', async () => {
  for (const args of [['status', '--network', '/nonexistent/network.json'], ['task', 'list', '--network', '/nonexistent/network.json', '--site', 'x']]) {
    const r = await dsf(args);
    assert.equal(r.code, 2, `dsf ${args.join(' ')}: a missing network file is a usage error`);
    assert.ok(r.loaded.includes(`src/cli/${args[0]}-command.ts`), `the recorder saw the command's own module: ${r.loaded.join(', ')}`);
    assert.deepEqual(SERVERS.filter((m) => r.loaded.includes(m)), [], `dsf ${args[0]} loaded server code`);
  }
});

test('dsf --help still lists every command; a command runs its own code', async () => {
  const help = await dsf(['--help']);
  assert.equal(help.code, 0);
  for (const name of ['demo', 'fhir', 'bpe', 'site', 'certs', 'start-process', 'init', 'status', 'task', 'plugin']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'), `${name} in the help`);
  const demo = await dsf(['demo', '--help']);
  assert.equal(demo.code, 0);
  assert.match(demo.stdout, /^  add-site /m, 'demo keeps its sub-command add-site');
});
