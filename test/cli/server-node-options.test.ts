// The servers' node options (src/common/server-node-options.ts): bin/dsf.mjs's first line carries them,
// as do the npm scripts that start servers, and started as an executable through that line, node's heap is
// the one they configure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_OPTIONS } from '../../src/common/server-node-options.ts';

const DSF = fileURLToPath(new URL('../../bin/dsf.mjs', import.meta.url));
/** A module that prints the heap's limit (old generation plus the young generation's most) before bin/dsf.mjs runs, and ends the process. */
const PRINT_LIMIT = `data:text/javascript,${encodeURIComponent("import v8 from 'node:v8'; console.log(v8.getHeapStatistics().heap_size_limit); process.exit(0);")}`;
const limitOf = (file: string, args: string[], env: NodeJS.ProcessEnv = {}) => Number(execFileSync(file, args, { env: { ...process.env, NODE_OPTIONS: `--import=${PRINT_LIMIT}`, ...env }, encoding: 'utf8' }).trim());

test('bin/dsf.mjs starts node with the servers’ options', () => {
  const first = readFileSync(DSF, 'utf8').split('\n')[0];
  assert.equal(first, `#!/usr/bin/env -S node ${SERVER_NODE_OPTIONS.join(' ')}`);
});

test('npm start and npm run dsf start node with them too', () => {
  const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts as Record<string, string>;
  for (const name of ['start', 'dsf']) assert.ok(scripts[name]!.startsWith(`node ${SERVER_NODE_OPTIONS.join(' ')} `), `${name}: ${scripts[name]}`);
});

test('the options take effect when bin/dsf.mjs runs as an executable, and not without them', () => {
  const withOptions = limitOf(process.execPath, [...SERVER_NODE_OPTIONS, '-e', '0']);
  const plain = limitOf(process.execPath, ['-e', '0']);
  assert.ok(withOptions > plain, `the options change the heap's limit (${withOptions} vs ${plain})`);
  assert.equal(limitOf(DSF, ['--version']), withOptions);
});
