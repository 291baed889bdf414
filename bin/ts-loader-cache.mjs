// The TS loader's transform cache on disk: one file per transformed module, named by a hash of its path, its
// TypeScript text and the transform's options, so an edited file or a new esbuild misses and nothing needs
// invalidating. In node_modules/.cache (the project's own, not a shared temporary folder others could write);
// where that cannot be written, modules are transformed every time. DSF_TS_LOADER_CACHE=0 turns it off.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../node_modules/.cache/dsf-ts-loader/', import.meta.url));
const enabled = process.env.DSF_TS_LOADER_CACHE !== '0';
let made;

export function cacheKey(salt, file, source) {
  return createHash('sha256').update(salt).update('\0').update(file).update('\0').update(source).digest('hex');
}

/** The cached code, or undefined. */
export async function cached(key) {
  if (!enabled) return undefined;
  try {
    return await readFile(DIR + key, 'utf8');
  } catch {
    return undefined;
  }
}

/** Written under a name of its own, then renamed: processes starting together never read half a file. */
export async function keep(key, code) {
  if (!enabled) return;
  try {
    made ??= mkdir(DIR, { recursive: true });
    await made;
    const part = `${DIR}${key}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(part, code);
    await rename(part, DIR + key);
  } catch {
    // not writable here: transform every time
  }
}
