// Request scopes (db/request-scope.ts) follow a request by hand, not through AsyncLocalStorage: on Node
// 20 an AsyncLocalStorage in use turns on promise hooks for every promise of the process, a few percent
// of the server's CPU per request. The FHIR server's process, having served requests of each kind,
// must still run with promise hooks off (probed in a process of its own: node:test turns them on here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

test('a FHIR server that served creates, reads, a search and a transaction never turned promise hooks on', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TS_LOADER, 'test/support/promise-hooks-probe.ts'], { timeout: 120_000, env: process.env });
  const seen = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, boolean>;
  assert.equal(seen.control, true, 'the probe sees promise hooks once an AsyncLocalStorage is in use');
  assert.deepEqual({ atStart: seen.atStart, afterStart: seen.afterStart, afterRequests: seen.afterRequests }, { atStart: false, afterStart: false, afterRequests: false });
});
