// Tests of what the clock's millisecond decides (ids' time part, versions' time).

/** Waits (busily: at most a millisecond) until the clock has moved to the next millisecond. */
export function nextMillisecond(): void {
  const t = Date.now();
  while (Date.now() === t) {
    // busy wait
  }
}
