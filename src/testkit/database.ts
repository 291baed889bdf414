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

/** Databases dropped at once when a network stops. */
const DROP_CONNECTIONS = 4;

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
      // Several at once, a connection each: one by one, the drops took about 1 s each (6 s for a
      // three-site network), most of it waiting on the server's disk. At most DROP_CONNECTIONS
      // connections, so a large network does not crowd out the other tests' connections.
      const queue = [...made];
      const dropper = async () => {
        for (let database = queue.shift(); database !== undefined; database = queue.shift()) {
          const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
          await admin.connect();
          try {
            await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
          } finally {
            await admin.end();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(DROP_CONNECTIONS, made.length) }, dropper));
    },
  };
}
