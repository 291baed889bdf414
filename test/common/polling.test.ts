// waitFor's failure message says what was awaited and why the checks failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../src/common/polling.ts';

test('waitFor returns the first truthy value', async () => {
  let n = 0;
  assert.equal(await waitFor('the third check', () => (++n === 3 ? 'done' : undefined), 5_000, 1), 'done');
  assert.equal(n, 3);
});

test('a timeout names what was awaited and the error of the last check', async () => {
  await assert.rejects(
    waitFor('the answer', () => {
      throw new Error('connection refused');
    }, 30, 5),
    /timed out after 30 ms waiting for the answer: connection refused$/,
  );
});

test('an error of an earlier check is kept when later checks only returned false', async () => {
  let n = 0;
  await assert.rejects(
    waitFor('the answer', () => {
      if (++n === 1) throw new Error('not there yet: 404');
      return false;
    }, 30, 5),
    /waiting for the answer \(an earlier check failed: not there yet: 404\)$/,
  );
});
