// The FHIR bench's rounds: which segment runs when, and how a workload's segment is compared with a
// reference measured in the same round. Throughput on a shared 2-core machine drifts within seconds, so a
// ratio compares segments measured close together: every round measures the baselines, then a group of
// workloads, then the baselines again, and so on, ending with the baselines; a workload's reference is
// the mean of the nearest segment of the reference before it and the nearest after it (one side when
// the reference runs only once a round, as a read does for the searches).

/** One round's order: the baselines around each group of at most `groupSize` workloads. */
export function roundPlan(baselines: readonly string[], workloads: readonly string[], groupSize: number): string[] {
  const plan: string[] = [...baselines];
  for (let i = 0; i < workloads.length; i += groupSize) plan.push(...workloads.slice(i, i + groupSize), ...baselines);
  return plan;
}

/**
 * The reference figure for the segment at `at` of one round: the mean of `values` at the nearest
 * segment named `reference` before it and at the nearest after it (either one alone if only one exists).
 */
export function bracketing(plan: readonly string[], values: readonly number[], at: number, reference: string): number | undefined {
  let before: number | undefined;
  let after: number | undefined;
  for (let i = at - 1; i >= 0 && before === undefined; i--) if (plan[i] === reference) before = values[i];
  for (let i = at + 1; i < plan.length && after === undefined; i++) if (plan[i] === reference) after = values[i];
  if (before === undefined) return after;
  if (after === undefined) return before;
  return (before + after) / 2;
}

/** Median and extremes of a non-empty list (the median of an even count is the mean of the middle two). */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}
