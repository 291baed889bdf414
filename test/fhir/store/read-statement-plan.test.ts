// The statement of coalesced reads (reads of one turn sharing `... r.id = ANY(ids) AND r.current`,
// store/read-coalescing.ts) keeps one generic plan as a prepared statement: with the id list as a bare
// parameter PostgreSQL planned it anew on every run (a custom plan knows the list's length, the generic
// one assumes ten). The reads still answer as before.
import { randomUUID } from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS, EVENT_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import type { AccessFilter } from '../../../src/fhir/store/access-condition.ts';

const TAG_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
/** A remote organisation's read access: the read-access tags decide (the SQL of access-sql.ts). */
const remote: AccessFilter = () => ({ kind: 'readAccessTags', caller: { local: false, organizationIdentifier: 'remote.org' } });

let db: TestDatabase;
let store: ResourceStore;
const ids: string[] = [];
/** Statements of the reads, as sent through the pool. */
const sent: { text: string; values: unknown[] }[] = [];
before(async () => {
  db = await createTestDatabase('dsf_read_statement_plan');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  await migrate(db.pool, 'fhir-events', EVENT_MIGRATIONS);
  store = new ResourceStore(db.pool, 'https://localhost/fhir');
  // A table of a few thousand rows, as a site has: on a small one PostgreSQL keeps the generic plan anyway.
  ids.push(...Array.from({ length: 3000 }, () => randomUUID()));
  await db.pool.query(
    `INSERT INTO resources (id, version, type, last_updated, current, resource)
     SELECT x.id, 1, 'Patient', now(), true, jsonb_build_object('resourceType', 'Patient', 'id', x.id, 'active', x.n % 2 = 1,
       'meta', jsonb_build_object('tag', jsonb_build_array(jsonb_build_object('system', $1::text, 'code', CASE WHEN x.n % 2 = 1 THEN 'ALL' ELSE 'LOCAL' END))))
     FROM unnest($2::uuid[]) WITH ORDINALITY AS x(id, n)`,
    [TAG_SYSTEM, ids],
  );
  await db.pool.query('VACUUM ANALYZE resources');
  const query = db.pool.query.bind(db.pool) as (...a: unknown[]) => unknown;
  (db.pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    if (typeof a[0] === 'string') sent.push({ text: a[0], values: a[1] as unknown[] });
    return query(...a);
  };
});
after(() => db?.drop());

for (const [label, access] of [['no filter', undefined], ["a remote organisation's read-access tags", remote]] as const) {
  test(`reads of one turn (${label}): one statement, the right resources, and PostgreSQL keeps its generic plan`, async () => {
    sent.length = 0;
    const wanted = [ids[3]!, ids[150]!, ids[77]!.toUpperCase()];
    const read = await Promise.all(wanted.map((id) => store.readText(db.pool, "Patient", id, undefined, access)));
    assert.deepEqual(
      read.map((r) => r.id),
      [ids[3], ids[150], ids[77]],
    );
    assert.deepEqual(read.map((r) => (JSON.parse(r.text) as { active?: boolean }).active), [false, true, false]);
    // Only the ALL-tagged one is readable by a remote organisation.
    assert.deepEqual(read.map((r) => r.readable), access ? [false, true, false] : [true, true, true]);
    const batch = sent.filter((s) => /ANY/.test(s.text));
    assert.equal(batch.length, 1, sent.map((s) => s.text).join('\n'));

    const name = `coalesced_read_${access ? 'remote' : 'all'}`;
    const client = await db.pool.connect();
    try {
      for (let i = 0; i < 12; i++) await client.query({ name, text: batch[0]!.text, values: batch[0]!.values });
      const counts = (await client.query('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1', [name])).rows[0];
      assert.ok(Number(counts.generic_plans) >= 6, `generic ${counts.generic_plans}, custom ${counts.custom_plans}: ${batch[0]!.text}`);
      // The generic plan finds the rows by index, not by reading the table.
      await client.query(`PREPARE ${name}_explained AS ${batch[0]!.text}`);
      // EXECUTE takes literals: a uuid array as '{...}', anything else as its text.
      const literals = batch[0]!.values.map((v) => client.escapeLiteral(Array.isArray(v) ? `{${v.join(',')}}` : typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
      for (let i = 0; i < 6; i++) await client.query(`EXECUTE ${name}_explained(${literals})`);
      const plan = (await client.query(`EXPLAIN EXECUTE ${name}_explained(${literals})`)).rows.map((r) => r['QUERY PLAN'] as string);
      assert.ok(plan.some((line) => /Index Scan (using|on) resources_current_id/.test(line)) && !plan.some((line) => /Seq Scan/.test(line)), plan.join('\n'));
    } finally {
      client.release();
    }
  });
}
