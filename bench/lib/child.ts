// Runs a server in a child process (so load generator and server do not share one event loop) and
// reads its resident memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Child {
  proc: ChildProcess;
  output: () => string;
  rssMiB(): number;
  /** CPU time (user + system) the child process has used so far, in microseconds (from /proc/<pid>/stat). */
  cpuMicros(): number;
  stop(): Promise<void>;
}

/** nodeArgs: options for node itself (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
export async function startChild(args: string[], env: Record<string, string | undefined>, readyPattern: RegExp, timeoutMs = 60_000, nodeArgs: string[] = []): Promise<Child & { match: RegExpMatchArray }> {
  // The child writes its output (a log line per request) to a file, not a pipe: reading it would cost
  // the load generator's CPU during the server's workloads only, and so skew the ratios.
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-child-'));
  const file = join(dir, 'output.log');
  const fd = openSync(file, 'w');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = () => readFileSync(file, 'utf8');
  const deadline = Date.now() + timeoutMs;
  let match: RegExpMatchArray | null = null;
  while (!(match = out().match(readyPattern)) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!match) {
    proc.kill('SIGKILL');
    throw new Error(`child ${args.join(' ')} did not start:\n${out()}`);
  }
  return {
    proc,
    match,
    output: out,
    rssMiB() {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    },
    cpuMicros() {
      return processCpuMicros(proc.pid!);
    },
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          proc.kill('SIGKILL');
          r(undefined);
        }, 10_000);
        proc.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    },
  };
}

// Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux platform Node runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in microseconds. The command name (field 2) may hold spaces, so fields
 * are counted from its closing parenthesis: utime and stime are fields 14 and 15. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}
