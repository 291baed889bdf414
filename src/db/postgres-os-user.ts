// PostgreSQL refuses to run as root. When we are root, its programs run as the system user
// `postgres` (created when missing, as a fresh container has none); otherwise as ourselves.
import { spawnSync } from 'node:child_process';
import { EmbeddedPostgresError } from './embedded-error.ts';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

function lookup(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The user PostgreSQL runs as when we are root; undefined when we are not root. */
export function postgresOsUser(): OsUser | undefined {
  if (!runningAsRoot()) return undefined;
  const existing = lookup('postgres');
  if (existing) return existing;
  const attempts = [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']],
    ['adduser', ['-S', '-D', '-H', 'postgres']], // busybox (Alpine)
  ] as const;
  const errors: string[] = [];
  for (const [cmd, args] of attempts) {
    const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
    if (r.status === 0) break;
    errors.push(`${cmd}: ${r.error?.message ?? r.stderr.trim()}`);
  }
  const created = lookup('postgres');
  if (created) return created;
  throw new EmbeddedPostgresError(
    'running as root, and there is no system user "postgres" to run PostgreSQL as, and creating one failed',
    errors,
    'create a system user named postgres (e.g. `useradd --system postgres`), run as a non-root user, or configure an external PostgreSQL by URL',
  );
}

/**
 * Whether `user` may use `path` as the test(1) flags say (`-x` to enter a folder or run a program,
 * `-w` to write). Asked of the kernel as that user, so it covers every folder on the way and ACLs.
 */
export function userCan(user: OsUser, flags: readonly string[], path: string): boolean {
  const script = flags.map((f, i) => `test ${f} "$${i + 1}"`).join(' && ');
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', ...flags.map(() => path)], { uid: user.uid, gid: user.gid });
  return r.status === 0;
}
