// The logger of one request (req.log), made only when something is logged through it: a pino child
// per request cost a measurable share of a FHIR read, and most requests log nothing but their request
// line, which goes through the parent with the request's bindings first (the same bytes a child writes).
import type { FastifyBaseLogger } from 'fastify';
import { directLineWriter, type LineFields, type LineWriter } from './request-line.ts';

type Bindings = Record<string, unknown>;
type LogFn = (...args: unknown[]) => void;

export class RequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: Record<string, unknown>,
    /** Makes the real child (the parent's own child()). */
    private readonly makeChild: (bindings: Bindings, options: Record<string, unknown>) => FastifyBaseLogger,
    /** Writes the parent's info lines directly (request-line.ts), when it can. */
    private readonly writeLine?: LineWriter,
  ) {}

  /** The pino child, made on first use. */
  private get real(): FastifyBaseLogger {
    return (this.made ??= this.makeChild(this.bindings, this.options));
  }

  get level(): string {
    return this.real.level;
  }
  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as LogFn)(...args);
  }
  error(...args: unknown[]): void {
    (this.real.error as LogFn)(...args);
  }
  warn(...args: unknown[]): void {
    (this.real.warn as LogFn)(...args);
  }
  info(...args: unknown[]): void {
    (this.real.info as LogFn)(...args);
  }
  debug(...args: unknown[]): void {
    (this.real.debug as LogFn)(...args);
  }
  trace(...args: unknown[]): void {
    (this.real.trace as LogFn)(...args);
  }
  silent(...args: unknown[]): void {
    (this.real.silent as LogFn)(...args);
  }
  child(bindings: Bindings, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  /**
   * An info line with these fields, as the child would write it, without making the child: its
   * bindings are written first, as pino writes a child's. Only when the child has no options of its
   * own (a level or serializers of the route); otherwise through the child.
   */
  infoLine(fields: LineFields, msg: string): void {
    if (this.made || Object.keys(this.options).length) return this.real.info(fields, msg);
    if (this.writeLine?.(this.bindings, fields, msg)) return;
    this.parent.info(Object.assign({}, this.bindings, fields), msg);
  }
}

/**
 * Makes the children of fastify's own logger (one per request: fastify asks its logger for a child
 * with the request id) RequestLoggers. Done on the logger rather than with fastify's
 * childLoggerFactory option: fastify checks every child of a factory of its own (an array and seven
 * lookups per request), but not those of its default one, which calls child().
 */
/** lineKeys: the keys of request lines (bindings and fields) that may be written without pino's generic path. */
export function lazyChildrenOf(logger: FastifyBaseLogger, lineKeys: readonly string[] = []): void {
  const child = logger.child as (this: FastifyBaseLogger, bindings: Bindings, options?: Record<string, unknown>) => FastifyBaseLogger;
  // Request lines of the logger's own children (not of grandchildren: their parent has bindings of its own) written directly.
  const writeLine = directLineWriter(logger, lineKeys);
  // `this`: pino's children inherit this method from the logger, and each must stay the parent of its own children.
  (logger as { child: unknown }).child = function lazyChild(this: FastifyBaseLogger, bindings: Bindings, options?: Record<string, unknown>) {
    const parent = this;
    return new RequestLogger(parent, bindings, options ?? {}, (b, o) => child.call(parent, b, o), parent === logger ? writeLine : undefined) as unknown as FastifyBaseLogger;
  };
}

/** An info line of the request, through its logger (a RequestLogger: without making a child). */
export function logRequestLine(log: FastifyBaseLogger, fields: LineFields, msg: string): void {
  if (log instanceof RequestLogger) log.infoLine(fields, msg);
  else log.info(fields, msg);
}
