// One child process of a test network (a FHIR server or a BPE): spawned through our TypeScript loader with its own
// environment, ready when it says so over IPC, its output kept (printed when DSF_TEST_VERBOSE is set).
// stop() asks it to end (SIGTERM) and waits; kill() ends it at once (SIGKILL), as a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TS_LOADER } from '../common/ts-loader-flag.ts';
import type { SiteProcessMessage } from './site-main.ts';

const SITE_MAIN = fileURLToPath(new URL('./site-main.ts', import.meta.url));
/** Lines kept per process: enough to read what happened, bounded for long tests. */
const MAX_LINES = 20_000;

export class SiteProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly lines: string[] = [];

  constructor(
    readonly label: string,
    private readonly role: 'fhir' | 'bpe',
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves when it is ready; rejects with its output when it fails or exits. */
  async start(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
    if (this.running) throw new Error(`${this.label} is already running`);
    const child = spawn(process.execPath, ['--import', TS_LOADER, SITE_MAIN, this.role], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        for (const line of parts) this.keep(line);
      });
      stream.on('end', () => rest && this.keep(rest));
    }
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${this.label} did not start: ${why}\n${this.lines.slice(-40).join('\n')}`));
      };
      const timer = setTimeout(() => {
        fail(`not ready after ${timeoutMs} ms`);
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('message', (m: SiteProcessMessage) => {
        if ('ready' in m) {
          clearTimeout(timer);
          resolve();
        } else fail(m.failed.split('\n')[0]!);
      });
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after the grace period). */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: no clean-up at all, as a crash or a power cut. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    if (process.env.DSF_TEST_VERBOSE) console.log(`[${this.label}] ${line}`);
  }
}
