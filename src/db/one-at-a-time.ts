// Tasks on one database connection, one after the other in call order. A pg client runs one statement
// at a time; pg 8 queues a call made while the client is busy (and warns that the queue goes away in
// pg 9). A connection with several independent users (the change-stream listener: its reads, its
// NOTIFYs, its poll) lets each wait here for its turn instead.
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `task` once every task handed in before has settled; its result or error is the caller's. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.last.then(task);
    this.last = result.catch(() => {});
    return result;
  }
}
