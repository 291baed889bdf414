// Mail on errors (DEV_DSF_BPE_MAIL_SENDMAILONERRORLOGEVENT, as the reference's SMTP log appender):
// an ERROR line of the BPE log, plugins' included, is mailed to the default recipients with the lines
// before it (DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTBUFFERSIZE in all).
//
// A failing remote site can log hundreds of errors a minute, so mails are rate limited: at most
// maxPerInterval mails in an interval (a window opened by the first error); later errors of the window
// are only counted, identical ones folded, and mailed as one summary when the window ends. Logging never
// waits for SMTP: mails go into a small queue sent one at a time; a full queue drops the mail (counted).
// A failure to send is reported on standard error, never logged at ERROR (that would mail again).
// At shutdown close() mails what the current window held back and waits, bounded, for the queue: an
// SMTP server that is down or hangs delays the shutdown by at most that bound.
import type { MailService } from '../../plugin-api/index.ts';
import type { LogLevel, LogSink } from './logging.ts';

export interface ErrorMailOptions {
  bufferSize: number;
  /** Where the full log is (named in the mail). */
  logLocation: string;
  /** Names the BPE in the subject (its FHIR server's base URL). */
  site: string;
  /** Mails with their own error per interval; the summary of the rest comes on top. Default 12. */
  maxPerInterval?: number;
  /** Length of the rate limit window. Default one hour. */
  intervalMs?: number;
  /** Distinct error lines a summary lists (the rest only counted). Default 50. */
  maxSummaryLines?: number;
  /** Where a failure to send is reported (default: standard error). */
  report?: (line: string) => void;
}

/** Mails waiting for SMTP: the limit plus the summary; more means SMTP cannot keep up, so drop. */
const QUEUE_SLACK = 1;
/** An error line in a summary is cut here: the summary names errors, the log holds them. */
const SUMMARY_LINE_CHARS = 300;

interface Folded {
  count: number;
  first: Date;
  last: Date;
}

interface Mail {
  subject: string;
  body: string;
}

export type ErrorMailTap = LogSink & {
  /** Resolves when every queued mail has been tried. */
  idle(): Promise<void>;
  /** Ends the current window now: queues its summary (if errors were held back) and stops the timer. */
  flush(): void;
  /**
   * At shutdown: flushes, then waits at most waitMs for the queued mails; later errors are not mailed.
   * Resolves with how many mails were still unsent (reported) when the wait ended.
   */
  close(waitMs: number): Promise<{ unsent: number }>;
};

export function errorMailTap(mail: MailService, o: ErrorMailOptions): ErrorMailTap {
  const maxPerInterval = o.maxPerInterval ?? 12;
  const intervalMs = o.intervalMs ?? 3_600_000;
  const maxSummaryLines = o.maxSummaryLines ?? 50;
  const report = o.report ?? ((line: string) => console.error(`${new Date().toISOString()} WARN  [mail] ${line}`));
  const maxQueue = maxPerInterval + QUEUE_SLACK;

  const recent: string[] = [];
  const queue: Mail[] = [];
  let sending: Promise<void> | undefined;

  // The current window: mails sent in it and the errors held back.
  let windowTimer: NodeJS.Timeout | undefined;
  let windowStart = new Date(0);
  let mailedInWindow = 0;
  let heldBack = 0;
  let dropped = 0;
  const folded = new Map<string, Folded>();

  const pump = () => {
    if (sending) return;
    const next = queue.shift();
    if (!next) return;
    sending = mail
      .send(next.subject, next.body)
      .catch((e: Error) => report(`error mail not sent: ${e.message}`))
      .then(() => {
        sending = undefined;
        pump();
      });
  };

  const enqueue = (m: Mail) => {
    if (queue.length >= maxQueue) {
      dropped++;
      report(`error mail dropped, ${queue.length} mails are still waiting for the SMTP server`);
      return;
    }
    queue.push(m);
    pump();
  };

  const closeWindow = () => {
    if (windowTimer) clearTimeout(windowTimer);
    windowTimer = undefined;
    if (heldBack > 0) enqueue(summary(new Date()));
    mailedInWindow = 0;
    heldBack = 0;
    folded.clear();
  };

  const summary = (end: Date): Mail => {
    const lines = [...folded.entries()].slice(0, maxSummaryLines).map(([line, f]) => `${String(f.count).padStart(6)} × ${line}  (first ${f.first.toISOString()}, last ${f.last.toISOString()})`);
    const more = folded.size > maxSummaryLines ? `\n… and ${folded.size - maxSummaryLines} more distinct errors.\n` : '';
    const droppedNote = dropped > 0 ? `\n${dropped} error mails were dropped meanwhile because the SMTP server did not keep up.\n` : '';
    dropped = 0;
    const times = [...folded.values()];
    const first = new Date(Math.min(...times.map((f) => f.first.getTime())));
    const last = new Date(Math.max(...times.map((f) => f.last.getTime())));
    return {
      subject: `DSF BPE at ${o.site}: ${heldBack} more errors`,
      body:
        `The BPE at ${o.site} logged ${heldBack} more errors between ${first.toISOString()} and ${last.toISOString()} ` +
        `(window ${windowStart.toISOString()} to ${end.toISOString()}), beyond the ${maxPerInterval} error mails per ${Math.round(intervalMs / 60_000)} minutes.\n` +
        `Identical errors are counted on one line:\n\n${lines.join('\n')}\n${more}${droppedNote}\nMore in ${o.logLocation}.\n`,
    };
  };

  let closed = false;

  const tap = (level: LogLevel, message: string) => {
    if (closed) return;
    const now = new Date();
    recent.push(`${now.toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`);
    while (recent.length > o.bufferSize) recent.shift();
    if (level !== 'error') return;
    if (!windowTimer) {
      windowStart = now;
      windowTimer = setTimeout(closeWindow, intervalMs);
      windowTimer.unref();
    }
    if (mailedInWindow < maxPerInterval) {
      mailedInWindow++;
      const body = `The BPE at ${o.site} logged an error.\n\nLast log lines:\n\n${recent.join('\n')}\n\nMore in ${o.logLocation}.\n`;
      enqueue({ subject: `DSF BPE error at ${o.site}: ${message.slice(0, 100)}`, body });
      return;
    }
    heldBack++;
    const line = message.length > SUMMARY_LINE_CHARS ? `${message.slice(0, SUMMARY_LINE_CHARS)}…` : message;
    const f = folded.get(line);
    if (f) {
      f.count++;
      f.last = now;
    } else if (folded.size < maxSummaryLines * 2) {
      // Beyond the lines a summary lists only a bounded number more are tracked (to count them as distinct).
      folded.set(line, { count: 1, first: now, last: now });
    }
  };

  const idle = async () => {
    for (let i = 0; i < 10_000 && sending; i++) await sending;
  };

  return Object.assign(tap, {
    idle,
    flush() {
      closeWindow();
    },
    async close(waitMs: number) {
      closeWindow();
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([idle().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)))]);
      clearTimeout(timer);
      if (done) return { unsent: 0 };
      const unsent = queue.length + (sending ? 1 : 0);
      // The mails still queued are given up; the one being sent may still get through.
      queue.length = 0;
      report(`${unsent} error mails not sent at shutdown: the SMTP server did not take them within ${waitMs} ms`);
      return { unsent };
    },
  });
}
