// A bounded load loop: `concurrency` workers issue requests until `requests` are done or `maxMs` passes.
export interface LoadResult {
  name: string;
  concurrency: number;
  requests: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

export async function runLoad(name: string, concurrency: number, requests: number, maxMs: number, fn: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + maxMs;
  const worker = async () => {
    while (next < requests && performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      const ok = await fn(i).catch(() => false);
      latencies.push(performance.now() - t);
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
  return { name, concurrency, requests: latencies.length, rps: latencies.length / elapsed, p50ms: pct(50), p99ms: pct(99), errors };
}

export function formatRow(r: LoadResult, baselineRps?: number): string {
  const ratio = baselineRps ? (r.rps / baselineRps).toFixed(3) : '-';
  return `${r.name.padEnd(34)} c=${String(r.concurrency).padStart(2)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms.toFixed(2).padStart(7)} ms  p99 ${r.p99ms.toFixed(2).padStart(7)} ms  ratio ${ratio}${r.errors ? `  errors ${r.errors}` : ''}`;
}
