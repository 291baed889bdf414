// When we run as root and the `postgres` user cannot enter the folder a cluster belongs to (a clone
// under /root, mode 0700), the cluster lives in a folder it can reach instead, linked both ways:
//   <folder>/cluster-location        -> path of the relocated cluster
//   <cluster>/owner                  -> the folder it belongs to
// Removing <folder> (e.g. the demo folder) unlinks the cluster: the next start makes a new one and
// removes clusters whose owner no longer points back at them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { postmasterAlive } from './postmaster-lock.ts';

const LOCATION_FILE = 'cluster-location';
const OWNER_FILE = 'owner';
/** A cluster folder without an owner file younger than this may be one being created right now. */
const UNFINISHED_GRACE_MS = 60 * 60 * 1000;

/** Where relocated clusters and binaries go: DSF_EMBEDDED_POSTGRES_ROOT_DIR, /var/lib/dsf-ts/embedded-postgres or the temp folder. */
export function relocationRoot(env: Record<string, string | undefined> = process.env): string {
  const configured = env.DSF_EMBEDDED_POSTGRES_ROOT_DIR;
  if (configured) return resolve(configured);
  for (const candidate of ['/var/lib/dsf-ts/embedded-postgres', join(tmpdir(), 'dsf-ts-embedded-postgres')]) {
    try {
      mkdirSync(candidate, { recursive: true, mode: 0o755 });
      return candidate;
    } catch {
      // not writable here; try the next
    }
  }
  return join(tmpdir(), 'dsf-ts-embedded-postgres');
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The relocated cluster folder of `ownerDir`, made (and linked) when there is none yet. */
export function relocatedClusterDir(ownerDir: string, root: string): { dir: string; created: boolean } {
  const owner = resolve(ownerDir);
  const linked = readTrimmed(join(owner, LOCATION_FILE));
  if (linked && readTrimmed(join(linked, OWNER_FILE)) === owner) return { dir: linked, created: false };
  const dir = join(root, 'clusters', randomUUID());
  // The owner's link is written first, so a concurrent orphan sweep never sees the new cluster unlinked.
  writeFileSync(join(owner, LOCATION_FILE), `${dir}\n`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, OWNER_FILE), `${owner}\n`);
  return { dir, created: true };
}

/** Removes relocated clusters whose owner folder is gone or now links elsewhere; returns their paths. */
export function removeOrphanClusters(root: string): string[] {
  const clusters = join(root, 'clusters');
  if (!existsSync(clusters)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(clusters)) {
    const dir = join(clusters, name);
    const owner = readTrimmed(join(dir, OWNER_FILE));
    if (owner === undefined) {
      const age = Date.now() - statSync(dir).mtimeMs;
      if (age < UNFINISHED_GRACE_MS) continue;
    } else if (readTrimmed(join(owner, LOCATION_FILE)) === dir) continue;
    if (postmasterAlive(join(dir, 'data'))) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
