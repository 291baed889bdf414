// Concurrent writers of one resource: real parallel HTTPS requests, each on its own connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

const PARALLEL = 16;

async function versions(id: string): Promise<number[]> {
  const r = await site.db.pool.query('SELECT version FROM resources WHERE id = $1 ORDER BY version', [id]);
  return r.rows.map((row) => row.version as number);
}

test('concurrent PUTs with If-Match on the same version: one 200, the others 412', async () => {
  const created = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      site.client.put(`/Patient/${created.id}`, { ...created, name: [{ family: `Writer${i}` }] }, { 'if-match': 'W/"1"' }),
    ),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, ...Array(PARALLEL - 1).fill(412)], results.map((r) => r.body).join('\n'));
  for (const r of results.filter((x) => x.status === 412)) {
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(r.json.issue[0].diagnostics, /If-Match/);
  }
  assert.deepEqual(await versions(created.id), [1, 2]);
});

test('concurrent plain PUTs: every one succeeds, each version number once', async () => {
  const created = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => site.client.put(`/Patient/${created.id}`, { ...created, name: [{ family: `Writer${i}` }] })),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    Array(PARALLEL).fill(200),
    results.map((r) => r.body).join('\n'),
  );
  const answered = results.map((r) => Number(r.json.meta.versionId)).sort((a, b) => a - b);
  assert.deepEqual(answered, Array.from({ length: PARALLEL }, (_, i) => i + 2));
  assert.deepEqual(await versions(created.id), Array.from({ length: PARALLEL + 1 }, (_, i) => i + 1));
  // Every writer's content is one of the stored versions: none lost.
  const stored = await site.db.pool.query("SELECT resource->'name'->0->>'family' AS family FROM resources WHERE id = $1 AND version > 1", [created.id]);
  assert.deepEqual(stored.rows.map((r) => r.family).sort(), Array.from({ length: PARALLEL }, (_, i) => `Writer${i}`).sort());
});

test('concurrent DELETEs: every one succeeds, as a repeated delete does', async () => {
  const created = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  const results = await Promise.all(Array.from({ length: 10 }, () => site.client.delete(`/Patient/${created.id}`)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(10).fill(200),
    results.map((r) => r.body).join('\n'),
  );
  assert.equal(results.filter((r) => /deleted$/.test(r.json.issue[0].diagnostics) && !/already/.test(r.json.issue[0].diagnostics)).length, 1);
  assert.deepEqual(await versions(created.id), [1, 2]);
  assert.equal((await site.client.get(`/Patient/${created.id}`)).status, 410);
});
