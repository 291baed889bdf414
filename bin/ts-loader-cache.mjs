// The TS loader's transform cache on disk: one file per transformed module, named by a hash of its path, its
// TypeScript text and the transform's options, so an edited file or a new esbuild misses and nothing needs
// invalidating. In node_modules/.cache (the project's own, not a shared temporary folder others could write);
// where that cannot be written, modules are transformed every time. DSF_TS_LOADER_CACHE=0 turns it off.
// Every edit leaves the module's old transform behind, so the folder is bounded (prune, below).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../node_modules/.cache/dsf-ts-loader/', import.meta.url));
const enabled = process.env.DSF_TS_LOADER_CACHE !== '0';
/** Files kept at most (a few versions of each of the project's modules); then pruned to half. */
export const MAX_CACHE_FILES = 4096;
let made;
let pruned = false;

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
    return;
  }
  if (!pruned) {
    pruned = true;
    await prune(DIR, MAX_CACHE_FILES);
  }
}

/**
 * When `dir` holds more than `max` files, removes the least recently written down to half of `max`
 * (a module still in use and removed is transformed once more). Runs only after a miss was written,
 * once per process: a start that finds everything in the cache never lists the folder.
 * Returns how many files it removed.
 */
export async function prune(dir, max) {
  let names;
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  if (names.length <= max) return 0;
  const dated = [];
  for (const name of names) {
    try {
      dated.push({ name, writtenMs: (await stat(dir + name)).mtimeMs });
    } catch {
      // removed meanwhile by another process
    }
  }
  dated.sort((a, b) => a.writtenMs - b.writtenMs);
  let removed = 0;
  for (const { name } of dated.slice(0, Math.max(0, dated.length - Math.floor(max / 2)))) {
    try {
      await unlink(dir + name);
      removed++;
    } catch {
      // removed meanwhile by another process
    }
  }
  return removed;
}
