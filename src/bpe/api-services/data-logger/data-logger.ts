// The plugin API's DataLogger (reference: DataLoggerImpl on the log4j logger "dsf-data-logger").
// Lines as the reference's layouts write them: TEXT "%d %m%n", TEXT_MDC "%d%notEmpty{ %X} %m%n"
// (%d = yyyy-MM-dd HH:mm:ss,SSS local time, %X = {key=value, ...}), JSON_ECS as log4j's
// EcsLayout.json. The file rolls as the reference's does: at start when not empty, and when the
// day changes, to bpe-data_<date>_<n>.log.gz.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync, createReadStream, createWriteStream, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DataLogger } from '../../../plugin-api/services/data-logger.ts';
import type { DataLogStyle, DataLoggerConfig } from './data-logger-config.ts';

export const DATA_LOGGER_NAME = 'dsf-data-logger';
const FILE_NAME = 'bpe-data';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function log4jDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

function day(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatData(data: unknown): string {
  if (data === null || data === undefined) return 'null';
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data) ?? String(data);
  } catch {
    return String(data);
  }
}

export function formatLine(style: DataLogStyle, time: Date, message: string, context: Record<string, string>): string {
  const keys = Object.keys(context);
  switch (style) {
    case 'TEXT':
      return `${log4jDate(time)} ${message}\n`;
    case 'TEXT_MDC':
      return `${log4jDate(time)}${keys.length ? ` {${keys.map((k) => `${k}=${context[k]}`).join(', ')}}` : ''} ${message}\n`;
    case 'JSON_ECS':
      return (
        JSON.stringify({
          '@timestamp': time.toISOString(),
          'ecs.version': '1.2.0',
          'log.level': 'DEBUG',
          message,
          'process.thread.name': 'main',
          'log.logger': DATA_LOGGER_NAME,
          ...(keys.length ? { labels: context } : {}),
        }) + '\n'
      );
  }
}

/** bpe-data.log, opened for appending; rolled to .log.gz at start and at day changes. */
class RollingFile {
  private fd: number | undefined;
  private openedDay = '';
  private rolls: Promise<void>[] = [];

  constructor(private readonly directory: string) {
    mkdirSync(directory, { recursive: true });
  }

  private get path(): string {
    return join(this.directory, `${FILE_NAME}.log`);
  }

  write(line: string, now: Date): void {
    if (this.fd === undefined || day(now) !== this.openedDay) this.open(now);
    writeSync(this.fd!, line);
  }

  private open(now: Date): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (existsSync(this.path) && statSync(this.path).size > 0) this.roll(statSync(this.path).mtime);
    this.fd = openSync(this.path, 'a');
    this.openedDay = day(now);
  }

  private roll(modified: Date): void {
    let index = 1;
    const target = () => join(this.directory, `${FILE_NAME}_${day(modified)}_${index}.log`);
    while (existsSync(target()) || existsSync(`${target()}.gz`)) index++;
    const plain = target();
    renameSync(this.path, plain);
    // Compress in the background; the plain file stays if that fails.
    this.rolls.push(
      pipeline(createReadStream(plain), createGzip(), createWriteStream(`${plain}.gz`))
        .then(() => unlinkSync(plain))
        .catch(() => undefined),
    );
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await Promise.all(this.rolls);
  }
}

export interface DataLoggerOptions {
  /** Diagnostic context for TEXT_MDC and JSON_ECS (the reference's MDC: process, task, ...). */
  context?: () => Record<string, string>;
  now?: () => Date;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export interface ClosableDataLogger extends DataLogger {
  /** Closes the file and waits for rolled files to be compressed. */
  close(): Promise<void>;
}

export function createDataLogger(config: DataLoggerConfig, options: DataLoggerOptions = {}): ClosableDataLogger {
  const enabled = Boolean(config.file || config.consoleOut || config.consoleErr);
  const file = config.file ? new RollingFile(config.directory) : undefined;
  const now = options.now ?? (() => new Date());
  const stdout = options.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = options.stderr ?? ((text: string) => void process.stderr.write(text));

  return {
    isEnabled: () => enabled,
    log(message, data) {
      if (!enabled || message === null || message === undefined) return;
      const text = `${message}: ${formatData(data)}`;
      const time = now();
      const context = options.context?.() ?? {};
      if (config.file) file!.write(formatLine(config.file, time, text, context), time);
      if (config.consoleOut) stdout(formatLine(config.consoleOut, time, text, context));
      if (config.consoleErr) stderr(formatLine(config.consoleErr, time, text, context));
    },
    close: async () => file?.close(),
  };
}
