// Runs jobs one after the other, in the order they were added.
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** Adds a job; the returned promise settles when it ran (errors go to onError, not to the caller). */
  run(job: () => Promise<void>, onError: (e: unknown) => void): Promise<void> {
    this.pending++;
    const next = this.tail.then(job).catch(onError).finally(() => this.pending--);
    this.tail = next;
    return next;
  }

  get size(): number {
    return this.pending;
  }

  /** Resolves when every job added so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
