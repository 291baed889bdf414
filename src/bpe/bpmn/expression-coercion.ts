// JUEL's type coercions (EL spec 1.8 and 1.18) adapted to JavaScript values: JS has one number type, so
// Long/Double distinctions collapse; Date, Map, Set and arrays stand in for their Java counterparts.
import { ExpressionError } from './expression-error.ts';

const NUMERIC_TEXT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

export function isNumber(value: unknown): value is number | bigint {
  return typeof value === 'number' || typeof value === 'bigint';
}

export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** null and '' become 0, numeric strings their number; booleans and other values cannot be coerced. */
export function toNumber(value: unknown, source: string): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return 0;
    if (NUMERIC_TEXT.test(trimmed)) return Number(trimmed);
    throw new ExpressionError(source, `Cannot coerce '${value}' to a number`);
  }
  throw new ExpressionError(source, `Cannot coerce ${describeType(value)} to a number`);
}

/** null and '' become false, strings are true only when equal to 'true' ignoring case. */
export function toBoolean(value: unknown, source: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.toLowerCase() === 'true';
  throw new ExpressionError(source, `Cannot coerce ${describeType(value)} to a boolean`);
}

/** The text a value contributes to a composite expression (`abc ${x}`); null contributes ''. */
export function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(toText).join(', ')}]`;
  if (value instanceof Set) return `[${[...value].map(toText).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${toText(k)}=${toText(v)}`).join(', ')}}`;
  if (typeof (value as { toString?: unknown }).toString === 'function' && value.toString !== Object.prototype.toString) {
    return String(value);
  }
  return JSON.stringify(value);
}

/** JUEL's `empty`: null, '', and collections, maps and plain objects without entries. */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (value instanceof Map || value instanceof Set) return value.size === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * `==` per EL: identical values are equal, null equals only null; if either side is a number both are
 * compared as numbers, else if either is a boolean both as booleans, else if either is a string both as
 * strings; otherwise Java-style equals (dates by instant, everything else by identity).
 */
export function looseEquals(left: unknown, right: unknown, source: string): boolean {
  if (left === undefined) left = null;
  if (right === undefined) right = null;
  if (left === right) return true;
  if (left === null || right === null) return false;
  if (isNumber(left) || isNumber(right)) return toNumber(left, source) === toNumber(right, source);
  if (typeof left === 'boolean' || typeof right === 'boolean') return toBoolean(left, source) === toBoolean(right, source);
  // Any value coerces to a string (Java's toString), so this comparison never fails.
  if (typeof left === 'string' || typeof right === 'string') return toText(left) === toText(right);
  if (left instanceof Date && right instanceof Date) return left.getTime() === right.getTime();
  return false;
}

/**
 * Ordering for `<`, `>`, `<=`, `>=`: null against anything is unordered (the comparison is false);
 * numbers (or a number and a numeric string) numerically, strings lexically, dates by instant,
 * booleans false < true. Returns negative, zero or positive, or null when unordered.
 */
export function compareValues(left: unknown, right: unknown, source: string): number | null {
  if (left === undefined) left = null;
  if (right === undefined) right = null;
  if (left === null || right === null) return null;
  if (isNumber(left) || isNumber(right)) {
    const a = toNumber(left, source);
    const b = toNumber(right, source);
    if (Number.isNaN(a) || Number.isNaN(b)) return null;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  if (left instanceof Date && right instanceof Date) return Math.sign(left.getTime() - right.getTime());
  if (typeof left === 'boolean' && typeof right === 'boolean') return Number(left) - Number(right);
  throw new ExpressionError(source, `Cannot compare ${describeType(left)} with ${describeType(right)}`);
}
