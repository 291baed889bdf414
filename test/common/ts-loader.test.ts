// Our TypeScript loader (bin/ts-loader.mjs): esbuild's transform without keepNames, so named closures and
// classes made at run time cost no defineProperty each; stack traces name the .ts line; JSON imports keep
// their attribute. This process runs under it (test/run.ts starts the test runner with it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { load } from '../../bin/ts-loader-hooks.mjs';
import { prune } from '../../bin/ts-loader-cache.mjs';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

const FIXTURE = new URL('../fixtures/ts-loader/closures.ts', import.meta.url);

test('the loader emits no __name helper: names stay as written', async () => {
  const next = () => {
    throw new Error('a .ts file must not reach the next loader');
  };
  const result = await load(FIXTURE.href, { format: undefined, importAttributes: {}, importAssertions: {}, conditions: [] }, next);
  assert.equal(result.format, 'module');
  const source = String(result.source);
  assert.doesNotMatch(source, /__name|__defProp/);
  assert.match(source, /function two\(\)/);
  assert.match(source, /sourceMappingURL=data:application\/json;base64,/);
});

test('named closures made at run time define no name property', async () => {
  const original = Object.defineProperty;
  let names = 0;
  Object.defineProperty = function <T>(target: T, key: PropertyKey, attributes: PropertyDescriptor & ThisType<unknown>): T {
    if (key === 'name') names++;
    return original(target, key, attributes);
  };
  try {
    // The fixture's helpers (if any) capture Object.defineProperty when the module is evaluated: import it now.
    const { makeNamed } = await import(`${FIXTURE.href}?closures`);
    const made = (makeNamed as () => Array<() => number>)();
    assert.deepEqual(made.map((f) => f()), [1, 2, 3]);
    assert.deepEqual(made.map((f) => f.name), ['one', 'two', '']);
  } finally {
    Object.defineProperty = original;
  }
  assert.equal(names, 0, 'no closure or class was named through defineProperty');
});

test('stack traces point at the .ts line', async () => {
  const { throwHere } = await import(FIXTURE.href);
  let stack = '';
  try {
    (throwHere as () => never)();
  } catch (e) {
    stack = (e as Error).stack ?? '';
  }
  const frame = stack.split('\n')[1] ?? '';
  assert.ok(frame.includes(`${fileURLToPath(FIXTURE)}:19:`), `first frame names closures.ts line 19: ${frame}`);
});

test('JSON imports keep their attribute', async () => {
  const { packageName } = await import(FIXTURE.href);
  assert.equal(packageName, 'dsf-ts');
});

test('esbuild\'s service process is ended once modules stop loading', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const fixture = fileURLToPath(new URL('../fixtures/ts-loader/children-after-idle.ts', import.meta.url));
  // Without the cache, so that esbuild runs.
  const env = { ...process.env, DSF_TS_LOADER_CACHE: '0' };
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TS_LOADER, fixture], { timeout: 60_000, env });
  assert.deepEqual(JSON.parse(stdout), [], 'no child process left');
});

test('a module transformed once is read from the cache by the next process', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  // A module never seen before, which counts this process's children as it runs: esbuild's service among
  // them when it was transformed now (it outlives the transform by a second), none when read from the cache.
  const dir = mkdtempSync(join(tmpdir(), 'dsf-ts-loader-'));
  const file = join(dir, 'counts-children.ts');
  writeFileSync(
    file,
    `// ${randomUUID()}\nimport { readdirSync, readFileSync } from 'node:fs';\n` +
      `const children: string[] = readdirSync('/proc/self/task').flatMap((t) => readFileSync(\`/proc/self/task/\${t}/children\`, 'utf8').trim().split(/\\s+/).filter(Boolean));\n` +
      `console.log(children.length);\n`,
  );
  try {
    const run = async () => Number((await promisify(execFile)(process.execPath, ['--import', TS_LOADER, file], { timeout: 60_000 })).stdout);
    assert.ok((await run()) > 0, 'the first run transformed it');
    assert.equal(await run(), 0, 'the second run read it from the cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the transform cache is bounded: over its limit, the least recently written files go, down to half', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-ts-loader-prune-')) + '/';
  try {
    // Twelve files written a second apart (oldest first); a limit of ten keeps the five newest.
    for (let i = 0; i < 12; i++) {
      writeFileSync(join(dir, `f${i}`), 'x');
      utimesSync(join(dir, `f${i}`), 1_000_000 + i, 1_000_000 + i);
    }
    assert.equal(await prune(dir, 20), 0, 'under the limit nothing goes');
    assert.equal(await prune(dir, 10), 7);
    assert.deepEqual(readdirSync(dir).sort(), ['f10', 'f11', 'f7', 'f8', 'f9']);
    assert.equal(await prune(join(dir, 'missing') + '/', 10), 0, 'a missing folder is no error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
