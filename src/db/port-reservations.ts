// A port found free is bound by its server only seconds later (a site's child process must start
// first). Several test runs or demos on one machine pick ports from the same range, so two of them
// can pick the same port in that window and one fails with EADDRINUSE. A reservation is a file named
// after the port in a folder all processes of the machine share, holding the reserving process's id;
// other processes skip the port while that process lives. Reservations end when the process exits.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(tmpdir(), 'dsf-port-reservations');
const held = new Set<number>();
let cleanupRegistered = false;
const STALE_EMPTY_MS = 10_000;

/**
 * Reserves the port for this process: false when a live process (this one included) holds it already.
 * Where reservations cannot be written (a read-only temp folder), every port counts as reservable: the
 * bind check still applies.
 */
export function reservePort(port: number): boolean {
  if (held.has(port)) return false;
  try {
    mkdirSync(DIR, { recursive: true, mode: 0o1777 });
  } catch {
    return true;
  }
  const file = join(DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      held.add(port);
      registerCleanup();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true;
    }
    const holder = holderOf(file);
    // Without a pid the file is between creation and write, or its writer died in between.
    if (holder === undefined ? !olderThan(file, STALE_EMPTY_MS) : alive(holder)) return false;
    try {
      unlinkSync(file); // left by a process that ended without cleaning up
    } catch {
      return false;
    }
  }
  return false;
}

/** Gives the port back (a port that turned out not bindable, or a server that stopped for good). */
export function releasePort(port: number): void {
  if (!held.delete(port)) return;
  try {
    unlinkSync(join(DIR, String(port)));
  } catch {
    // already gone
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > ms;
  } catch {
    return true;
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const port of [...held]) releasePort(port);
  });
}
