// Bounded load loops: runLoad issues a number of requests (warm-ups, bulk loads); runFor measures a
// throughput over a fixed time window (the FHIR bench's rounds).
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

/**
 * `concurrency` workers issue requests for `durationMs`; those in flight at the end are awaited (each
 * request bounds its own time). The throughput counts the work done inside the window: a request that
 * straddles its end counts by the share of its time inside (see windowWork), so a workload of slow
 * requests (a 100-entry transaction) is not charged for the drain, when fewer than `concurrency` run.
 */
export async function runFor(name: string, concurrency: number, durationMs: number, fn: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const spans: [number, number][] = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const ok = await fn(next++).catch(() => false);
      spans.push([t, performance.now()]);
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const latencies = spans.map(([s, e]) => e - s).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
  return { name, concurrency, requests: spans.length, rps: windowWork(spans, end) / (durationMs / 1000), p50ms: pct(50), p99ms: pct(99), errors };
}

/** Requests done by `end` (ms): each ended one counts 1, one still running at `end` the share of its time before it. */
export function windowWork(spans: readonly (readonly [number, number])[], end: number): number {
  let work = 0;
  for (const [s, e] of spans) work += e <= end ? 1 : s < end ? (end - s) / (e - s) : 0;
  return work;
}

/** One table row; `ratios` is already formatted (e.g. "ratio 0.712 (0.65–0.74)"). */
export function formatRow(r: LoadResult, ratios: string): string {
  return `${r.name.padEnd(36)} c=${String(r.concurrency).padStart(2)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms.toFixed(2).padStart(7)} ms  p99 ${r.p99ms.toFixed(2).padStart(7)} ms  ${ratios}${r.errors ? `  errors ${r.errors}` : ''}`;
}
