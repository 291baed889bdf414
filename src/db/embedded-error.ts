// The one error embedded PostgreSQL start-up raises: what failed, PostgreSQL's own last log lines and
// what an operator can do about it. Commands print its message without a stack trace.

export class EmbeddedPostgresError extends Error {
  constructor(
    readonly what: string,
    readonly postgresLog: readonly string[],
    readonly hint: string,
  ) {
    super(formatMessage(what, postgresLog, hint));
    this.name = 'EmbeddedPostgresError';
  }
}

function formatMessage(what: string, log: readonly string[], hint: string): string {
  const lines = [`Embedded PostgreSQL could not start: ${what}`];
  if (log.length) lines.push('PostgreSQL said:', ...log.map((l) => `  ${l}`));
  lines.push(`What to do: ${hint}`);
  return lines.join('\n');
}

/** Keeps the last lines a child process wrote, for error messages. */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly max = 40,
    private readonly forward?: (line: string) => void,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.add(l);
  }

  private add(line: string): void {
    const l = line.trimEnd();
    if (!l) return;
    this.forward?.(l);
    this.lines.push(l);
    if (this.lines.length > this.max) this.lines.shift();
  }

  /** Lines so far, including an unterminated last one. */
  snapshot(): string[] {
    return this.partial.trim() ? [...this.lines, this.partial.trimEnd()] : [...this.lines];
  }

  includes(text: string): boolean {
    return this.lines.some((l) => l.includes(text)) || this.partial.includes(text);
  }
}
