// Event delivery: latency from a create to its websocket event with 1 and 100 bound clients, and
// events per second sustained under 16 concurrent creators, each as a ratio to the plain create
// (same server, same run, no client bound) so the figures survive a noisy machine.
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { generateCertificates } from '../src/cli/certs.ts';
import { HttpsClient } from '../src/common/https-client.ts';
import { startBenchSite } from './lib/bench-site.ts';
import { runLoad } from './lib/load.ts';

const TAG = { meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] } };
const SYSTEM = 'http://bench/events';
const ID_RE = /"id":"([0-9a-f-]{36})"/;

interface Tls {
  cert: string;
  key: string;
  ca: string;
}

/** A bound websocket client that records when each resource id arrived. */
class BenchClient {
  readonly arrivals = new Map<string, number>();
  private waiters = new Map<string, () => void>();
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      const id = ID_RE.exec(text.slice(0, 200))?.[1];
      if (!id) return;
      this.arrivals.set(id, performance.now());
      this.waiters.get(id)?.();
      this.waiters.delete(id);
    });
  }
  static async open(url: string, tls: Tls, subscriptionId: string): Promise<BenchClient> {
    const socket = new WebSocket(url, tls);
    await new Promise<void>((res, rej) => {
      socket.once('open', () => res());
      socket.once('error', rej);
    });
    const bound = new Promise<void>((res, rej) => {
      socket.once('message', (d) => (d.toString() === `bound ${subscriptionId}` ? res() : rej(new Error(`bind failed: ${d}`))));
    });
    const client = new BenchClient(socket);
    socket.send(`bind ${subscriptionId}`);
    await bound;
    return client;
  }
  arrived(id: string, timeoutMs = 10_000): Promise<number> {
    const t = this.arrivals.get(id);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`event ${id} did not arrive`)), timeoutMs);
      this.waiters.set(id, () => {
        clearTimeout(timer);
        res(this.arrivals.get(id)!);
      });
    });
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
};

export async function run(serverUrl: string, log: (s: string) => void): Promise<Record<string, unknown>> {
  const dir = resolve('.dsf/bench');
  mkdirSync(dir, { recursive: true });
  const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: ['Bench_Org'] });
  const org = certs.organizations.Bench_Org!;
  const tls: Tls = { ca: readFileSync(certs.ca.certPath, 'utf8'), cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8') };
  const site = await startBenchSite(serverUrl, certs, 'Bench_Org', 'dsf_bench_events');
  const { fhir, baseUrl } = site;
  const http = new HttpsClient(tls, { maxSockets: 64 });
  const json = { accept: 'application/fhir+json', 'content-type': 'application/fhir+json' };
  const out: Record<string, unknown> = {};
  const clients: BenchClient[] = [];
  let n = 0;
  const create = async (): Promise<string> => {
    const r = await http.request(`${baseUrl}/Patient`, { method: 'POST', headers: { ...json, prefer: 'return=minimal' }, body: JSON.stringify({ resourceType: 'Patient', ...TAG, identifier: [{ system: SYSTEM, value: `e${n++}` }], active: true }) });
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.body}`);
    return /Patient\/([0-9a-f-]{36})/.exec(String(r.headers.location))![1]!;
  };
  try {
    const sub = await http.request(`${baseUrl}/Subscription`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ resourceType: 'Subscription', ...TAG, status: 'active', reason: 'bench', criteria: `Patient?identifier=${SYSTEM}|`, channel: { type: 'websocket', payload: 'application/fhir+json' } }),
    });
    if (sub.status !== 201) throw new Error(`subscription failed: ${sub.status} ${sub.body}`);
    const subscriptionId = JSON.parse(sub.body).id as string;

    // Plain create: the same server and subscription, nobody bound.
    await runLoad('warm-up', 4, 200, 10_000, () => create().then(() => true));
    const plain1 = await runLoad('plain create c=1', 1, 400, 20_000, () => create().then(() => true));
    const plain16 = await runLoad('plain create c=16', 16, 2000, 20_000, () => create().then(() => true));
    log(`plain create: c=1 ${plain1.rps.toFixed(0)} req/s (p50 ${plain1.p50ms.toFixed(2)} / p99 ${plain1.p99ms.toFixed(2)} ms); c=16 ${plain16.rps.toFixed(0)} req/s`);
    out.plainCreate = { c1: { rps: Math.round(plain1.rps), p50ms: +plain1.p50ms.toFixed(2), p99ms: +plain1.p99ms.toFixed(2) }, c16: { rps: Math.round(plain16.rps) } };

    for (const bound of [1, 100]) {
      while (clients.length < bound) clients.push(await BenchClient.open(`${baseUrl.replace('https:', 'wss:')}/ws`, tls, subscriptionId));
      // Latency: one create at a time; from sending the request to the event at the last of the clients.
      const latencies: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        const id = await create();
        const arrivals = await Promise.all(clients.map((c) => c.arrived(id)));
        latencies.push(Math.max(...arrivals) - t0);
      }
      const p50 = pct(latencies, 50);
      const p99 = pct(latencies, 99);
      // Sustained: 16 concurrent creators; events per second as seen by every bound client.
      const ids: string[] = [];
      const start = performance.now();
      await runLoad('sustained', 16, 2000, 30_000, () => create().then((id) => (ids.push(id), true)));
      const deadline = Date.now() + 60_000;
      while (!clients.every((c) => ids.every((id) => c.arrivals.has(id)))) {
        if (Date.now() > deadline) throw new Error('sustained: not every event arrived within 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      let lastOfAll = 0;
      for (const c of clients) for (const id of ids) lastOfAll = Math.max(lastOfAll, c.arrivals.get(id)!);
      const eventsPerSecond = ids.length / ((lastOfAll - start) / 1000);
      log(
        `${String(bound).padStart(3)} bound: create->event p50 ${p50.toFixed(2)} ms (x${(p50 / plain1.p50ms).toFixed(2)} of a plain create) p99 ${p99.toFixed(2)} ms (x${(p99 / plain1.p99ms).toFixed(2)}); ` +
          `sustained ${eventsPerSecond.toFixed(0)} events/s to each client (${(eventsPerSecond / plain16.rps).toFixed(2)} of plain create c=16), ${(eventsPerSecond * bound).toFixed(0)} messages/s`,
      );
      out[`bound=${bound}`] = {
        createToEventP50ms: +p50.toFixed(2),
        createToEventP99ms: +p99.toFixed(2),
        p50RatioToPlainCreate: +(p50 / plain1.p50ms).toFixed(3),
        p99RatioToPlainCreate: +(p99 / plain1.p99ms).toFixed(3),
        eventsPerSecond: Math.round(eventsPerSecond),
        eventsPerSecondRatioToPlainCreateC16: +(eventsPerSecond / plain16.rps).toFixed(3),
        messagesPerSecond: Math.round(eventsPerSecond * bound),
      };
    }
  } finally {
    for (const c of clients) c.socket.terminate();
    http.close();
    await site.stop();
  }
  return out;
}
