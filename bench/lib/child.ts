// Runs a server in a child process (so load generator and server do not share one event loop) and
// reads its resident memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  proc: ChildProcess;
  output: () => string;
  rssMiB(): number;
  stop(): Promise<void>;
}

/** nodeArgs: options for node itself (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
export async function startChild(args: string[], env: Record<string, string | undefined>, readyPattern: RegExp, timeoutMs = 60_000, nodeArgs: string[] = []): Promise<Child & { match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + timeoutMs;
  let match: RegExpMatchArray | null = null;
  while (!(match = out.match(readyPattern)) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!match) {
    proc.kill('SIGKILL');
    throw new Error(`child ${args.join(' ')} did not start:\n${out}`);
  }
  return {
    proc,
    match,
    output: () => out,
    rssMiB() {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
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
