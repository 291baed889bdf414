// The identity cache's loads: concurrent misses of one credential share one load, so every request gets
// the same Identity object (the read-access filter and the coalescing group are per Identity object).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityCache } from '../../../src/fhir/auth/identity-cache.ts';
import type { Identity } from '../../../src/fhir/types/identity.ts';

const identity = (n: number) => ({ displayName: `who ${n}` }) as unknown as Identity;

test('concurrent misses of one key share one load and get the same identity object', async () => {
  const cache = new IdentityCache(30_000);
  let loads = 0;
  const load = async () => {
    const n = ++loads;
    await new Promise((r) => setTimeout(r, 10 * (5 - n)));
    return { value: identity(n) };
  };
  const got = await Promise.all(Array.from({ length: 4 }, () => cache.getOrLoad('cert:x', load)));
  assert.equal(loads, 1);
  assert.ok(got.every((g) => g === got[0]));
  assert.equal(cache.get('cert:x'), got[0]);
});

test('a load started before a clear serves nobody who asks after it, and is not stored', async () => {
  const cache = new IdentityCache(30_000);
  let release!: () => void;
  const first = cache.getOrLoad('cert:x', () => new Promise((r) => (release = () => r({ value: identity(1) }))));
  cache.clear();
  const second = cache.getOrLoad('cert:x', async () => ({ value: identity(2) }));
  release();
  assert.equal((await first)!.displayName, 'who 1');
  assert.equal((await second)!.displayName, 'who 2');
  assert.equal(cache.get('cert:x')!.displayName, 'who 2');
});

test('a failed load fails its waiters and the next miss loads again', async () => {
  const cache = new IdentityCache(30_000);
  const failing = () => new Promise<{ value: Identity }>((_, reject) => setTimeout(() => reject(new Error('db down')), 5));
  const results = await Promise.allSettled([cache.getOrLoad('cert:x', failing), cache.getOrLoad('cert:x', failing)]);
  assert.ok(results.every((r) => r.status === 'rejected'));
  assert.equal((await cache.getOrLoad('cert:x', async () => ({ value: identity(3) })))!.displayName, 'who 3');
});
