// The PostgreSQL server of a test network: the given URL, DSF_TEST_DATABASE_URL, or an embedded one in
// the network's work folder. Each site gets two new databases (FHIR, BPE), dropped with the network.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { ensureDatabase, withDatabase } from '../db/pool.ts';

export interface NetworkDatabases {
  /** postgres:// URL of a new database for this network. */
  create(name: string): Promise<string>;
  /** Drops the databases made here (external server) or stops the embedded server. */
  close(): Promise<void>;
}

export async function networkDatabases(url: string | undefined, workDir: string, log: (line: string) => void): Promise<NetworkDatabases> {
  const prefix = `dsfkit_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const made: string[] = [];
  let server = url;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!server) {
    log(`starting embedded PostgreSQL in ${join(workDir, 'postgres')}`);
    const embedded = await startEmbeddedPostgres(join(workDir, 'postgres'));
    server = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const base = server;
  return {
    async create(name) {
      const database = `${prefix}_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
      const dbUrl = withDatabase(base, database);
      await ensureDatabase(dbUrl);
      made.push(database);
      return dbUrl;
    },
    async close() {
      if (stopEmbedded) return stopEmbedded();
      const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
      await admin.connect();
      try {
        for (const database of made) await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
