// Generic against custom plans for the FHIR server's read-access-aware statements (issue #21): captures
// the statements a remote organisation's read and identifier search send, then runs each as a prepared
// statement under plan_cache_mode force_custom_plan, force_generic_plan and auto, alternating in rounds on one
// connection, and prints the time per execution and PostgreSQL's planning and execution times.
// Run: DSF_TEST_DATABASE_URL=postgres://... npx tsx scripts/plan-cache-modes.ts
import pg from 'pg';
import { startTestSite, TAG_ALL } from '../test/support/fhir-site.ts';

const site = await startTestSite({ remoteOrganizations: true });
try {
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) ids.push((await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://plan/pid', value: `p${i}` }], active: true })).id);
  const captured: { text: string; values: unknown[] }[] = [];
  const seen = new WeakSet<object>();
  site.db.pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      if (typeof args[0] === 'string' && Array.isArray(args[1]) && args[1].length) captured.push({ text: args[0], values: args[1] });
      return (query as any).apply(this, args);
    };
  });
  const remote = site.clientFor('External_Test_Organization');
  const shapes: Record<string, (i: number) => Promise<unknown>> = {
    'read (remote organisation)': (i) => remote.get(`/Patient/${ids[i % ids.length]}`),
    'identifier search (remote organisation)': (i) => remote.get(`/Patient?identifier=http://plan/pid|p${i % ids.length}`),
  };
  const db = new pg.Client({ connectionString: site.db.url });
  await db.connect();
  db.on('error', () => {}); // terminated when the site's database is dropped
  await db.query('ANALYZE');
  for (const [shape, [name, request]] of Object.entries(shapes).entries()) {
    captured.length = 0;
    await request(0);
    await request(1);
    // The statement of the request (the one with the read-access conditions: the longest).
    const sql = captured.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    const samples = captured.filter((c) => c.text === sql.text).map((c) => c.values);
    const times: Record<string, number[]> = { force_custom_plan: [], force_generic_plan: [], auto: [] };
    for (let round = 0; round < 6; round++) {
      for (const mode of Object.keys(times)) {
        await db.query(`SET plan_cache_mode = ${mode}`);
        const stmt = `plan_${shape}_${mode}_${round}`;
        const start = performance.now();
        for (let i = 0; i < 200; i++) await db.query({ name: stmt, text: sql.text, values: samples[i % samples.length] });
        times[mode]!.push((performance.now() - start) / 200);
        await db.query(`DEALLOCATE ${stmt}`);
      }
    }
    // What one prepared statement of this shape holds in the backend (its source, query tree and generic plan).
    await db.query('SET plan_cache_mode = auto');
    const memory = async () => Number((await db.query("SELECT coalesce(sum(total_bytes), 0)::bigint AS b FROM pg_backend_memory_contexts WHERE name IN ('CachedPlan', 'CachedPlanSource', 'CachedPlanQuery')")).rows[0].b);
    const before = await memory();
    for (let i = 0; i < 8; i++) await db.query({ name: `memory_${shape}`, text: sql.text, values: samples[i % samples.length] });
    console.log(`${name}: one prepared statement with its generic plan holds ${((await memory()) - before) / 1024} KiB in the backend`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`${name}:`);
    for (const [mode, t] of Object.entries(times)) {
      await db.query(`SET plan_cache_mode = ${mode}`);
            const params = samples[0]!.map((v) => (Array.isArray(v) ? `'{${v.map((x) => `"${x}"`).join(',')}}'` : `'${String(v).replaceAll("'", "''")}'`)).join(', ');
      await db.query(`PREPARE explain_${shape}_${mode} AS ${sql.text}`);
      const plan = (await db.query(`EXPLAIN (ANALYZE, SUMMARY) EXECUTE explain_${shape}_${mode}(${params})`)).rows.map((r) => r['QUERY PLAN'] as string);
      const summary = plan.filter((l) => /Planning Time|Execution Time/.test(l)).map((l) => l.trim()).join(', ');
      console.log(`  ${mode.padEnd(19)} median ${median(t).toFixed(3)} ms per execution (rounds: ${t.map((x) => x.toFixed(3)).join(' ')}); one EXPLAIN ANALYZE: ${summary}`);
      await db.query(`DEALLOCATE explain_${shape}_${mode}`);
    }
  }
  await db.end();
} catch (e) {
  console.error(e);
} finally {
  await site.stop();
}
