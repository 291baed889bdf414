// Reads typed settings from the environment. Every variable may also be given as <NAME>_FILE
// (Docker secrets style). Problems are collected so a bad configuration is reported all at once,
// each naming the variable, its value (not for secrets) and why it is refused. With a catalog (the
// server's table of variables, config-catalog.ts) only listed names may be read.
import { readFileSync } from 'node:fs';
import type { ConfigCatalog } from './config-catalog.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** ISO-8601 duration such as PT2S or PT1H30M as milliseconds; undefined when not one. */
export function parseDurationMs(v: string): number | undefined {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(v);
  if (!m || v === 'PT') return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

export class ConfigReader {
  readonly problems: string[] = [];
  /** Names read, and the fallback each typed read used (to check the catalog's defaults). */
  readonly read = new Set<string>();
  readonly fallbacks = new Map<string, string | number | boolean>();

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    readonly catalog?: ConfigCatalog,
  ) {}

  /** The raw value of NAME, or the trimmed content of the file named by NAME_FILE. */
  raw(name: string): string | undefined {
    if (this.catalog && !this.catalog.has(name)) throw new Error(`${name} is not in the table of ${this.catalog.title} variables`);
    this.read.add(name);
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

  /** A value as problems show it: quoted, or hidden for secrets. */
  shown(name: string, value: string): string {
    return this.catalog?.get(name)?.secret ? '(secret, not shown)' : `'${value}'`;
  }

  private fallback<T extends string | number | boolean | undefined>(name: string, value: T): T {
    if (value !== undefined) this.fallbacks.set(name, value);
    return value;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? this.fallback(name, fallback);
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
    if (v === undefined) return this.fallback(name, fallback);
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got ${this.shown(name, v)}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return this.fallback(name, fallback);
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    this.problems.push(`${name} must be true or false, got ${this.shown(name, v)}`);
    return fallback;
  }

  list(name: string): string[] {
    const v = this.raw(name);
    return v === undefined ? [] : v.split(/[,\s]+/).filter(Boolean);
  }

  /** ISO-8601 duration such as PT10S, as milliseconds. */
  durationMs(name: string, fallback: number): number {
    const v = this.raw(name);
    if (v === undefined) return this.fallback(name, fallback);
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      this.problems.push(`${name} must be an ISO-8601 duration like PT10S, got ${this.shown(name, v)}`);
      return fallback;
    }
    return ms;
  }

  check(): void {
    if (this.problems.length) throw new ConfigError(this.problems);
  }
}
