// How long a client waits before it tries again or polls again (the reference's DelayStrategy).

export interface DelayStrategy {
  /** Milliseconds before the first retry or poll. */
  readonly firstDelayMs: number;
  /** Milliseconds before the next one, given the last delay. */
  nextDelayMs(lastDelayMs: number): number;
}

function constant(delayMs: number): DelayStrategy {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError('delay null or negative');
  return Object.freeze({ firstDelayMs: delayMs, nextDelayMs: () => delayMs });
}

export const DelayStrategies = Object.freeze({
  /** 100 ms, doubling up to 800 ms. */
  TRUNCATED_EXPONENTIAL_BACKOFF: Object.freeze({ firstDelayMs: 100, nextDelayMs: (last: number) => (last >= 800 ? last : last * 2) }) as DelayStrategy,
  /** 200 ms every time. */
  CONSTANT: constant(200),
  /** The same delay every time. */
  constant,
  /** A fixed delay doubling up to eight times it (what withRetry(n, ms) uses). */
  doublingFrom(delayMs: number): DelayStrategy {
    const first = constant(delayMs).firstDelayMs;
    return Object.freeze({ firstDelayMs: first, nextDelayMs: (last: number) => Math.min(last * 2, first * 8) });
  },
});

/** Retry counts with a meaning (reference RetryClient). */
export const RETRY_ONCE = 1;
export const RETRY_FOREVER = -1;
/** The reference's default retry delay. */
export const FIVE_SECONDS: DelayStrategy = DelayStrategies.constant(5_000);
