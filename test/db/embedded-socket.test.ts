// The embedded PostgreSQL is reached over a Unix-domain socket in a 0700 folder of its own, not over
// TCP; a deep data folder gets its socket folder under the temp folder; an external URL is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { withDatabase } from '../../src/db/pool.ts';
import { postgresOsUser } from '../../src/db/postgres-os-user.ts';
import { fitsSocketPath } from '../../src/db/socket-folder.ts';
import { networkDatabases } from '../../src/testkit/database.ts';

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A temporary folder the postgres user can enter (as root), so that the cluster is not relocated. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** The folder's mode is 0700 and it belongs to the user PostgreSQL runs as. */
function assertPrivate(dir: string): void {
  const s = statSync(dir);
  assert.equal(s.mode & 0o777, 0o700, `${dir} has mode ${(s.mode & 0o777).toString(8)}`);
  assert.equal(s.uid, postgresOsUser()?.uid ?? process.getuid!());
}

test('the URL connects over the socket in a 0700 folder next to the data, with no TCP listener; kept across a restart', { timeout: 120_000 }, async () => {
  const dir = tempDir('dsf-socket-');
  const lines: string[] = [];
  try {
    let db = await startEmbeddedPostgres(dir, { log: (l) => lines.push(l) });
    assert.equal(db.socketDir, join(dir, 'socket'));
    assertPrivate(db.socketDir);
    const url = new URL(db.url);
    assert.equal(url.searchParams.get('host'), db.socketDir);
    assert.equal((await query(db.url, 'SELECT inet_server_addr() AS a')).rows[0].a, null, 'a Unix-domain socket has no server address');
    assert.equal((await query(db.url, 'SHOW listen_addresses')).rows[0].listen_addresses, '');
    assert.ok(lines.some((l) => l === `PostgreSQL ready on ${join(db.socketDir, `.s.PGSQL.${url.port}`)} (no TCP port)`), lines.join('\n'));
    // Code that names another database by rewriting the pathname keeps the socket.
    await query(db.url, 'CREATE DATABASE socket_other');
    assert.equal((await query(withDatabase(db.url, 'socket_other'), 'SELECT current_database() AS d, inet_server_addr() AS a')).rows[0].d, 'socket_other');
    await query(db.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$over the socket$$)');
    await db.stop();

    db = await startEmbeddedPostgres(dir);
    try {
      assert.equal(db.socketDir, join(dir, 'socket'));
      assertPrivate(db.socketDir);
      assert.deepEqual((await query(db.url, 'SELECT v FROM kept')).rows, [{ v: 'over the socket' }]);
    } finally {
      await db.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data folder too deep for a socket path gets a fresh 0700 socket folder under the temp folder, removed at stop', { timeout: 120_000 }, async () => {
  const base = tempDir('dsf-deep-');
  let deep = base;
  while (fitsSocketPath(join(deep, 'socket'))) {
    deep = join(deep, 'a-folder-deep-down');
    mkdirSync(deep);
    chmodSync(deep, 0o755);
  }
  try {
    const db = await startEmbeddedPostgres(join(deep, 'postgres'));
    let socketDir = db.socketDir;
    try {
      assert.ok(socketDir.startsWith(join(tmpdir(), 'dsf-pg-')) || socketDir.startsWith('/tmp/dsf-pg-'), socketDir);
      assertPrivate(socketDir);
      assert.equal((await query(db.url, 'SELECT inet_server_addr() AS a')).rows[0].a, null);
    } finally {
      await db.stop();
    }
    assert.equal(existsSync(socketDir), false, 'the temporary socket folder is removed');

    const again = await startEmbeddedPostgres(join(deep, 'postgres'));
    socketDir = again.socketDir;
    try {
      assert.equal((await query(again.url, 'SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await again.stop();
    }
    assert.equal(existsSync(socketDir), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a database URL given from outside (DSF_TEST_DATABASE_URL) is used as it is', { timeout: 60_000 }, async () => {
  const given = process.env.DSF_TEST_DATABASE_URL;
  if (!given) return;
  const work = mkdtempSync(join(tmpdir(), 'dsf-external-'));
  const dbs = await networkDatabases(given, work, () => {});
  try {
    const made = new URL(await dbs.create('socket_check'));
    const original = new URL(given);
    assert.equal(made.host, original.host);
    assert.equal(made.search, original.search);
    const server = (await query(made.toString(), 'SELECT inet_server_addr()::text AS a')).rows[0].a;
    const direct = (await query(given, 'SELECT inet_server_addr()::text AS a')).rows[0].a;
    assert.equal(server, direct, 'connected the way the given URL says');
  } finally {
    await dbs.close();
    rmSync(work, { recursive: true, force: true });
  }
});
