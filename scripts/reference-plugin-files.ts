// Reading a reference plugin's files unchanged (from a git repository at a ref, a checkout, or an
// unpacked jar) and laying them into a scratch plugin folder next to a generated index.ts. Shared by
// the scripts that run the reference's files with our activities; nothing is copied into this repository.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A file: URL for an import in a generated index.ts. */
export const importUrl = (path: string) => pathToFileURL(path).href;

export interface ReadFilesOptions {
  /** The folder inside the repository (or checkout) whose files are wanted, e.g. src/main/resources. */
  root: string;
  /** Only these top-level folders under root (all files when absent). */
  tops?: string[];
  /** Git ref, for a git repository. */
  gitRef: string;
}

/**
 * The files under options.root of `path` (a checkout or source folder that has root, a folder that
 * is itself the root such as an unpacked jar, or a git repository read at gitRef), keyed by their
 * path relative to root. Blobs the git repository lacks (a partial mirror) are left out and listed.
 */
export function readReferenceFiles(path: string, options: ReadFilesOptions): { files: Map<string, string>; missing: string[] } {
  const files = new Map<string, string>();
  const missing: string[] = [];
  const tops = options.tops ?? [''];
  const fromFolder = (base: string) => {
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else files.set(relative(base, full), readFileSync(full, 'utf8'));
      }
    };
    for (const top of tops) if (existsSync(join(base, top))) walk(join(base, top));
  };
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  if (isDir(join(path, options.root))) fromFolder(join(path, options.root));
  else if (options.tops?.some((top) => top && isDir(join(path, top)))) fromFolder(path);
  else {
    const git = (...args: string[]) => execFileSync('git', ['-C', path, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    const root = options.root.replace(/\/$/, '');
    for (const file of git('ls-tree', '-r', '--name-only', options.gitRef, ...tops.map((t) => (t ? `${root}/${t}` : root))).split('\n').filter(Boolean)) {
      try {
        files.set(file.slice(root.length + 1), git('show', `${options.gitRef}:${file}`));
      } catch {
        missing.push(file);
      }
    }
  }
  if (files.size === 0) throw new Error(`${path}: no files found under ${options.root} (at ${options.gitRef} if a git repository)`);
  return { files, missing };
}

/** Writes the needed files unchanged into dir/folder, plus package.json and the given index.ts; returns the folder. */
export function writeScratchPlugin(dir: string, folder: string, files: Map<string, string>, needed: Iterable<string>, indexTs: string, what = folder): string {
  const target = join(dir, folder);
  mkdirSync(target, { recursive: true });
  for (const file of new Set(needed)) {
    const text = files.get(file);
    if (text === undefined) throw new Error(`${what}: ${file} not found in the given sources`);
    mkdirSync(dirname(join(target, file)), { recursive: true });
    writeFileSync(join(target, file), text);
  }
  writeFileSync(join(target, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(target, 'index.ts'), indexTs);
  return target;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs named checks, prints PASS/FAIL lines as they finish, and counts them. */
export class CheckList {
  readonly checks: Check[] = [];

  async check(name: string, run: () => Promise<string>): Promise<boolean> {
    const started = Date.now();
    try {
      const detail = await run();
      this.checks.push({ name, ok: true, detail });
      console.log(`PASS ${name}: ${detail} (${Date.now() - started} ms)`);
      return true;
    } catch (e) {
      this.fail(name, (e as Error).message);
      return false;
    }
  }

  fail(name: string, detail: string): void {
    this.checks.push({ name, ok: false, detail });
    console.log(`FAIL ${name}: ${detail}`);
  }

  /** Prints the tally; the process exit code (0 when every check passed). */
  finish(): number {
    const failed = this.checks.filter((c) => !c.ok);
    console.log(`\n${this.checks.length - failed.length} of ${this.checks.length} checks passed`);
    return failed.length || this.checks.length === 0 ? 1 : 0;
  }
}
