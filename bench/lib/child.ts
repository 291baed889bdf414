// Runs a server in a child process (so load generator and server do not share one event loop) and
// reads its resident memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

export interface Child {
  proc: ChildProcess;
  output: () => string;
  rssMiB(): number;
  /** CPU time the child process (all its threads) has used so far, in microseconds (from /proc). */
  cpuMicros(): number;
  stop(): Promise<void>;
}

/** nodeArgs: options for node itself (e.g. --cpu-prof, which NODE_OPTIONS may not carry); cwd: another checkout to run. */
export async function startChild(args: string[], env: Record<string, string | undefined>, readyPattern: RegExp, timeoutMs = 60_000, nodeArgs: string[] = [], cwd?: string): Promise<Child & { match: RegExpMatchArray }> {
  // The child writes its output (a log line per request) to a file, not a pipe: reading it would cost
  // the load generator's CPU during the server's workloads only, and so skew the ratios.
  const dir = mkdtempSync(join(tmpdir(), 'dsf-bench-child-'));
  const file = join(dir, 'output.log');
  const fd = openSync(file, 'w');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', TS_LOADER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], cwd });
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

/**
 * CPU time of all threads of a process in microseconds: the sum of each thread's time on a CPU from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds). /proc/<pid>/stat counts in clock ticks of 10 ms,
 * too coarse for a round of a few hundred requests.
 */
export function processCpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1000;
}
