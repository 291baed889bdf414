// Creates written together (store/write-groups.ts) keep the guarantee of a create written alone: a
// FHIR server process killed (SIGKILL) while many clients create has stored every create it answered
// with 201, and each stored create is whole (its search-index rows and uniqueness keys with it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { FhirTestClient, TAG_ALL, testCertificates } from '../../support/fhir-site.ts';
import { fhirServerEnv } from '../../support/site-env.ts';
import { TS_LOADER } from '../../../src/common/ts-loader-flag.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const CLIENTS = 16;
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('dsf_create_sigkill');
});
after(() => db?.drop());

test('SIGKILL while 16 clients create: every create answered 201 is stored, whole', { timeout: 180_000 }, async () => {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const port = await freePort();
  const statusPort = await freePort();
  const baseUrl = `https://localhost:${port}/fhir`;
  const child = spawn(process.execPath, ['--import', TS_LOADER, MAIN, 'fhir'], {
    env: { ...fhirServerEnv({ certs, org, port, fhirDatabaseUrl: db.url }), DEV_DSF_SERVER_STATUS_PORT: String(statusPort), DSF_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certs.ca.certPath, 'utf8') }, { maxSockets: CLIENTS });
  const client = new FhirTestClient(http, baseUrl);
  const acknowledged: { id: string; value: string }[] = [];
  let failures = 0;
  let grouped = 0;
  try {
    // Up once the metadata answers (bounded wait).
    for (let i = 0; i < 600; i++) {
      const up = await client.get('/metadata').then((r) => r.status === 200, () => false);
      if (up) break;
      if (child.exitCode !== null) assert.fail(`server exited:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    let n = 0;
    let killed = false;
    const worker = async () => {
      for (let i = 0; i < 100_000 && !killed; i++) {
        const value = `kill-${n++}`;
        try {
          const r = await client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://test/sigkill', value }], active: true });
          if (r.status === 201) acknowledged.push({ id: r.json.id, value });
          else failures++;
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, worker));
    // Killed in the middle of the load, once some hundreds were answered.
    for (let i = 0; i < 600 && acknowledged.length < 300; i++) await new Promise((r) => setTimeout(r, 50));
    // The creates were written together (else this would test nothing new).
    const metrics = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
    grouped = Number(/^dsf_fhir_write_group_members_total (\d+)/m.exec(metrics)?.[1]);
    child.kill('SIGKILL');
    killed = true;
    await load;
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    http.close();
  }
  assert.equal(failures, 0, out.slice(-2000));
  assert.ok(acknowledged.length >= 300, `only ${acknowledged.length} creates answered before the kill:\n${out.slice(-2000)}`);
  assert.ok(grouped > 0, 'creates were written in shared statements');
  const ids = acknowledged.map((a) => a.id);
  const stored = await db.pool.query(
    `SELECT r.id::text AS id,
       (SELECT count(*)::int FROM search_index s WHERE s.resource_id = r.id AND s.param = 'identifier') AS identifiers
     FROM resources r WHERE r.id = ANY($1::uuid[]) AND r.current AND NOT r.deleted`,
    [ids],
  );
  assert.equal(stored.rows.length, ids.length, 'every acknowledged create is stored');
  for (const row of stored.rows) assert.equal(row.identifiers, 1, `search-index rows of ${row.id}`);
});
