// The folder of the embedded PostgreSQL's Unix-domain socket. Our own connections go over it rather
// than loopback TCP: a message costs less (on loopback TCP the sender's system call also runs the
// receiver's whole protocol stack), and only the folder's owner (and root) may connect.
// A socket's path is limited (sun_path, 108 bytes with its NUL), so a deep data folder gets a fresh
// folder under the temp folder instead, removed when the server stops.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OsUser } from './postgres-os-user.ts';

/** Longest path PostgreSQL accepts for a socket file (sun_path less its terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** The file PostgreSQL makes in the folder for `port`. */
export function socketFile(dir: string, port: number): string {
  return join(dir, `.s.PGSQL.${port}`);
}

export function fitsSocketPath(dir: string): boolean {
  return Buffer.byteLength(socketFile(dir, 65535)) <= MAX_SOCKET_PATH_BYTES;
}

export interface SocketFolder {
  dir: string;
  /** Removes the folder if it was made for this start only (the temp folder fallback). */
  release(): void;
}

/**
 * A 0700 folder owned by the user PostgreSQL runs as (`user`, or ourselves): `preferred` (next to the
 * cluster's data, where that user can already reach) when its socket path fits, else a new folder
 * under the temp folder.
 */
export function socketFolder(preferred: string, user: OsUser | undefined): SocketFolder {
  if (fitsSocketPath(preferred)) {
    mkdirSync(preferred, { recursive: true, mode: 0o700 });
    ownPrivately(preferred, user);
    return { dir: preferred, release: () => {} };
  }
  const base = [tmpdir(), '/tmp'].find((b) => fitsSocketPath(join(b, 'dsf-pg-XXXXXX')));
  if (!base) throw new Error(`no folder for the PostgreSQL socket: ${preferred} and the temp folder are too long for a socket path`);
  const dir = mkdtempSync(join(base, 'dsf-pg-'));
  ownPrivately(dir, user);
  return { dir, release: () => rmSync(dir, { recursive: true, force: true }) };
}

function ownPrivately(dir: string, user: OsUser | undefined): void {
  chmodSync(dir, 0o700); // mkdir's mode is masked by the umask, and an existing folder keeps its own
  if (user) chownSync(dir, user.uid, user.gid);
}
