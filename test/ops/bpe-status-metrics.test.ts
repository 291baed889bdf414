// The BPE's status port: /status with connection, plugins and process states; /metrics with process
// instances, jobs (running against the workers), incidents and Tasks sent or not sent per remote FHIR server, after real traffic
// between two sites.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../src/common/polling.ts';
import { requestedTask } from '../bpe/server/bpe-support.ts';
import { startTwoSites, type TwoSites } from '../bpe/server/two-sites.ts';

let sites: TwoSites;
before(async () => {
  sites = await startTwoSites({ statusHost: '127.0.0.1', statusPort: 0 });
});
after(() => sites.stop());

async function runSend(inputs: Record<string, string>, businessKey: string): Promise<any> {
  const { a } = sites;
  const id = (await a.fhir.client.create(requestedTask({ process: 'send', message: 'send', requester: a.identifier, recipient: a.identifier, businessKey, inputs }))).id;
  return waitFor(`send Task ${id} settled`, async () => {
    const t = (await a.fhir.client.get(`/Task/${id}`)).json;
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, 20_000);
}

const metric = (text: string, re: RegExp): number | undefined => {
  const l = text.split('\n').find((x) => re.test(x));
  return l === undefined ? undefined : Number(l.slice(l.lastIndexOf(' ') + 1));
};

test('BPE /status: connected, plugins and process states, from the status port', async () => {
  const r = await fetch(`${sites.a.bpe.status!.url}/status`);
  assert.equal(r.status, 200);
  const body = (await r.json()) as any;
  assert.equal(body.status, 'ok');
  assert.equal(body.server, 'bpe');
  assert.equal(body.connected, true);
  assert.equal(body.fhirBaseUrl, sites.a.fhir.baseUrl);
  assert.ok(body.plugins.length >= 1);
  assert.ok(body.processes.some((p: any) => p.process === 'testorg_send|1.0' && p.state === 'ACTIVE'), JSON.stringify(body.processes));
});

test('BPE /metrics: Tasks sent and send failures by remote server, jobs, instances, incidents, pool', async () => {
  const { a, b, unreachable } = sites;
  assert.equal((await runSend({ 'target-organization': b.identifier }, 'bk-metrics-ok')).status, 'completed');
  assert.equal((await runSend({ 'target-organization': unreachable }, 'bk-metrics-unreachable')).status, 'completed');
  const text = await (await fetch(`${a.bpe.status!.url}/metrics`)).text();
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assert.equal(metric(text, new RegExp(`^dsf_bpe_tasks_sent_total\\{remote="${esc(b.fhir.baseUrl)}"\\} `)), 1, text);
  const failures = text.split('\n').filter((l) => l.startsWith('dsf_bpe_task_send_failures_total{'));
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.match(failures[0]!, /remote="https:\/\/127\.0\.0\.1:\d+\/fhir"\} 1$/);
  assert.ok(!failures[0]!.includes(b.fhir.baseUrl));
  assert.ok((metric(text, /^dsf_bpe_jobs_executed_total /) ?? -1) >= 0);
  assert.ok(metric(text, /^dsf_bpe_jobs_due /) !== undefined);
  assert.equal(metric(text, /^dsf_bpe_incidents /), 0);
  // Both runs ended: no job is running; the workers are the default (DEV_DSF_BPE_PROCESS_ENGINE_COREPOOLSIZE unset).
  assert.equal(metric(text, /^dsf_bpe_jobs_running /), 0);
  assert.equal(metric(text, /^dsf_bpe_job_workers /), 4);
  assert.ok((metric(text, /^dsf_bpe_db_pool_connections_total /) ?? 0) >= 1);
  // B's receive instance answered and ended; A's send instances ended: nothing of them still running.
  assert.equal(metric(text, /^dsf_bpe_process_instances_running\{process="testorg_send"/), undefined, text.split('\n').filter((l) => l.includes('running')).join('\n'));
  void unreachable;
});
