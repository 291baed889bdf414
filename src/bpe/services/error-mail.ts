// Mail on errors (DEV_DSF_BPE_MAIL_SENDMAILONERRORLOGEVENT, as the reference's SMTP log appender):
// every ERROR line of the BPE log, plugins' included, is mailed to the default recipients with the
// lines before it (DEV_DSF_BPE_MAIL_MAILONERRORLOGEVENTBUFFERSIZE in all). One mail at a time; errors
// logged while one is being sent go into the next. A failure to send is written to standard error,
// never logged at ERROR (that would mail again).
import type { MailService } from '../../plugin-api/index.ts';
import type { LogLevel, LogSink } from './logging.ts';

export interface ErrorMailOptions {
  bufferSize: number;
  /** Where the full log is (named in the mail). */
  logLocation: string;
  /** Names the BPE in the subject (its FHIR server's base URL). */
  site: string;
}

export function errorMailTap(mail: MailService, o: ErrorMailOptions): LogSink & { idle(): Promise<void> } {
  const recent: string[] = [];
  let pending: string[] | undefined;
  let sending: Promise<void> = Promise.resolve();
  let busy = false;
  const send = (lines: string[]) => {
    busy = true;
    const error = lines[lines.length - 1]!;
    const subject = `DSF BPE error at ${o.site}: ${error.replace(/^\S+ ERROR +/, '').slice(0, 100)}`;
    const body = `The BPE at ${o.site} logged an error.\n\nLast log lines:\n\n${lines.join('\n')}\n\nMore in ${o.logLocation}.\n`;
    sending = mail
      .send(subject, body)
      .catch((e: Error) => console.error(`${new Date().toISOString()} WARN  [mail] error mail not sent: ${e.message}`))
      .then(() => {
        busy = false;
        const next = pending;
        pending = undefined;
        if (next) send(next);
      });
  };
  const tap = (level: LogLevel, message: string) => {
    recent.push(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`);
    while (recent.length > o.bufferSize) recent.shift();
    if (level !== 'error') return;
    if (busy) pending = [...recent];
    else send([...recent]);
  };
  return Object.assign(tap, {
    async idle() {
      while (busy) await sending;
    },
  });
}
