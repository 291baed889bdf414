// Repeating ISO-8601 intervals: R[n]/<duration> (first due one duration after now, then one duration
// after each previous due date) and R[n]/<start>/<duration> (due at start + k × duration, k = 0..n-1,
// skipping occurrences already in the past). Without n the cycle never ends.
import type { IsoDuration } from './timer-duration.ts';
import { addDuration, nominalMillis } from './timer-duration.ts';
import { TimerError } from './timer-error.ts';

export interface CycleSpec {
  readonly text: string;
  /** Total number of due dates, or null for unbounded. */
  readonly repetitions: number | null;
  readonly interval: IsoDuration;
  readonly start?: Date;
}

export class RepeatingCycle {
  constructor(private readonly spec: CycleSpec) {
    if (nominalMillis(spec.interval) <= 0) throw new TimerError(`Cycle '${spec.text}' needs a positive interval`);
  }

  firstDue(now: Date): Date {
    if (!this.spec.start) return addDuration(now, this.spec.interval);
    const k = this.firstOccurrenceIndex((occurrence) => occurrence.getTime() >= now.getTime());
    if (!this.withinRepetitions(k)) {
      throw new TimerError(`Cycle '${this.spec.text}' has no due date left after ${now.toISOString()}`);
    }
    return this.occurrence(k);
  }

  nextDue(previousDue: Date, firedCount: number): Date | null {
    if (!this.withinRepetitions(firedCount)) return null;
    if (!this.spec.start) return addDuration(previousDue, this.spec.interval);
    const k = this.firstOccurrenceIndex((occurrence) => occurrence.getTime() > previousDue.getTime());
    return this.withinRepetitions(k) ? this.occurrence(k) : null;
  }

  private withinRepetitions(index: number): boolean {
    return this.spec.repetitions === null || index < this.spec.repetitions;
  }

  private occurrence(index: number): Date {
    return addDuration(this.spec.start!, this.spec.interval, index);
  }

  /** Smallest k whose occurrence satisfies `isAfter` (occurrences only grow, so doubling then bisection works). */
  private firstOccurrenceIndex(isAfter: (occurrence: Date) => boolean): number {
    const start = this.spec.start!;
    let k = 0;
    if (!isAfter(start)) {
      let low = 0;
      let high = 1;
      while (!isAfter(this.occurrence(high))) {
        low = high;
        high *= 2;
        if (high > 2 ** 40) throw new TimerError(`Cycle '${this.spec.text}' cannot reach the requested date`);
      }
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (isAfter(this.occurrence(middle))) high = middle;
        else low = middle;
      }
      k = high;
    }
    return k;
  }
}
