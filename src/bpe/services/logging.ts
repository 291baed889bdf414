// The BPE's log: lines with a level and a source go to a sink (stdout by default). Resource contents
// do not belong here: plugins write them through the DataLogger, which is off unless enabled.
import type { Logger } from '../../plugin-api/index.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function consoleSink(minimum: LogLevel = 'info'): LogSink {
  return (level, message) => {
    if (ORDER[level] < ORDER[minimum]) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
    if (level === 'error' || level === 'warn') console.error(line);
    else console.log(line);
  };
}

export class BpeLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly source = 'bpe',
  ) {}
  child(source: string): BpeLogger {
    return new BpeLogger(this.sink, source);
  }
  /** This logger, whose lines also go to tap (e.g. the mail on ERROR lines). */
  tapped(tap: LogSink): BpeLogger {
    return new BpeLogger((level, message) => {
      this.sink(level, message);
      tap(level, message);
    }, this.source);
  }
  debug(message: string): void {
    this.sink('debug', `[${this.source}] ${message}`);
  }
  info(message: string): void {
    this.sink('info', `[${this.source}] ${message}`);
  }
  warn(message: string): void {
    this.sink('warn', `[${this.source}] ${message}`);
  }
  error(message: string): void {
    this.sink('error', `[${this.source}] ${message}`);
  }
}
