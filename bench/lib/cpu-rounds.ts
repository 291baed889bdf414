// CPU time per call of synchronous variants in one process, in alternating rounds: each round runs every
// variant `calls` times, in the listed order on even rounds and reversed on odd ones, so drift of the host
// and of V8's state falls on all of them alike. Round 0 only warms up and is not counted.

export type Variant = readonly [name: string, run: (i: number) => unknown];

/** For each variant, its CPU nanoseconds per call in each counted round (`rounds` of them). */
export function cpuNanosPerCall(variants: readonly Variant[], rounds: number, calls: number): Map<string, number[]> {
  const nanos = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of round % 2 ? [...variants].reverse() : variants) {
      const start = process.cpuUsage();
      for (let i = 0; i < calls; i++) run(i);
      const used = process.cpuUsage(start);
      if (round > 0) nanos.get(name)!.push(((used.user + used.system) * 1000) / calls);
    }
  }
  return nanos;
}
