// The load hook behind ts-loader.mjs (it runs on Node's loader thread): .ts and .mts files become ES modules
// through esbuild's transform; everything else goes to Node's own loader. Relative imports name their .ts
// files, so Node's resolver finds them without help. Transforms are cached on disk (ts-loader-cache.mjs).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stop, transform, version } from 'esbuild';
import { cached, cacheKey, keep } from './ts-loader-cache.mjs';

const TYPESCRIPT = /\.m?ts$/;

/** tsc's output for our tsconfig (target ES2022, so class fields are defined, not assigned); no keepNames. */
const OPTIONS = Object.freeze({
  loader: 'ts',
  format: 'esm',
  target: 'es2022',
  // Kept as written, as tsc does for module NodeNext (esbuild's es2022 would drop them).
  supported: { 'import-attributes': true },
  platform: 'node',
  sourcemap: 'inline',
  // Maps name the file; its text is on disk (smaller sources for V8 to keep), as tsx does.
  sourcesContent: false,
  // Less source for V8 to scan; the source map keeps the lines (tsx does the same).
  minifyWhitespace: true,
  tsconfigRaw: { compilerOptions: { target: 'ES2022', useDefineForClassFields: true } },
});
/** What else decides a module's code: a change of options or of esbuild misses the cache. */
const SALT = `${version} ${JSON.stringify(OPTIONS)}`;

/**
 * esbuild's service is a child process (14-18 MB resident) that would otherwise live as long as ours; modules
 * load at start-up and on a few late imports, so it is ended when idle, and the next transform starts it anew.
 */
const IDLE_MS = 1000;
let transforming = 0;
let idle;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const key = cacheKey(SALT, file, source);
  const hit = await cached(key);
  if (hit !== undefined) return { format: 'module', source: hit, shortCircuit: true };
  transforming++;
  clearTimeout(idle);
  try {
    const { code } = await transform(source, { ...OPTIONS, sourcefile: file });
    await keep(key, code);
    return { format: 'module', source: code, shortCircuit: true };
  } finally {
    if (--transforming === 0) idle = setTimeout(() => void stop(), IDLE_MS).unref();
  }
}
