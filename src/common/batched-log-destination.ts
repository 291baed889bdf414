// Where a server's log lines go (standard output): the lines of one event-loop turn are written
// together, in one synchronous write right after the turn (setImmediate). One write per line cost
// a measurable share of a FHIR read; an asynchronous write per line is dearer still (a thread-pool
// hand-off and a wake-up of the loop per line). Nothing waits longer than the turn that logged it,
// and lines still pending when the process exits are written on 'exit'.
import { pino, type DestinationStream } from 'pino';

export interface BatchedLogDestination extends DestinationStream {
  /** Writes what is pending now. */
  flushSync(): void;
}

/** Every destination's flush, run once on 'exit' (one listener for all, however many servers a process runs). */
const flushesOnExit = new Set<() => void>();
let exitListener = false;

export function batchedLogDestination(fd = 1): BatchedLogDestination {
  // Synchronous: the write happens when asked for (it retries on a full pipe, EAGAIN).
  const out = pino.destination({ dest: fd, sync: true });
  let pending = '';
  let scheduled = false;
  const flushSync = () => {
    scheduled = false;
    if (!pending) return;
    const lines = pending;
    pending = '';
    out.write(lines);
  };
  flushesOnExit.add(flushSync);
  if (!exitListener) {
    exitListener = true;
    process.once('exit', () => flushesOnExit.forEach((flush) => flush()));
  }
  return {
    write(line: string) {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
  };
}
