// Reads typed settings from the environment. Every variable may also be given as <NAME>_FILE
// (Docker secrets style). Problems are collected so a bad configuration is reported all at once.
import { readFileSync } from 'node:fs';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export class ConfigReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  /** The raw value of NAME, or the trimmed content of the file named by NAME_FILE. */
  raw(name: string): string | undefined {
    const direct = this.env[name];
    if (direct !== undefined && direct !== '') return direct;
    const file = this.env[`${name}_FILE`];
    if (file) {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (e) {
        this.problems.push(`${name}_FILE: cannot read ${file}: ${(e as Error).message}`);
      }
    }
    return undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string): string {
    const v = this.raw(name);
    if (v === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    return v;
  }

  int(name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got '${v}'`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    this.problems.push(`${name} must be true or false, got '${v}'`);
    return fallback;
  }

  list(name: string): string[] {
    const v = this.raw(name);
    return v === undefined ? [] : v.split(/[,\s]+/).filter(Boolean);
  }

  /** ISO-8601 duration such as PT2S, as milliseconds. */
  durationMs(name: string, fallback: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(v);
    if (!m || v === 'PT') {
      this.problems.push(`${name} must be an ISO-8601 duration like PT10S, got '${v}'`);
      return fallback;
    }
    return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  }

  check(): void {
    if (this.problems.length) throw new ConfigError(this.problems);
  }
}
