// A cluster's postmaster.pid after a crash. PostgreSQL itself ignores the file when its PID is dead,
// but two cases stop it: the PID now belongs to another program, and the old postmaster is still
// running because the process that started it was killed (SIGKILL does not reach PostgreSQL). We
// remove the first and shut the second down, unless the process that started it is still alive.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedPostgresError } from './embedded-error.ts';

const OWNER_FILE = 'postmaster.owner';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const r = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }
}

/** Start time of a process (clock ticks since boot, Linux), to tell a reused PID from the original. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function recordedPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isPostmasterOf(pid: number, dataDir: string): boolean {
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.includes('postgres') && cmd.includes(dataDir);
}

/** Whether a postmaster is running on `dataDir`. */
export function postmasterAlive(dataDir: string): boolean {
  const pid = recordedPid(dataDir);
  return pid !== undefined && pidAlive(pid) && isPostmasterOf(pid, dataDir);
}

/** Records this process as the one that started the postmaster of `dataDir`. */
export function recordPostmasterOwner(dataDir: string): void {
  writeFileSync(join(dirname(dataDir), OWNER_FILE), `${process.pid} ${startTime(process.pid)}\n`);
}

function ownerStillRunning(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dirname(dataDir), OWNER_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  const [pidText, started = ''] = text.split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
  return started === '' || startTime(pid) === started ? pid : undefined;
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (!pidAlive(pid)) return true;
    await sleep(100);
  }
  return !pidAlive(pid);
}

/** Makes `dataDir` startable after a crash; refuses when another live process uses the cluster. */
export async function clearStalePostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = recordedPid(dataDir);
  if (pid === undefined || !pidAlive(pid)) return; // PostgreSQL handles a dead PID itself
  if (!isPostmasterOf(pid, dataDir)) {
    log(`removing stale ${pidFile}: PID ${pid} is now another program`);
    rmSync(pidFile, { force: true });
    return;
  }
  const owner = ownerStillRunning(dataDir);
  if (owner !== undefined) {
    throw new EmbeddedPostgresError(
      `the cluster in ${dataDir} is in use by PostgreSQL (PID ${pid}), started by the running process ${owner}`,
      [],
      `stop that process first (e.g. the other \`npm start\`), or use another data folder`,
    );
  }
  log(`shutting down PostgreSQL (PID ${pid}) left running on ${dataDir} by a process that ended`);
  process.kill(pid, 'SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
  if (await waitForExit(pid, 20_000)) return;
  process.kill(pid, 'SIGQUIT'); // immediate shutdown; crash recovery runs at the next start
  if (await waitForExit(pid, 5_000)) return;
  throw new EmbeddedPostgresError(
    `PostgreSQL (PID ${pid}) left running on ${dataDir} did not stop`,
    [],
    `stop PID ${pid} by hand, then start again`,
  );
}
