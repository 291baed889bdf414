// Embedded PostgreSQL start-up as a newcomer meets it: as root with the project in a folder only root
// may enter, as a normal user, after a crash that left PostgreSQL running, and when it cannot start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { packagedBinaries } from '../../src/db/postgres-binaries.ts';
import { postgresOsUser, runningAsRoot, userCan } from '../../src/db/postgres-os-user.ts';
import { TS_LOADER } from '../../src/common/ts-loader-flag.ts';

async function query(db: EmbeddedDatabase, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A temporary folder the postgres user can enter, so that only the first test relocates. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

const notRoot = runningAsRoot() ? false : 'runs only as root (here the tests do not run as root)';

test('as root, with programs and data under a 0700 folder: relocated, kept across restarts, fresh after the folder is removed', { skip: notRoot, timeout: 120_000 }, async () => {
  const privateHome = mkdtempSync(join(tmpdir(), 'dsf-private-')); // mkdtemp makes it 0700, as /root
  chmodSync(privateHome, 0o700);
  const relocation = mkdtempSync(join(tmpdir(), 'dsf-relocated-'));
  chmodSync(relocation, 0o755);
  // The project's copy of the PostgreSQL programs sits in the private folder, as in a clone under /root.
  const binariesDir = join(privateHome, 'project', 'node_modules', 'pg-native');
  cpSync(packagedBinaries().dir, binariesDir, { recursive: true, verbatimSymlinks: true });
  const dir = join(privateHome, 'project', '.dsf', 'demo', 'postgres');
  const user = postgresOsUser()!;
  assert.equal(userCan(user, ['-x'], join(binariesDir, 'bin', 'postgres')), false, 'the postgres user must not reach the private folder');
  const lines: string[] = [];
  const opts = { binariesDir, relocationRoot: relocation, log: (l: string) => lines.push(l) };
  try {
    let db = await startEmbeddedPostgres(dir, opts);
    const firstCluster = db.dataDir;
    assert.ok(firstCluster.startsWith(relocation), firstCluster);
    assert.ok(lines.some((l) => l.includes('cannot enter') && l.includes(firstCluster.replace(/\/data$/, ''))), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('using a copy in')), lines.join('\n'));
    await query(db, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$survives a restart$$)');
    await db.stop();

    db = await startEmbeddedPostgres(dir, opts);
    assert.equal(db.dataDir, firstCluster);
    assert.deepEqual((await query(db, 'SELECT v FROM kept')).rows, [{ v: 'survives a restart' }]);
    await db.stop();

    rmSync(join(privateHome, 'project', '.dsf'), { recursive: true, force: true });
    db = await startEmbeddedPostgres(dir, opts);
    assert.notEqual(db.dataDir, firstCluster);
    assert.equal((await query(db, "SELECT to_regclass('kept') AS t")).rows[0].t, null, 'a removed folder starts afresh');
    assert.equal(existsSync(firstCluster), false, 'the orphaned cluster is removed');
    await db.stop();
  } finally {
    rmSync(privateHome, { recursive: true, force: true });
    rmSync(relocation, { recursive: true, force: true });
  }
});

/** Starts PostgreSQL for `dir` in a child process (optionally as another user) and keeps it running. */
function startInChild(dir: string, opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}) {
  const script = `
    import { startEmbeddedPostgres } from ${JSON.stringify(resolve('src/db/embedded.ts'))};
    import pg from 'pg';
    const db = await startEmbeddedPostgres(process.argv[1]);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('CREATE TABLE IF NOT EXISTS marks (v text)');
    await c.query("INSERT INTO marks VALUES ('written before the crash')");
    await c.end();
    console.log('READY ' + db.url);
    process.on('SIGTERM', async () => { await db.stop(); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', TS_LOADER, '--input-type=module', '-e', script, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: opts.uid,
    gid: opts.gid,
    env: opts.env ?? process.env,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}:\n${out}`));
    });
  });
  return { child, ready, output: () => out };
}

test('after the starting process was killed with SIGKILL, the next start takes over the cluster and its data', { timeout: 120_000 }, async () => {
  const dir = tempDir('dsf-crash-');
  const c = startInChild(dir);
  await c.ready;
  c.child.kill('SIGKILL');
  await new Promise((r) => c.child.once('exit', r));
  const lines: string[] = [];
  const db = await startEmbeddedPostgres(dir, { log: (l) => lines.push(l) });
  try {
    assert.ok(lines.some((l) => l.includes('left running') && l.includes('by a process that ended')), lines.join('\n'));
    assert.deepEqual((await query(db, 'SELECT v FROM marks')).rows, [{ v: 'written before the crash' }]);
  } finally {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cluster in use by another running process is refused with one clear message, and left running', { timeout: 120_000 }, async () => {
  const dir = tempDir('dsf-busy-');
  const c = startInChild(dir);
  const url = await c.ready;
  try {
    await assert.rejects(startEmbeddedPostgres(dir), (e: unknown) => {
      assert.ok(e instanceof EmbeddedPostgresError);
      assert.match(e.message, /is in use by PostgreSQL \(PID \d+\), started by the running process \d+/);
      assert.match(e.message, /What to do: stop that process first/);
      return true;
    });
    const still = new pg.Client({ connectionString: url });
    await still.connect();
    await still.end();
  } finally {
    c.child.kill('SIGTERM');
    await new Promise((r) => c.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a postmaster.pid whose PID now belongs to another program is removed', { timeout: 60_000 }, async () => {
  const dir = tempDir('dsf-stalepid-');
  let db = await startEmbeddedPostgres(dir);
  await db.stop();
  // The PID of this test process: alive, but not a postmaster.
  const pidFile = join(db.dataDir, 'postmaster.pid');
  writeFileSync(pidFile, `${process.pid}\n${db.dataDir}\n0\n5432\n\n\n`);
  const user = postgresOsUser();
  if (user) chownSync(pidFile, user.uid, user.gid);
  const lines: string[] = [];
  db = await startEmbeddedPostgres(dir, { log: (l) => lines.push(l) });
  try {
    assert.ok(lines.some((l) => l.includes('is now another program')), lines.join('\n'));
    assert.equal((await query(db, 'SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a start that fails says what failed, shows PostgreSQL\'s own lines and what to do; no unhandled error event', { timeout: 60_000 }, async () => {
  const dir = tempDir('dsf-fail-');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await assert.rejects(startEmbeddedPostgres(dir, { port }), (e: unknown) => {
      assert.ok(e instanceof EmbeddedPostgresError);
      assert.match(e.message, /^Embedded PostgreSQL could not start: the server on .* stopped during start-up/);
      assert.match(e.message, /PostgreSQL said:\n.*could not (bind|create listen socket)/s);
      assert.match(e.message, /What to do: the port is taken/);
      return true;
    });
    await assert.rejects(startEmbeddedPostgres(join(dir, 'other'), { binariesDir: join(dir, 'no-such-programs') }), (e: unknown) => {
      assert.ok(e instanceof EmbeddedPostgresError);
      assert.match(e.message, /the PostgreSQL program .*no-such-programs\/bin\/postgres does not exist/);
      return true;
    });
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('as a normal user in a normal folder', { timeout: 120_000 }, async (t) => {
  if (!runningAsRoot()) {
    const dir = tempDir('dsf-user-');
    const db = await startEmbeddedPostgres(dir);
    try {
      assert.equal((await query(db, 'SELECT current_user AS u')).rows[0].u, 'postgres');
    } finally {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  // As root, the same path is tried as the unprivileged user `nobody` in a child process.
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const nobody = { name: 'nobody', uid: id('-u'), gid: id('-g') };
  const readable = [resolve('src/db/embedded.ts'), resolve('node_modules/tsx/package.json'), packagedBinaries().postgres];
  const unreadable = readable.filter((f) => !userCan(nobody, ['-r'], f));
  if (Number.isNaN(nobody.uid) || unreadable.length) {
    t.skip(`the user nobody cannot read the project here (${unreadable.join(', ') || 'no such user'})`);
    return;
  }
  const home = mkdtempSync(join(tmpdir(), 'dsf-nobody-'));
  chownSync(home, nobody.uid, nobody.gid);
  const c = startInChild(join(home, 'pg'), { uid: nobody.uid, gid: nobody.gid, env: { ...process.env, HOME: home, TMPDIR: home } });
  try {
    const url = await c.ready;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    assert.deepEqual((await client.query('SELECT v FROM marks')).rows, [{ v: 'written before the crash' }]);
    await client.end();
    const owner = readFileSync(join(home, 'pg', 'data', 'PG_VERSION'), 'utf8');
    assert.ok(owner.length > 0);
  } finally {
    c.child.kill('SIGTERM');
    await new Promise((r) => c.child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
});
